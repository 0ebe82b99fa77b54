import { Migration } from '@mikro-orm/migrations';

/**
 * Tenants get what makes them a coach of their own: a URL slug, their bot (token and webhook
 * secret sealed with TENANT_SECRET_KEY, never stored in clear), a digest of their bot API secret
 * and their AI budget. The default tenant is `default`; its bot stays in TELEGRAM_BOT_TOKEN unless
 * an operator stores one. bot_id (the token's numeric prefix) is unique: two tenants cannot share
 * one bot, whose updates could only go to one of them.
 */
export class Migration20261204000000Tenants extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "tenant"
      add column "slug" varchar(40) null,
      add column "bot_id" bigint null,
      add column "bot_username" varchar(64) null,
      add column "bot_token_sealed" text null,
      add column "webhook_secret_sealed" text null,
      add column "bot_api_secret_digest" varchar(64) null,
      add column "ai_requests_per_minute" int null,
      add column "ai_plans_per_day" int null,
      add column "updated_at" timestamptz not null default now();`);
    this.addSql(
      `update "tenant" set "slug" = 'default' where "id" = '00000000-0000-4000-8000-000000000001';`,
    );
    this.addSql(
      `update "tenant" set "slug" = 't-' || substr(replace("id"::text, '-', ''), 1, 12) where "slug" is null;`,
    );
    this.addSql(`alter table "tenant" alter column "slug" set not null;`);
    this.addSql(`alter table "tenant" add constraint "tenant_slug_unique" unique ("slug");`);
    this.addSql(`alter table "tenant" add constraint "tenant_slug_check"
      check ("slug" ~ '^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$');`);
    this.addSql(`alter table "tenant" add constraint "tenant_bot_id_unique" unique ("bot_id");`);
    this.addSql(`alter table "tenant" add constraint "tenant_ai_budget_check"
      check (coalesce("ai_requests_per_minute", 1) > 0 and coalesce("ai_plans_per_day", 1) > 0);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "tenant" drop column "slug", drop column "bot_id", drop column "bot_username",
      drop column "bot_token_sealed", drop column "webhook_secret_sealed", drop column "bot_api_secret_digest",
      drop column "ai_requests_per_minute", drop column "ai_plans_per_day", drop column "updated_at";`);
  }
}
