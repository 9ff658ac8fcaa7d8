// Runs the integration suite (out/test/vscode/index.js) inside the real
// extension host of code-server, offline: the extension is loaded in
// development mode from this repository and the suite as `extensionTestsPath`,
// both through the workbench URL's payload. Headless Chromium opens the page;
// the workbench reports the suite's end through `codeAutomationExit` and its
// log lines through `codeAutomationLog`. This is what `npm run test:vscode`
// and CI run.
//
//   node out/test/vscode/run-code-server.js [--restricted] [--grep REGEXP]
//
//   --restricted   Workspace Trust left on, the folder untrusted: the Restricted
//                  Mode suite (AENB_VSCODE_SUITE=restricted) instead of the main one
//   --grep RE      only the tests whose full title matches
//
// Environment: AENB_VSCODE_GREP (as --grep), AENB_VSCODE_TIMEOUT_MS (default 15
// minutes), AENB_CODE_SERVER_ARGS (more code-server arguments, e.g. "--log trace").
//
// Artifacts (the report, the workbench's and the server's logs, a screenshot
// of the page at the end) go to test-results/vscode/<suite>/; the path is
// printed at the end, and on failure they are all kept there.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findRepoRoot, installCodeServer, startCodeServer, type CodeServer } from '../support/code-server';
import { reapProcessesIn } from '../support/processes';
import { prepareTestWorkspace } from '../support/test-workspace';
import { serveBridge } from '../support/ui-bridge';
import { rendererRequest } from '../support/workbench';
import { answerDialog, openWorkbench, renderedOutputs, statusBarText, takeNotification, type Workbench } from '../support/workbench';

