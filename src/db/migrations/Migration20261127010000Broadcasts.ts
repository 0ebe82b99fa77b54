import { Migration } from '@mikro-orm/migrations';

/** Coach broadcasts, their per-recipient notifications, and the audit log of admin actions. */
export class Migration20261127010000Broadcasts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "broadcast" ("id" uuid not null,
      "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "created_by" uuid not null references "telegram_user" ("id") deferrable initially deferred,
      "text" text not null, "segment" text not null, "status" text not null default 'fanning_out',
      "total" int not null default 0, "cursor" uuid null, "created_at" timestamptz not null,
      "fanned_out_at" timestamptz null, primary key ("id"),
      constraint "broadcast_segment_check" check ("segment" in ('clients', 'applicants', 'all')),
      constraint "broadcast_status_check" check ("status" in ('fanning_out', 'sending', 'completed')));`);
    this.addSql(`alter table "notification" add column "broadcast_id" uuid null
      references "broadcast" ("id") on delete cascade deferrable initially deferred;`);
    // Progress of a broadcast is a grouped count over its notifications.
    this.addSql(`create index "notification_broadcast_id_status_index" on "notification" ("broadcast_id", "status")
      where "broadcast_id" is not null;`);
    this.addSql(`create table "audit_log" ("id" uuid not null,
      "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "actor_id" uuid not null, "action" varchar(64) not null, "target_type" varchar(32) not null,
      "target_id" varchar(64) null, "details" jsonb null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(
      `create index "audit_log_tenant_id_created_at_id_index" on "audit_log" ("tenant_id", "created_at", "id");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "audit_log";');
    this.addSql('alter table "notification" drop column if exists "broadcast_id";');
    this.addSql('drop table if exists "broadcast";');
  }
}
