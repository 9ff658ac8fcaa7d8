// The main job: runs the three sample notebooks headless on the embedded default
// backend (WebAssembly) with a few epochs, and writes the executed notebooks
// and their HTML reports to demo-output/.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'demo-output');
const epochs = process.env.DEMO_EPOCHS ?? '3';
mkdirSync(out, { recursive: true });
for (const name of ['vanilla-mnist', 'stacked-fashion-mnist', 'denoising-conv-fashion-mnist']) {
  console.log(`\n=== ${name}: ${epochs} epochs on the wasm backend ===`);
  execFileSync(
    process.execPath,
    [
      join(root, 'dist', 'cli.js'), 'run', join(root, 'samples', `${name}.aenb`),
      '--backend', 'wasm', '--set', `epochs=${epochs}`,
      '--out', join(out, `${name}.aenb`), '--html', join(out, `${name}.html`),
    ],
    { stdio: 'inherit' },
  );
}
console.log(`\nExecuted notebooks and HTML reports are in ${out}`);
