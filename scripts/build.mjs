// Builds everything with esbuild:
//   dist/   what ships in the extension (bundled, source maps)
//   out/    tests and benchmarks (bundled, packages left external; always with
//           source maps, also with --production, which only changes dist/)
// Usage: node scripts/build.mjs [--watch] [--production] [--dist DIR]
//   --dist DIR   build only what ships (dist/) into DIR instead (the npm
//                package of the headless runner is staged this way)
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, copyFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { generateCellTypes } from './cell-types.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const distArg = process.argv.indexOf('--dist');
const distDir = distArg >= 0 ? process.argv[distArg + 1] : undefined;
if (distArg >= 0 && !distDir) throw new Error('--dist needs a folder.');
const dist = distDir ?? 'dist';

/** Files below `dir` (relative to root) whose name ends with one of `suffixes`. */
function findFiles(dir, suffixes) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const found = [];
  for (const name of readdirSync(abs)) {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) found.push(...findFiles(relative(root, p), suffixes));
    else if (suffixes.some((s) => name.endsWith(s))) found.push(relative(root, p));
  }
  return found.sort();
}

const present = (entries) => Object.fromEntries(Object.entries(entries).filter(([, src]) => existsSync(join(root, src))));

// Native and optional modules stay outside every bundle.
const nodeExternal = ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

/**
 * `import source from 'aenb:engine-worker'`: the parallel engine's worker
 * (src/lib/engine/worker.ts), bundled on its own into a string that the
 * engine starts with `new Worker(source, { eval: true })`, so that no bundle
 * needs a worker file beside it. Rebuilt in watch mode when its sources change.
 */
const engineWorkerPlugin = {
  name: 'aenb-engine-worker',
  setup(build) {
    build.onResolve({ filter: /^aenb:engine-worker$/ }, (args) => ({ path: args.path, namespace: 'aenb-engine-worker' }));
    build.onLoad({ filter: /.*/, namespace: 'aenb-engine-worker' }, async () => {
      const r = await esbuild.build({
        absWorkingDir: root,
        entryPoints: ['src/lib/engine/worker.ts'],
        bundle: true,
        write: false,
        metafile: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        minify: production,
        legalComments: 'none',
        logLevel: 'warning',
      });
      return {
        contents: `export default ${JSON.stringify(r.outputFiles[0].text)};`,
        loader: 'js',
        watchFiles: Object.keys(r.metafile.inputs).map((f) => join(root, f)),
      };
    });
  },
};

const common = {
  absWorkingDir: root,
  bundle: true,
  sourcemap: production ? false : 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  legalComments: 'none',
  minify: production,
  keepNames: true,
  // jsonc-parser's "main" is a UMD build that loads its parts at run time; bundle its ES modules.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
  // The compiled C kernels (src/lib/wasm/*.wasm, src/lib/engine/native/*.wasm) are embedded as bytes.
  loader: { '.wasm': 'binary' },
  plugins: [engineWorkerPlugin],
  // src/common/version.ts: the version `autoencoder-notebooks --version` prints.
  define: { __AENB_VERSION__: JSON.stringify(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version) },
};

// Each output kind (src/outputs/<kind>/) imports its side-specific parts from
// ./kernel, ./view and ./report; a bundle that runs elsewhere gets a stub
// (`export const <part> = undefined`) instead, so that no TensorFlow.js
// reaches the renderer and no DOM code or markdown-it reaches the kernel.
function stubOutputParts(parts) {
  const request = new RegExp(`^\\./(${parts.join('|')})$`);
  return {
    name: 'stub-output-parts',
    setup(build) {
      build.onResolve({ filter: request }, (args) => {
        if (!/[\\/]src[\\/]outputs[\\/][^\\/]+$/.test(args.resolveDir)) return undefined;
        return { path: join(args.resolveDir, args.path), namespace: 'output-part-stub', pluginData: args.path.slice(2) };
      });
      build.onLoad({ filter: /.*/, namespace: 'output-part-stub' }, (args) => ({ contents: `export const ${args.pluginData} = undefined;\n`, loader: 'js' }));
    },
  };
}

// The HTML report (with markdown-it) is one bundle, dist/report.js, that the
// extension and the headless runner load at run time: one copy in the VSIX.
const sharedReport = {
  name: 'shared-report',
  setup(build) {
    build.onResolve({ filter: /[\\/]report$/ }, (args) => {
      const target = join(args.resolveDir, args.path);
      if (target !== join(root, 'src', 'report') || args.importer.startsWith(join(root, 'src', 'report'))) return undefined;
      return { path: './report.js', external: true };
    });
  },
};

