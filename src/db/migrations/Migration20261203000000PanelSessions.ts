import { Migration } from '@mikro-orm/migrations';

/**
 * Trainer panel browser sessions (Telegram Login Widget → cookie). The key is the SHA-256 of the
 * cookie's token, never the token; expired rows are swept by expires_at.
 */
export class Migration20261203000000PanelSessions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "panel_session" ("token_hash" text not null,
      "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "telegram_id" bigint not null, "created_at" timestamptz not null, "expires_at" timestamptz not null,
      "user_agent" varchar(256) null, primary key ("token_hash"),
      constraint "panel_session_token_hash_check" check ("token_hash" ~ '^[0-9a-f]{64}$'));`);
    this.addSql(`create index "panel_session_expires_at_index" on "panel_session" ("expires_at");`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "panel_session";');
  }
}
