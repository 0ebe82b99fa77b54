import { loadConfig } from '../../config/env.ts';
import { readOutboxStatus } from '../../queue/outbox-status.ts';
import { withDatabase } from './cli-database.ts';
import type { CliCommand } from './cli-kit.ts';

export const outboxStatus: CliCommand = {
  name: 'outbox:status',
  summary: 'how much work waits in the outbox, how old it is, how much is parked',
  help: `Usage: npm run cli -- outbox:status [--json]

Shows, for all tenants together, the outbox rows not yet published to the queues, the age of the
oldest one, and the rows parked for an operator (see docs/architecture.md). A growing age with
pending rows means no process is relaying (is Redis up? is any process running?).

Options:
  --json      one JSON object, for scripts and checks
  -h, --help  this help`,
  options: { json: { type: 'boolean' } },
  async run(values, io) {
    const config = loadConfig(io.env);
    const status = await withDatabase(config, (orm) => readOutboxStatus(orm.em.fork({ clear: true })));
    if (values.json) {
      io.out(JSON.stringify(status));
      return 0;
    }
    io.out(`pending: ${status.pending}`);
    io.out(`oldest pending: ${Math.round(status.oldestAgeSeconds)} s`);
    io.out(`parked: ${status.parked}`);
    return 0;
  },
};
