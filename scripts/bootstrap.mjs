// Makes a fresh clone ready to build, test and run the demo: installs the npm
// packages (npm ci) when node_modules is missing or older than the lock file,
// and the system packages the job needs (scripts/setup-system.sh) when they
// are missing. Runs before `npm test` (`bootstrap.mjs test`: also Chromium and
// what code-server's install builds) and `npm run demo` (`bootstrap.mjs demo`:
// the data only); fast when everything is there.
//   node scripts/bootstrap.mjs [test|demo] [--dry-run]   (--dry-run: say, do not do)
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
const job = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'test';
if (job !== 'test' && job !== 'demo') throw new Error(`bootstrap.mjs: unknown job "${job}"; use test or demo.`);
const dryRun = process.argv.includes('--dry-run');
const run = (cmd, args) => (dryRun ? console.log(`[bootstrap] would run: ${cmd} ${args.join(' ')}`) : execFileSync(cmd, args, { cwd: root, stdio: 'inherit' }));

if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  console.log('[bootstrap] installing npm packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
if (process.platform === 'linux' && !process.env.AENB_SKIP_SYSTEM_SETUP) {
  try {
    run('bash', [join(root, 'scripts', 'setup-system.sh'), job]);
  } catch {
    console.warn('[bootstrap] system packages could not be installed; see scripts/setup-system.sh. Continuing.');
  }
}
