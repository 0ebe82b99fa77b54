// Runs before `npm start` / `npm test` (on whatever Node runs npm): on a fresh clone it installs the
// locked dependencies first, so the README's two commands work without a separate install step.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const ready = existsSync('node_modules/.bin/tsx') && existsSync('node_modules/.bin/node');
if (!ready) {
  process.stdout.write('Dependencies are not installed yet: running `npm ci` first ...\n');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(
      '`npm ci` failed: see the output above (Node.js and npm from the npm registry are required).\n',
    );
    process.exit(result.status ?? 1);
  }
}
