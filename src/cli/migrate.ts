import { loadConfig } from '../config/env.ts';
import { createOrm, migrateUp } from '../db/orm.ts';
import { exitOnBootError } from '../processes/run-until-signal.ts';

try {
  const config = loadConfig();
  if (!config.database.url) throw new Error('Invalid DATABASE_URL: required for migrations');
  const orm = await createOrm({ url: config.database.url });
  const applied = await migrateUp(orm);
  process.stdout.write(
    applied.length ? `Applied migrations: ${applied.join(', ')}\n` : 'Database is up to date.\n',
  );
  await orm.close();
} catch (error) {
  exitOnBootError(error);
}
