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

// The Mini App and the panel (web/) are built by Vite into dist/web, which the web process serves.
// Rebuilt only when their sources or the lock file changed since the last build.
const { createHash } = await import('node:crypto');
const { readdirSync, readFileSync, statSync } = await import('node:fs');
const { join } = await import('node:path');

function sourceHash() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(path).update(readFileSync(path));
    }
  };
  walk('web');
  hash.update(readFileSync('package-lock.json'));
  return hash.digest('hex');
}

const stamp = 'dist/web/.source-hash';
const current = sourceHash();
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== current) {
  process.stdout.write('Building the Mini App and the panel (web/ → dist/web) ...\n');
  const build = spawnSync('npm', ['run', '-s', 'build:web'], { stdio: 'inherit' });
  if (build.status !== 0) {
    process.stderr.write('Building the pages failed: see the output above.\n');
    process.exit(build.status ?? 1);
  }
  const { writeFileSync } = await import('node:fs');
  writeFileSync(stamp, current);
}
