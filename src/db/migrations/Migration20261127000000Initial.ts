import { Migration } from '@mikro-orm/migrations';

/**
 * The core-flow schema. Every table carries tenant_id; the default tenant row is created here.
 * Foreign keys are deferred to commit: entities reference each other by id columns, so the unit of
 * work does not know an insert order, and the transaction as a whole is what must be consistent.
 */
export class Migration20261127000000Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "tenant" ("id" uuid not null, "name" varchar(200) not null,
      "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(
      `insert into "tenant" ("id", "name") values ('00000000-0000-4000-8000-000000000001', 'Default');`,
    );

    this.addSql(`create table "telegram_user" ("id" uuid not null, "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "telegram_id" bigint not null, "first_name" varchar(256) not null default '', "last_name" varchar(256) null,
      "username" varchar(64) null, "language_code" varchar(16) null, "is_premium" boolean not null default false,
      "role" text null, "is_client" boolean not null default false, "unreachable_at" timestamptz null,
      "last_seen_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null,
      primary key ("id"),
      constraint "telegram_user_tenant_id_telegram_id_unique" unique ("tenant_id", "telegram_id"),
      constraint "telegram_user_role_check" check ("role" in ('owner', 'trainer', 'support')));`);

    this.addSql(`create table "survey" ("id" uuid not null, "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "user_id" uuid not null references "telegram_user" ("id") on delete cascade deferrable initially deferred, "answers" jsonb not null,
      "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(
      `create index "survey_tenant_id_user_id_created_at_index" on "survey" ("tenant_id", "user_id", "created_at");`,
    );

    this.addSql(`create table "application" ("id" uuid not null, "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "user_id" uuid not null references "telegram_user" ("id") on delete cascade deferrable initially deferred,
      "survey_id" uuid not null references "survey" ("id") on delete cascade deferrable initially deferred,
      "status" text not null default 'new', "decided_at" timestamptz null, "decided_by" uuid null,
      "created_at" timestamptz not null, primary key ("id"),
      constraint "application_survey_id_unique" unique ("survey_id"),
      constraint "application_status_check" check ("status" in ('new', 'accepted', 'rejected')));`);
    this.addSql(
      `create index "application_tenant_id_created_at_id_index" on "application" ("tenant_id", "created_at", "id");`,
    );
    this.addSql(
      `create index "application_tenant_id_status_created_at_id_index" on "application" ("tenant_id", "status", "created_at", "id");`,
    );

    this.addSql(`create table "personal_plan" ("id" uuid not null, "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "user_id" uuid not null references "telegram_user" ("id") on delete cascade deferrable initially deferred,
      "survey_id" uuid not null references "survey" ("id") on delete cascade deferrable initially deferred,
      "status" text not null default 'queued', "content" jsonb null, "error" text null, "provider" varchar(32) null,
      "attempts" int not null default 0, "created_at" timestamptz not null, "started_at" timestamptz null,
      "ready_at" timestamptz null, "updated_at" timestamptz not null, primary key ("id"),
      constraint "personal_plan_survey_id_unique" unique ("survey_id"),
      constraint "personal_plan_status_check" check ("status" in ('queued', 'generating', 'ready', 'failed')));`);
    this.addSql(
      `create index "personal_plan_tenant_id_user_id_created_at_index" on "personal_plan" ("tenant_id", "user_id", "created_at");`,
    );
    // Only unfinished plans are scanned by the reconciler, so the index stays tiny.
    this.addSql(`create index "personal_plan_unfinished_index" on "personal_plan" ("updated_at")
      where "status" in ('queued', 'generating');`);

    this.addSql(`create table "outbox" ("id" bigserial primary key, "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "queue" varchar(64) not null, "job_name" varchar(128) not null, "job_id" varchar(200) not null,
      "payload" jsonb not null, "attempts" int not null default 0, "last_error" text null,
      "created_at" timestamptz not null, "published_at" timestamptz null,
      constraint "outbox_job_id_unique" unique ("job_id"));`);
    this.addSql(`create index "outbox_unpublished_index" on "outbox" ("id") where "published_at" is null;`);

    this.addSql(`create table "notification" ("id" uuid not null, "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "user_id" uuid not null references "telegram_user" ("id") on delete cascade deferrable initially deferred, "chat_id" bigint not null,
      "kind" varchar(64) not null, "dedupe_key" varchar(200) not null, "text" text not null, "button" jsonb null,
      "status" text not null default 'pending', "telegram_message_id" bigint null, "error" text null,
      "attempts" int not null default 0, "created_at" timestamptz not null, "sent_at" timestamptz null,
      "updated_at" timestamptz not null, primary key ("id"),
      constraint "notification_tenant_id_dedupe_key_unique" unique ("tenant_id", "dedupe_key"),
      constraint "notification_status_check" check ("status" in ('pending', 'sending', 'sent', 'failed', 'uncertain')));`);
    this.addSql(`create index "notification_unfinished_index" on "notification" ("updated_at")
      where "status" in ('pending', 'sending');`);
    this.addSql(`create index "notification_user_id_index" on "notification" ("user_id");`);
  }

  override async down(): Promise<void> {
    for (const table of [
      'notification',
      'outbox',
      'personal_plan',
      'application',
      'survey',
      'telegram_user',
      'tenant',
    ]) {
      this.addSql(`drop table if exists "${table}" cascade;`);
    }
  }
}
