import { loadConfig } from '../../config/env.ts';
import { findTenantBySlug } from '../../tenants/tenant-admin.ts';
import { countTenantRows, removeTenant, type TenantRows } from '../../tenants/tenant-removal.ts';
import { withDatabase } from './cli-database.ts';
import { type CliCommand, formatTable, requiredString } from './cli-kit.ts';

const tableOf = (rows: TenantRows[]) =>
  formatTable(
    ['TABLE', 'ROWS'],
    rows.map((row) => [row.table, String(row.rows)]),
  ).map((line) => `  ${line}`);

export const tenantRemove: CliCommand = {
  name: 'tenant:remove',
  summary: 'delete a coach and ALL their data (dry run without --yes)',
  help: `Usage: npm run cli -- tenant:remove --slug <slug> [--yes]

Deletes a tenant and every row of its data (users, surveys, plans, payments, audit log, ...) in
one transaction. Without --yes it only prints how many rows each table holds for the tenant and
exits with code 2. The default tenant cannot be removed.

Options:
  --slug <slug>  the tenant to delete
  --yes          really delete
  -h, --help     this help`,
  options: { slug: { type: 'string' }, yes: { type: 'boolean' } },
  async run(values, io) {
    const slug = requiredString(values, 'slug');
    const config = loadConfig(io.env);
    return withDatabase(config, async (orm) => {
      const tenant = await findTenantBySlug(orm, slug);
      if (!values.yes) {
        const counts = await countTenantRows(orm, tenant.id);
        io.out(`Would delete tenant "${slug}" (${tenant.name}, ${tenant.id}) and:`);
        for (const line of tableOf(counts)) io.out(line);
        io.err('Nothing was deleted. Run again with --yes to delete all of it.');
        return 2;
      }
      const deleted = await removeTenant(orm, tenant.id);
      io.out(`Deleted tenant "${slug}" (${tenant.id}) and:`);
      for (const line of tableOf(deleted)) io.out(line);
      io.err('Delete the bot in @BotFather (or reuse it) if the coach is gone for good.');
      return 0;
    });
  },
};
