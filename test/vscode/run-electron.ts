// Runs the integration suite in desktop VS Code (Electron) with
// @vscode/test-electron: the same module (out/test/vscode/index.js) that
// run-code-server.ts runs in code-server. test-electron downloads VS Code
// (into .vscode-test/) where a network is available; or give it a VS Code you
// have:
//
//   node out/test/vscode/run-electron.js
//   VSCODE_EXECUTABLE=/usr/share/code/code node out/test/vscode/run-electron.js
//   VSCODE_VERSION=1.100.3 node out/test/vscode/run-electron.js   (default: stable)
//
// Only the main suite: the Restricted Mode suite reads the page (the
// renderer's webview, notifications, the status bar) through the browser that
// run-code-server.ts drives, so run it with `run-code-server.js --restricted`.
import { runTests } from '@vscode/test-electron';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRepoRoot, QUIET_SETTINGS } from '../support/code-server';
import { prepareTestWorkspace } from '../support/test-workspace';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--restricted') || process.env.AENB_VSCODE_SUITE === 'restricted') {
    console.error('[electron] The Restricted Mode suite runs only under code-server: node out/test/vscode/run-code-server.js --restricted');
    return 2;
  }
  const root = findRepoRoot();
  const grepAt = args.indexOf('--grep');
  const grep = grepAt >= 0 ? args[grepAt + 1] : process.env.AENB_VSCODE_GREP;
  const artifacts = join(root, 'test-results', 'vscode', 'electron');
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const workspace = prepareTestWorkspace(root, 'main', (l) => console.log(`[electron] ${l}`));
  const state = mkdtempSync(join(tmpdir(), 'aenb-electron-'));
  const userDataDir = join(state, 'user-data');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(QUIET_SETTINGS, null, 2) + '\n');
  const vscodeExecutablePath = process.env.VSCODE_EXECUTABLE || undefined;
  try {
    await runTests({
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'out', 'test', 'vscode', 'index.js'),
      ...(vscodeExecutablePath ? { vscodeExecutablePath } : { version: process.env.VSCODE_VERSION ?? 'stable' }),
      launchArgs: [
        workspace,
        // test-electron adds --disable-workspace-trust, --skip-welcome and --no-sandbox itself.
        '--disable-extensions',
        '--disable-telemetry',
        '--user-data-dir', userDataDir,
        '--extensions-dir', join(state, 'extensions'),
      ],
      extensionTestsEnv: {
        AENB_VSCODE_SUITE: 'main',
        AENB_TEST_RESULTS: join(artifacts, 'results.json'),
        ...(grep ? { AENB_VSCODE_GREP: grep } : {}),
      },
    });
    const resultsFile = join(artifacts, 'results.json');
    const results = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as { passed: number; failed: number }) : undefined;
    if (!results || results.failed > 0 || results.passed === 0) {
      console.error(`[electron] FAILED: VS Code exited with 0 but the suite ${results ? `reports ${results.passed} passed and ${results.failed} failed` : 'wrote no results (did it run?)'}. See ${artifacts}`);
      return 1;
    }
    console.log(`[electron] passed (${results.passed} tests); results in ${artifacts}`);
    return 0;
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    console.error(`[electron] FAILED: ${text}. Results in ${artifacts}`);
    if (!vscodeExecutablePath && /ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|getaddrinfo|fetch failed/i.test(text)) {
      console.error('[electron] VS Code could not be downloaded. Set VSCODE_EXECUTABLE to a VS Code you have, or run the same suite offline: node out/test/vscode/run-code-server.js');
    }
    return 1;
  } finally {
    rmSync(workspace, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`[electron] ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
