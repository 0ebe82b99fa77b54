import { Migration } from '@mikro-orm/migrations';

/** Precomputed panel metrics, and the indexes that keep their windowed aggregates off full scans. */
export class Migration20261127030000Metrics extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "metrics_snapshot" (
      "tenant_id" uuid not null references "tenant" ("id") on delete cascade deferrable initially deferred,
      "computed_at" timestamptz not null, "data" jsonb not null, primary key ("tenant_id"));`);
    // DAU/WAU/MAU: a range over last_seen_at. Only active users have a recent value, so the scan is
    // as small as the 30-day audience, not the whole user table.
    this.addSql(`create index "telegram_user_tenant_id_last_seen_at_index" on "telegram_user" ("tenant_id", "last_seen_at")
      where "last_seen_at" is not null;`);
    // Accepted/rejected per window count decisions by decided_at (created_at has its own index).
    this.addSql(`create index "application_tenant_id_decided_at_index" on "application" ("tenant_id", "decided_at")
      where "decided_at" is not null;`);
    // Plans generated/failed over the last 30 days.
    this.addSql(
      `create index "personal_plan_tenant_id_created_at_index" on "personal_plan" ("tenant_id", "created_at");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists "personal_plan_tenant_id_created_at_index";');
    this.addSql('drop index if exists "application_tenant_id_decided_at_index";');
    this.addSql('drop index if exists "telegram_user_tenant_id_last_seen_at_index";');
    this.addSql('drop table if exists "metrics_snapshot";');
  }
}