const REPORT_PREFIX = '[aenb-suite] ';
const STATUS_BAR_ITEM = 'aenb-team.autoencoder-notebooks.autoencoderNotebooks.kernel';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function log(line: string): void {
  process.stdout.write(`[vscode] ${line}\n`);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const restricted = args.includes('--restricted') || process.env.AENB_VSCODE_SUITE === 'restricted';
  const suite = restricted ? 'restricted' : 'main';
  const grep = option(args, '--grep') ?? process.env.AENB_VSCODE_GREP;
  const timeoutMs = Number(process.env.AENB_VSCODE_TIMEOUT_MS ?? 15 * 60_000);
  const root = findRepoRoot();
  const suiteModule = join(root, 'out', 'test', 'vscode', 'index.js');
  for (const f of [suiteModule, join(root, 'dist', 'extension.js'), join(root, 'dist', 'kernel.js')]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first.`);
  }
  const artifacts = join(root, 'test-results', 'vscode', suite);
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });

  const t0 = Date.now();
  installCodeServer({ log: (l) => log(l) });

  const workspace = prepareTestWorkspace(root, suite, log);
  const bridgeDir = mkdtempSync(join(tmpdir(), 'aenb-bridge-'));
  const workbenchLog: string[] = [];

  let server: CodeServer | undefined;
  let wb: Workbench | undefined;
  let bridge: { stop(): void } | undefined;
  let exitCode: number | undefined;
  let failed = true;
  const stopAll = async () => {
    bridge?.stop();
    await wb?.close().catch(() => undefined);
    wb = undefined;
    if (server) {
      const s = server;
      server = undefined;
      await s.stop({ saveLogsTo: artifacts });
    }
  };
  const onSignal = () => {
    log('interrupted: stopping code-server and Chromium');
    void stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    server = await startCodeServer({
      workspace,
      trustWorkspace: !restricted,
      // Interrupts end training at the next batch; on a loaded machine that batch can
      // take seconds, and the kernel must not be killed meanwhile for being late.
      settings: {
        'autoencoderNotebooks.interruptGracePeriod': 120,
        // Kernels outlive their window; here they should end soon after the server stops (its runner checks that none is left).
        'autoencoderNotebooks.kernelGracePeriod': 3,
      },
      args: process.env.AENB_CODE_SERVER_ARGS ? process.env.AENB_CODE_SERVER_ARGS.split(' ') : [],
      env: {
        AENB_VSCODE_SUITE: suite,
        AENB_TEST_RESULTS: join(artifacts, 'results.json'),
        AENB_TEST_BRIDGE: bridgeDir,
        ...(grep ? { AENB_VSCODE_GREP: grep } : {}),
      },
    });
    log(`code-server ${server.url} (pid ${server.pid}), workspace ${workspace}, suite "${suite}"${grep ? `, grep ${grep}` : ''}`);
    let finish!: (code: number) => void;
    const exited = new Promise<number>((r) => (finish = r));
    const url = server.workbenchUrl({ extensionDevelopmentPath: root, extensionTestsPath: suiteModule });
    wb = await openWorkbench(url, {
      expose: {
        codeAutomationLog: (type: string, parts: unknown) => {
          const line = (Array.isArray(parts) ? parts : [parts]).map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
          workbenchLog.push(`[${type}] ${line}`);
          for (const l of line.split('\n')) if (l.startsWith(REPORT_PREFIX)) process.stdout.write(`${l.slice(REPORT_PREFIX.length)}\n`);
        },
        codeAutomationExit: (code: number, logs?: { relativePath: string; contents: string }[]) => {
          for (const f of logs ?? []) {
            const target = join(artifacts, 'logs', f.relativePath.replace(/\.\.+/g, '_'));
            mkdirSync(dirname(target), { recursive: true });
            writeFileSync(target, f.contents);
          }
          finish(code);
        },
      },
    });
    const page = wb.page;
    // What the Restricted Mode suite asks the page for (see test/support/ui-bridge.ts).
    // A failed request leaves a screenshot of the page as it was.
    let failures = 0;
    const withShot = (name: string, f: (a: unknown) => Promise<unknown>) => async (a: unknown) => {
      try {
        return await f(a);
      } catch (e) {
        await page.screenshot({ path: join(artifacts, `bridge-${++failures}-${name}-failed.png`) }).catch(() => undefined);
        throw e;
      }
    };
    bridge = serveBridge(
      bridgeDir,
      {
        answerDialog: withShot('answerDialog', (a) => answerDialog(page, (a as { button: string }).button)),
        takeNotification: withShot('takeNotification', (a) => takeNotification(page, (a as { contains: string }).contains)),
        statusBar: withShot('statusBar', () => statusBarText(page, STATUS_BAR_ITEM)),
        renderedOutputs: withShot('renderedOutputs', () => renderedOutputs(page)),
        rendererRequest: withShot('rendererRequest', (a) => rendererRequest(page, a as { method: string; params: unknown })),
      },
      (l) => workbenchLog.push(`[bridge] ${l}`),
    );
    const timer = setTimeout(() => {
      log(`the suite did not finish within ${timeoutMs / 1000} s`);
      finish(-1);
    }, timeoutMs);
    exitCode = await exited;
    clearTimeout(timer);
    await page.screenshot({ path: join(artifacts, 'workbench-at-exit.png') }).catch(() => undefined);
    const resultsFile = join(artifacts, 'results.json');
    const results = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as { passed: number; failed: number }) : undefined;
    if (!results) log('the suite wrote no results: it did not run (see the logs)');
    failed = exitCode !== 0 || !results || results.failed > 0 || results.passed === 0;
  } finally {
    writeFileSync(join(artifacts, 'workbench.log'), workbenchLog.join('\n') + '\n');
    await stopAll();
    const left = await reapProcessesIn(workspace, /dist[\\/]kernel\.js/);
    if (left.length) {
      log(`kernel processes outlived code-server and were killed: ${left.map((p) => p.pid).join(', ')}`);
      failed = true;
    }
    rmSync(workspace, { recursive: true, force: true });
    rmSync(bridgeDir, { recursive: true, force: true });
  }
  const took = ((Date.now() - t0) / 1000).toFixed(1);
  if (failed) {
    log(`FAILED (${suite} suite, exit code ${exitCode}, ${took} s). Report, logs and a screenshot: ${artifacts}`);
    return 1;
  }
  log(`passed (${suite} suite, ${took} s); logs in ${artifacts}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`[vscode] ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
