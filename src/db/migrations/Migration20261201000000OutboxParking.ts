import { Migration } from '@mikro-orm/migrations';

/**
 * The outbox parks rows it cannot publish (an unknown job, a payload that fails its schema) instead
 * of retrying them first on every pass; a statement trigger wakes every relay when rows commit.
 * Admins can turn off their "new application" messages.
 */
export class Migration20261201000000OutboxParking extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "outbox" add column "next_attempt_at" timestamptz null, add column "parked_at" timestamptz null;`,
    );
    this.addSql(`drop index if exists "outbox_unpublished_index";`);
    this.addSql(
      `create index "outbox_pending_index" on "outbox" ("id") where "published_at" is null and "parked_at" is null;`,
    );
    this.addSql(
      `create index "outbox_parked_index" on "outbox" ("parked_at") where "parked_at" is not null;`,
    );
    // NOTIFY is delivered at commit, and only if the transaction commits: exactly "after commit".
    this.addSql(`create or replace function "outbox_notify"() returns trigger language plpgsql as $$
      begin perform pg_notify('outbox', ''); return null; end $$;`);
    this.addSql(
      `create trigger "outbox_notify" after insert on "outbox" for each statement execute function "outbox_notify"();`,
    );
    this.addSql(
      `alter table "telegram_user" add column "notify_new_applications" boolean not null default true;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql('alter table "telegram_user" drop column if exists "notify_new_applications";');
    this.addSql('drop trigger if exists "outbox_notify" on "outbox";');
    this.addSql('drop function if exists "outbox_notify"();');
    this.addSql('drop index if exists "outbox_parked_index";');
    this.addSql('drop index if exists "outbox_pending_index";');
    this.addSql(`create index "outbox_unpublished_index" on "outbox" ("id") where "published_at" is null;`);
    this.addSql(
      'alter table "outbox" drop column if exists "parked_at", drop column if exists "next_attempt_at";',
    );
  }
}
