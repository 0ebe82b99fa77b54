import { Migration } from '@mikro-orm/migrations';

/** Mini App test/check-in results; and which owner roles come from TELEGRAM_ADMINS (so removal revokes). */
export class Migration20261127040000TestResults extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "test_result" ("id" uuid not null,
      "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "user_id" uuid not null references "telegram_user" ("id") on delete cascade deferrable initially deferred,
      "kind" text not null, "recorded_at" timestamptz not null, "results" jsonb not null, "notes" text null,
      "created_at" timestamptz not null, primary key ("id"),
      constraint "test_result_kind_check" check ("kind" in ('fitness_test', 'check_in')));`);
    this.addSql(
      `create index "test_result_tenant_id_user_id_recorded_at_index" on "test_result" ("tenant_id", "user_id", "recorded_at");`,
    );
    this.addSql(`alter table "telegram_user" add column "role_from_config" boolean not null default false;`);
  }

  override async down(): Promise<void> {
    this.addSql('alter table "telegram_user" drop column if exists "role_from_config";');
    this.addSql('drop table if exists "test_result";');
  }
}
