// The folder the integration suite opens: the notebooks of test/vscode/fixtures/,
// and for the Restricted Mode suite a notebook with saved outputs, written by
// the headless runner from the vanilla sample. Plain Node.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function prepareTestWorkspace(root: string, suite: 'main' | 'restricted', log: (line: string) => void = () => undefined): string {
  const workspace = mkdtempSync(join(tmpdir(), `aenb-vscode-${suite}-`));
  const fixtures = join(root, 'test', 'vscode', 'fixtures');
  for (const f of readdirSync(fixtures)) if (f.endsWith('.aenb')) copyFileSync(join(fixtures, f), join(workspace, f));
  if (suite === 'restricted') {
    log('running the vanilla sample headless for a notebook with saved outputs (saved.aenb)');
    const r = spawnSync(
      process.execPath,
      [join(root, 'dist', 'cli.js'), 'run', join(root, 'samples', 'vanilla-mnist.aenb'), '--set', 'epochs=2', '--set', 'trainSamples=1024', '--set', 'nImages=3', '--quiet', '--out', join(workspace, 'saved.aenb')],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`The headless runner could not write saved.aenb (exit ${r.status}): ${r.stderr || r.stdout}`);
  }
  return workspace;
}
