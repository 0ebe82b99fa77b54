import { Migration } from '@mikro-orm/migrations';

/** Trainer panel: locally stored subscriptions, and indexes for the panel's keyset-paged lists. */
export class Migration20261127020000Panel extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "subscription" ("id" uuid not null,
      "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "user_id" uuid not null references "telegram_user" ("id") on delete cascade deferrable initially deferred,
      "plan_name" varchar(200) not null, "status" text not null, "price_cents" int not null,
      "currency" varchar(3) not null, "current_period_end" timestamptz null,
      "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"),
      constraint "subscription_user_id_unique" unique ("user_id"),
      constraint "subscription_status_check" check ("status" in ('active', 'past_due', 'canceled')),
      constraint "subscription_price_cents_check" check ("price_cents" >= 0));`);
    // The client list pages newest first over clients only; partial, so applicants cost nothing.
    this.addSql(`create index "telegram_user_clients_index" on "telegram_user" ("tenant_id", "created_at", "id")
      where "is_client";`);
    // Admin listing and the last-owner lock read the few users that have a role.
    this.addSql(`create index "telegram_user_role_index" on "telegram_user" ("tenant_id", "role")
      where "role" is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists "telegram_user_role_index";');
    this.addSql('drop index if exists "telegram_user_clients_index";');
    this.addSql('drop table if exists "subscription";');
  }
}
