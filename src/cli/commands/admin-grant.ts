import { loadConfig } from '../../config/env.ts';
import { ADMIN_ROLES, type AdminRole } from '../../db/entities/telegram-user.entity.ts';
import { DEFAULT_TENANT_ID, forkForTenant } from '../../db/orm.ts';
import { setAdminRole } from '../../domain/admins.ts';
import { OPERATOR_ACTOR_ID } from '../../tenants/operator-actor.ts';
import { findTenantBySlug } from '../../tenants/tenant-admin.ts';
import { withDatabase } from './cli-database.ts';
import { type CliCommand, requiredString, UsageError } from './cli-kit.ts';

const ROLE_CHOICES = [...ADMIN_ROLES, 'none'] as const;

export const adminGrant: CliCommand = {
  name: 'admin:grant',
  summary: `give a Telegram user a role in a coach's panel (${ROLE_CHOICES.join('|')})`,
  help: `Usage: npm run cli -- admin:grant --tenant <slug> --telegram-id <id> --role <${ROLE_CHOICES.join('|')}>

Grants, changes or (with --role none) revokes an admin role in one tenant, with the same rules as
the panel: the last owner cannot be demoted, and owners listed in TELEGRAM_ADMINS (default tenant
only) are changed there. The change is written to the tenant's audit log with the operator as
actor. The usual first step for a new coach: --role owner with the coach's Telegram id.

Options:
  --tenant <slug>     the tenant ("default" for the single-bot setup)
  --telegram-id <id>  the user's numeric Telegram id
  --role <role>       ${ROLE_CHOICES.join(', ')}
  -h, --help          this help`,
  options: { tenant: { type: 'string' }, 'telegram-id': { type: 'string' }, role: { type: 'string' } },
  async run(values, io) {
    const slug = requiredString(values, 'tenant');
    const telegramId = requiredString(values, 'telegram-id');
    if (!/^[1-9]\d{0,19}$/.test(telegramId)) {
      throw new UsageError(`--telegram-id must be a numeric Telegram user id, not "${telegramId}"`);
    }
    const roleName = requiredString(values, 'role');
    if (!(ROLE_CHOICES as readonly string[]).includes(roleName)) {
      throw new UsageError(`--role must be one of ${ROLE_CHOICES.join(', ')}, not "${roleName}"`);
    }
    const role = roleName === 'none' ? null : (roleName as AdminRole);
    const config = loadConfig(io.env);
    const change = await withDatabase(config, async (orm) => {
      const tenant = await findTenantBySlug(orm, slug);
      return setAdminRole(forkForTenant(orm, tenant.id), {
        tenantId: tenant.id,
        actorId: OPERATOR_ACTOR_ID,
        telegramId,
        role,
        configuredOwners: tenant.id === DEFAULT_TENANT_ID ? config.telegram.admins : [],
      });
    });
    const name = (value: AdminRole | null) => value ?? 'none';
    io.out(
      change.changed
        ? `Tenant "${slug}": ${telegramId} is now ${name(change.to)} (was ${name(change.from)}).`
        : `Tenant "${slug}": ${telegramId} already is ${name(change.to)}; nothing changed.`,
    );
    return 0;
  },
};
