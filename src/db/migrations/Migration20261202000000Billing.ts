import { Migration } from '@mikro-orm/migrations';

/**
 * Billing: plans a coach sells for Telegram Stars, the subscription each client has (paid in Stars
 * or mirrored from an external billing service), every Stars payment once per charge id, what
 * changed and when (for churn), and each tenant's sync position. Nothing ever wrote the old
 * `subscription` table, so it is replaced rather than migrated.
 */
export class Migration20261202000000Billing extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "subscription_plan" ("id" uuid not null,
      "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "title" varchar(32) not null, "description" varchar(255) not null,
      "price_stars" int not null, "period_days" int not null default 30,
      "status" text not null default 'active',
      "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"),
      constraint "subscription_plan_price_check" check ("price_stars" between 1 and 10000),
      constraint "subscription_plan_period_check" check ("period_days" = 30),
      constraint "subscription_plan_status_check" check ("status" in ('active', 'archived')));`);
    this.addSql(
      `create index "subscription_plan_tenant_index" on "subscription_plan" ("tenant_id", "status", "created_at");`,
    );

    this.addSql('drop table if exists "subscription";');
    this.addSql(`create table "subscription" ("id" uuid not null,
      "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "user_id" uuid not null references "telegram_user" ("id") on delete cascade deferrable initially deferred,
      "provider" text not null, "plan_id" uuid null references "subscription_plan" ("id"),
      "plan_title" varchar(200) not null, "status" text not null, "renews" boolean not null,
      "price" int not null, "currency" varchar(3) not null,
      "current_period_end" timestamptz null, "charge_id" text null,
      "started_at" timestamptz not null, "ended_at" timestamptz null,
      "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"),
      constraint "subscription_user_id_unique" unique ("user_id"),
      constraint "subscription_provider_check" check ("provider" in ('stars', 'http')),
      constraint "subscription_status_check" check ("status" in ('active', 'cancelled', 'expired', 'refunded')),
      constraint "subscription_price_check" check ("price" >= 0));`);
    // The sync's expiry sweep and the revenue metrics read live subscriptions by period end.
    this.addSql(`create index "subscription_live_index" on "subscription" ("tenant_id", "current_period_end")
      where "status" in ('active', 'cancelled');`);

    this.addSql(`create table "star_payment" (
      "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "charge_id" text not null,
      "user_id" uuid not null references "telegram_user" ("id") deferrable initially deferred,
      "subscription_id" uuid null references "subscription" ("id") on delete set null,
      "plan_id" uuid null references "subscription_plan" ("id"),
      "amount" int not null, "currency" varchar(3) not null, "invoice_payload" text not null,
      "is_recurring" boolean not null, "is_first_recurring" boolean not null,
      "expires_at" timestamptz null, "paid_at" timestamptz not null,
      "refunded_at" timestamptz null, "recorded_by" text not null,
      primary key ("tenant_id", "charge_id"));`);
    this.addSql(`create index "star_payment_user_index" on "star_payment" ("user_id", "paid_at");`);
    // Renewals carry the first payment's payload: after a bot token change it is recognised here.
    this.addSql(
      `create index "star_payment_payload_index" on "star_payment" ("tenant_id", "invoice_payload");`,
    );
    // One approved checkout per user at a time: two invoices paid at once would be two subscriptions.
    this.addSql(`create table "stars_checkout" (
      "user_id" uuid not null references "telegram_user" ("id") on delete cascade deferrable initially deferred,
      "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "query_id" text not null, "hold_until" timestamptz not null, primary key ("user_id"));`);

    this.addSql(`create table "subscription_event" ("id" uuid not null,
      "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "user_id" uuid not null references "telegram_user" ("id") on delete cascade deferrable initially deferred,
      "kind" text not null, "at" timestamptz not null, "source" text not null,
      "detail" jsonb not null default '{}', primary key ("id"),
      constraint "subscription_event_kind_check" check ("kind" in
        ('started', 'renewed', 'cancelled', 'expired', 'refunded', 'changed')));`);
    this.addSql(
      `create index "subscription_event_window_index" on "subscription_event" ("tenant_id", "at", "kind");`,
    );

    this.addSql(`create table "billing_sync_state" (
      "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "star_transactions_offset" int not null default 0,
      "last_success_at" timestamptz null, "last_failure_at" timestamptz null,
      "last_error" text null, primary key ("tenant_id"));`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "stars_checkout";');
    this.addSql('drop table if exists "billing_sync_state";');
    this.addSql('drop table if exists "subscription_event";');
    this.addSql('drop table if exists "star_payment";');
    this.addSql('drop table if exists "subscription";');
    this.addSql('drop table if exists "subscription_plan";');
    this.addSql(`create table "subscription" ("id" uuid not null,
      "tenant_id" uuid not null references "tenant" ("id") deferrable initially deferred,
      "user_id" uuid not null references "telegram_user" ("id") on delete cascade deferrable initially deferred,
      "plan_name" varchar(200) not null, "status" text not null, "price_cents" int not null,
      "currency" varchar(3) not null, "current_period_end" timestamptz null,
      "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"),
      constraint "subscription_user_id_unique" unique ("user_id"),
      constraint "subscription_status_check" check ("status" in ('active', 'past_due', 'canceled')),
      constraint "subscription_price_cents_check" check ("price_cents" >= 0));`);
  }
}
