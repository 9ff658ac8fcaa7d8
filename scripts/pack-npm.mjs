// Builds the npm package of the headless runner, `autoencoder-notebooks`, as a
// tarball ready for `npm publish <tarball>`:
//
//   node scripts/pack-npm.mjs [--out DIR]     (npm run package:npm)
//
// The extension's package.json is VS Code's manifest (its dependencies are
// bundled, its `main` needs VS Code), so the npm package gets a manifest of
// its own, written here from the extension's name, version and metadata. It
// holds what `npx autoencoder-notebooks run notebook.aenb` runs and nothing
// else: the production bundles of the runner, the kernel, the HTML report and
// the renderer (for --html), the language service and the cell types (for
// `check`), the WebAssembly binaries, the samples, a README and the
// license. No dependencies: everything is bundled. @tensorflow/tfjs-node, the
// optional native backend, is an optional peer: installed beside the package,
// the runner uses it.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const outDir = resolve(outArg >= 0 ? process.argv[outArg + 1] : root);
const ext = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const stage = join(root, '.cache', 'npm-package', ext.name);

rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--production', '--dist', join(stage, 'dist')], { cwd: root, stdio: 'inherit' });
// The extension host's bundle and the TypeScript server plugin (VS Code's) are not part of the runner.
for (const name of ['extension.js', 'tsserver-plugin.js']) rmSync(join(stage, 'dist', name), { force: true });
cpSync(join(root, 'samples'), join(stage, 'samples'), { recursive: true, filter: (src) => !src.includes('/data') });
copyFileSync(join(root, 'LICENSE'), join(stage, 'LICENSE'));
copyFileSync(join(root, 'scripts', 'npm-package', 'README.md'), join(stage, 'README.md'));

const tfjsNode = ext.optionalDependencies?.['@tensorflow/tfjs-node'];
const manifest = {
  name: ext.name,
  version: ext.version,
  description: 'Run Autoencoder Notebooks (.aenb) headless: every cell in a TensorFlow.js kernel, parameters from the command line, the executed notebook and an HTML report written.',
  license: ext.license,
  homepage: ext.homepage,
  repository: ext.repository,
  bugs: ext.bugs,
  keywords: [...new Set([...(ext.keywords ?? []), 'cli', 'headless', 'papermill'])],
  bin: { [ext.name]: 'dist/cli.js' },
  files: ['dist/', 'samples/', 'README.md', 'LICENSE'],
  engines: { node: ext.engines.node },
  ...(tfjsNode ? { peerDependencies: { '@tensorflow/tfjs-node': tfjsNode }, peerDependenciesMeta: { '@tensorflow/tfjs-node': { optional: true } } } : {}),
};
writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');

mkdirSync(outDir, { recursive: true });
const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], { cwd: stage, encoding: 'utf8' }))[0];
const file = join(outDir, packed.filename);
console.log(`[pack-npm] ${file}: ${packed.entryCount} files, ${(packed.size / 1e6).toFixed(1)} MB (${(packed.unpackedSize / 1e6).toFixed(1)} MB unpacked)`);
console.log(`[pack-npm] publish with: npm publish ${file}`);