const nodeDist = (name, entry, stubs, plugins = []) => ({
  ...common,
  entryPoints: present({ [name]: entry }),
  outdir: dist,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: nodeExternal,
  plugins: [engineWorkerPlugin, stubOutputParts(stubs), ...plugins],
});

const builds = [
  nodeDist('extension', 'src/extension.ts', ['kernel', 'view'], [sharedReport]),
  nodeDist('kernel', 'src/kernel/main.ts', ['view', 'report']),
  // The headless runner is also a command of its own (the npm package's `bin`).
  { ...nodeDist('cli', 'src/cli/cli.ts', ['kernel', 'view'], [sharedReport]), banner: { js: '#!/usr/bin/env node' } },
  nodeDist('report', 'src/report/index.ts', ['kernel', 'view']),
  // TypeScript and the notebook language service: a worker thread of the
  // extension host, and what `aenb check` loads (see src/language/main.ts).
  nodeDist('language', 'src/language/main.ts', ['kernel', 'view', 'report']),
  // The TypeScript server plugin (src/tsserver-plugin/): tsserver loads it through
  // node_modules/autoencoder-notebooks-typescript-plugin, whose main points here.
  nodeDist('tsserver-plugin', 'src/tsserver-plugin/index.ts', ['kernel', 'view', 'report']),
  {
    ...common,
    entryPoints: present({ renderer: 'renderers/index.ts' }),
    outdir: dist,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    loader: { '.css': 'text', '.wasm': 'binary' },
    plugins: [stubOutputParts(['kernel', 'report'])],
  },
  {
    ...common,
    sourcemap: 'linked',
    minify: false,
    alias: {}, // packages stay external here: Node loads jsonc-parser's UMD build itself
    entryPoints: [
      ...findFiles('test', ['.test.ts']),
      ...findFiles('bench', ['.ts']),
      // The integration suite (loaded by VS Code's extension host: CommonJS, `vscode`
      // external like every package here) and its two launchers.
      ...['test/vscode/index.ts', 'test/vscode/run-code-server.ts', 'test/vscode/run-electron.ts'].filter((f) => existsSync(join(root, f))),
    ].filter((f) => !f.includes('/fixtures/')),
    outdir: 'out',
    outbase: '.',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
  },
];

function copyWasm() {
  const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  const target = resolve(root, dist, 'wasm');
  mkdirSync(target, { recursive: true });
  for (const name of readdirSync(wasmDir)) {
    if (name.endsWith('.wasm')) copyFileSync(join(wasmDir, name), join(target, name));
  }
}

// Output folders are overwritten, not wiped, so that a build never pulls
// files out from under a test run that is using them; `npm run clean` wipes.
if (process.argv.includes('--clean')) {
  rmSync(join(root, 'out'), { recursive: true, force: true });
  rmSync(join(root, 'dist'), { recursive: true, force: true });
}
/** dist/cell-types.json (or in --dist DIR), the declarations cells are typed with (see cell-types.mjs); skipped when up to date. */
function cellTypes() {
  const t0 = Date.now();
  const state = generateCellTypes({ root, outFile: join(resolve(root, dist), 'cell-types.json') });
  if (state === 'written') console.log(`[build] cell types generated in ${Date.now() - t0} ms`);
}

copyWasm();
const active = builds
  .filter((b) => distDir === undefined || b.outdir === dist)
  .filter((b) => (Array.isArray(b.entryPoints) ? b.entryPoints.length : Object.keys(b.entryPoints).length) > 0);
if (watch) {
  cellTypes();
  for (const b of active) {
    // The cell types follow the kernel's sources: regenerated (when their inputs changed) after each rebuild of the kernel.
    const plugins = 'kernel' in (b.entryPoints ?? {})
      ? [...(b.plugins ?? []), { name: 'cell-types', setup: (build) => build.onEnd(() => { try { cellTypes(); } catch (e) { console.error(`[build] ${e.message}`); } }) }]
      : b.plugins;
    const ctx = await esbuild.context({ ...b, plugins });
    await ctx.watch();
  }
  console.log('[build] watching for changes');
} else {
  const t0 = Date.now();
  await Promise.all(active.map((b) => esbuild.build(b)));
  cellTypes();
  console.log(`[build] done in ${Date.now() - t0} ms`);
}
