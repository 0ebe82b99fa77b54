import { loadConfig } from '../../config/env.ts';
import { resealTenantSecrets } from '../../tenants/tenant-reseal.ts';
import { requireSecretBox, withDatabase } from './cli-database.ts';
import type { CliCommand } from './cli-kit.ts';

export const tenantReseal: CliCommand = {
  name: 'tenant:reseal',
  summary: 'after a TENANT_SECRET_KEY rotation: re-encrypt every bot token with the new key',
  help: `Usage: npm run cli -- tenant:reseal

Re-encrypts every sealed bot token and webhook secret with the current TENANT_SECRET_KEY. Run it
with the new key in TENANT_SECRET_KEY and the old one in TENANT_SECRET_KEY_PREVIOUS; afterwards
the old key can be dropped. Safe to run again. A value that no configured key opens is reported
and left untouched; the exit code is then 1.

Options:
  -h, --help  this help`,
  options: {},
  async run(_values, io) {
    const config = loadConfig(io.env);
    const box = requireSecretBox(config);
    const report = await withDatabase(config, (orm) => resealTenantSecrets(orm, box));
    io.out(
      `Resealed ${report.resealed} secret(s) with key ${box.currentKeyId}; ${report.current} already used it; ${report.unreadable.length} unreadable.`,
    );
    for (const value of report.unreadable) {
      io.err(`  cannot open ${value.field} of tenant "${value.slug}": ${value.problem} (left as it is)`);
    }
    if (report.unreadable.length > 0) {
      io.err('Add the key that sealed them to TENANT_SECRET_KEY_PREVIOUS and run tenant:reseal again.');
      return 1;
    }
    return 0;
  },
};
