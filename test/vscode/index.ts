// The integration suite's entry point: VS Code loads this module in the real
// extension host (as `extensionTestsPath`) and calls `run()`; the test run
// passes when the promise resolves. Launchers: ./run-code-server.ts (offline,
// what CI runs) and ./run-electron.ts (desktop VS Code). The specs are in
// ./specs/; mocha runs them with a reporter that writes through console.log.
// (Stack traces point into out/test/vscode/index.js: the extension host
// replaces Node's stack formatting, so source maps do not apply there.)
//
// Environment:
//   AENB_VSCODE_SUITE   "main" (default): notebooks run in a trusted workspace;
//                       "restricted": Restricted Mode (the workspace is not trusted)
//   AENB_VSCODE_GREP    only tests whose full title matches this regular expression
//   AENB_TEST_RESULTS   write a JSON summary of the run to this file
import Mocha from 'mocha';
import { writeFileSync } from 'node:fs';
import { defineFirstHourTests } from './specs/first-hour';
import { defineKernelTests } from './specs/kernel';
import { defineLanguageTests } from './specs/language';
import { defineRestrictedTests } from './specs/restricted';
import { defineSampleTests } from './specs/samples';

/** Every line of the report starts with this, so that a launcher can pick the report out of the workbench's log. */
export const REPORT_PREFIX = '[aenb-suite] ';

const SUITES: Record<string, () => void> = {
  main: () => {
    defineSampleTests();
    defineKernelTests();
    defineLanguageTests();
    defineFirstHourTests();
  },
  restricted: defineRestrictedTests,
};

function say(line: string): void {
  // console.log in the extension host ends up in the workbench's log (code-server)
  // or on VS Code's stdout (@vscode/test-electron).
  for (const l of line.split('\n')) console.log(REPORT_PREFIX + l);
}

/** A small spec-like reporter that writes through console.log with a prefix. */
class PrefixReporter {
  constructor(runner: Mocha.Runner) {
    const C = Mocha.Runner.constants;
    let depth = 0;
    const failures: { title: string; err: Error }[] = [];
    const results: { title: string; state: string; durationMs?: number; error?: string }[] = [];
    const t0 = Date.now();
    runner.on(C.EVENT_SUITE_BEGIN, (s: Mocha.Suite) => {
      if (s.title) say(`${'  '.repeat(depth)}${s.title}`);
      depth++;
    });
    runner.on(C.EVENT_SUITE_END, () => {
      depth--;
    });
    runner.on(C.EVENT_TEST_PASS, (t: Mocha.Test) => {
      say(`${'  '.repeat(depth)}✔ ${t.title} (${t.duration ?? 0} ms)`);
      results.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration });
    });
    /** The first failure in each group (describe): later failures in it may follow from that one, and the report says so. */
    const firstFailureIn = new Map<Mocha.Suite | undefined, number>();
    runner.on(C.EVENT_TEST_FAIL, (t: Mocha.Test, err: Error) => {
      failures.push({ title: t.fullTitle(), err });
      const earlier = firstFailureIn.get(t.parent);
      if (earlier === undefined) firstFailureIn.set(t.parent, failures.length);
      const note = earlier === undefined ? '' : ` (after failure ${earlier} in this group: it may follow from that one)`;
      say(`${'  '.repeat(depth)}✘ ${t.title} [failure ${failures.length}]${note}`);
      results.push({ title: t.fullTitle(), state: 'failed', durationMs: t.duration, error: `${err?.message}${note}` });
    });
    runner.on(C.EVENT_TEST_PENDING, (t: Mocha.Test) => {
      say(`${'  '.repeat(depth)}- ${t.title} (pending)`);
      results.push({ title: t.fullTitle(), state: 'pending' });
    });
    runner.once(C.EVENT_RUN_END, () => {
      const passed = results.filter((r) => r.state === 'passed').length;
      say('');
      failures.forEach((f, i) => {
        say(`${i + 1}) ${f.title}`);
        say(`   ${(f.err?.stack ?? String(f.err)).split('\n').join('\n   ')}`);
        say('');
      });
      say(`${passed} passing, ${failures.length} failing, ${results.length - passed - failures.length} pending (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      const file = process.env.AENB_TEST_RESULTS;
      if (file) writeFileSync(file, JSON.stringify({ passed, failed: failures.length, results }, null, 2) + '\n');
    });
  }
}

export async function run(): Promise<void> {
  const suite = process.env.AENB_VSCODE_SUITE || 'main';
  const define = SUITES[suite];
  if (!define) throw new Error(`AENB_VSCODE_SUITE=${suite}: unknown suite; known: ${Object.keys(SUITES).join(', ')}`);
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: PrefixReporter as unknown as Mocha.ReporterConstructor });
  if (process.env.AENB_VSCODE_GREP) mocha.grep(new RegExp(process.env.AENB_VSCODE_GREP));
  // The specs are bundled into this module: give them mocha's globals (describe, it, ...) as a spec file would get them.
  mocha.suite.emit('pre-require', globalThis, `suite:${suite}`, mocha);
  say(`Autoencoder Notebooks integration suite "${suite}" in VS Code ${(await import('vscode')).version}`);
  define();
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} integration test${failures > 1 ? 's' : ''} failed.`);
}
