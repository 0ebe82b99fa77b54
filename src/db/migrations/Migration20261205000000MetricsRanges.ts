import { Migration } from '@mikro-orm/migrations';

/**
 * The metrics' trial count reads the surveys of the last 30 days. The only survey index led with
 * (tenant_id, user_id), so that range was a walk over every survey of the tenant (the whole index
 * at 1M surveys); this one makes it a range of the window. user_id is included so the scan stays
 * index-only; the per-user "no earlier survey" probe keeps using the (tenant_id, user_id, created_at)
 * index.
 */
export class Migration20261205000000MetricsRanges extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "survey_tenant_id_created_at_index" on "survey" ("tenant_id", "created_at") include ("user_id");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists "survey_tenant_id_created_at_index";');
  }
}
