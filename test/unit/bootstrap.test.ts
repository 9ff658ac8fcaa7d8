// What the two README commands install on a fresh machine: `npm run demo`
// only what the demo needs (the data), `npm test` also the browser and what
// code-server's install builds. Checked through the scripts' dry runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const listFor = (job: string) => execFileSync('bash', [join(ROOT, 'scripts', 'setup-system.sh'), job, '--list'], { encoding: 'utf8' }).trim().split(/\s+/);
const bootstrap = (script: string) => {
  const m = /^node scripts\/bootstrap\.mjs( \w+)?$/.exec(script);
  assert.ok(m, `bootstrap.mjs runs first: ${script}`);
  const out = execFileSync(process.execPath, [join(ROOT, 'scripts', 'bootstrap.mjs'), ...(m[1] ? [m[1].trim()] : []), '--dry-run'], { encoding: 'utf8', env: { ...process.env, AENB_SKIP_SYSTEM_SETUP: '' } });
  const job = /setup-system\.sh (\w+)$/m.exec(out)?.[1];
  assert.ok(job, `bootstrap runs setup-system.sh for a job:\n${out}`);
  return job;
};

test('npm run demo installs the data it reads offline, not Chromium nor code-server\'s build tools', () => {
  const packages = listFor(bootstrap(scripts.predemo));
  assert.deepEqual(packages, ['dataset-fashion-mnist']);
});

test('npm test installs the browser and what installing code-server needs', () => {
  const packages = listFor(bootstrap(scripts.pretest));
  for (const p of ['dataset-fashion-mnist', 'chromium', 'libkrb5-dev', 'ripgrep', 'g++', 'make']) assert.ok(packages.includes(p), `${p} in ${packages.join(' ')}`);
});
