/**
 * The TypeScript server plugin (src/tsserver-plugin/): loaded by a real
 * tsserver the way VS Code's TypeScript extension loads it (--globalPlugins,
 * --pluginProbeLocations <extension>), it silences .aenb cells and nothing else.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { isAenbCell } from '../../src/tsserver-plugin/cells';

const root = path.join(__dirname, '..', '..', '..');
const PLUGIN = 'autoencoder-notebooks-typescript-plugin';

describe('TypeScript server plugin', () => {
  test('knows the cells of .aenb notebooks by their tsserver file names', () => {
    for (const f of [
      '^/vscode-notebook-cell/ts-nul-authority/home/me/ae.aenb#W0sZmlsZQ==',
      '^/vscode-notebook-cell/ssh-remote%2Bbox/home/me/My Notebook.AENB#W1sZmlsZQ==',
      '/vscode-notebook-cell/ts-nul-authority/c:/Users/me/x.aenb#W2',
      '^\\vscode-notebook-cell\\ts-nul-authority\\x.aenb#W0',
    ]) {
      assert.equal(isAenbCell(f), true, f);
    }
    for (const f of ['/home/me/ae.ts', '^/vscode-notebook-cell/ts-nul-authority/home/me/analysis.ipynb#W0sZmlsZQ==', '^/untitled/ts-nul-authority/Untitled-1', '/home/me/x.aenb.ts']) {
      assert.equal(isAenbCell(f), false, f);
    }
  });

  test('in a real tsserver: no answers for an .aenb cell, normal answers for any other file', async () => {
    const tsserver = require.resolve('typescript/lib/tsserver.js');
    const child = spawn(process.execPath, [tsserver, '--globalPlugins', PLUGIN, '--pluginProbeLocations', root, '--useInferredProjectPerProjectRoot', '--disableAutomaticTypingAcquisition'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let buffer = '';
    const responses = new Map<number, { body?: unknown; success: boolean }>();
    const waiting = new Map<number, () => void>();
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buffer += d;
      for (;;) {
        const m = /Content-Length: (\d+)\r\n\r\n/.exec(buffer);
        if (!m) break;
        const start = m.index + m[0].length;
        const body = Buffer.from(buffer.slice(start), 'utf8');
        const length = Number(m[1]);
        if (body.length < length) break;
        const json = body.subarray(0, length).toString('utf8');
        buffer = body.subarray(length).toString('utf8');
        const msg = JSON.parse(json) as { type: string; request_seq?: number; body?: unknown; success?: boolean };
        if (msg.type === 'response' && msg.request_seq !== undefined) {
          responses.set(msg.request_seq, { body: msg.body, success: !!msg.success });
          waiting.get(msg.request_seq)?.();
        }
      }
    });
    let seq = 0;
    const request = (command: string, args: unknown) =>
      new Promise<{ body?: unknown; success: boolean }>((resolve) => {
        const s = ++seq;
        waiting.set(s, () => resolve(responses.get(s)!));
        child.stdin.write(JSON.stringify({ seq: s, type: 'request', command, arguments: args }) + '\n');
      });
    try {
      const text = "const greeting: string = 'hi';\ngreeting.toUpperCase();\nconst n: number = 'x';\n";
      const cell = '^/vscode-notebook-cell/ts-nul-authority/tmp/ws/model.aenb#W0sZmlsZQ==';
      const other = '^/untitled/ts-nul-authority/Untitled-1';
      for (const file of [cell, other]) {
        const opened = await request('updateOpen', { openFiles: [{ file, fileContent: text, scriptKindName: 'TS', projectRootPath: '/tmp/ws' }] });
        assert.equal(opened.success, true);
      }
      const ask = async (file: string) => ({
        quickinfo: (await request('quickinfo', { file, line: 2, offset: 2 })).body,
        completions: (await request('completionInfo', { file, line: 2, offset: 10 })).body,
        signature: (await request('signatureHelp', { file, line: 2, offset: 22 })).body,
        definition: (await request('definition', { file, line: 2, offset: 2 })).body,
        syntax: (await request('syntacticDiagnosticsSync', { file })).body,
        semantic: (await request('semanticDiagnosticsSync', { file })).body,
      });
      const inCell = await ask(cell);
      const inOther = await ask(other);
      assert.ok((inOther.quickinfo as { displayString: string }).displayString.includes('const greeting: string'), 'other files keep their answers');
      assert.ok(((inOther.completions as { entries: unknown[] }).entries ?? []).length > 0);
      assert.ok(((inOther.definition as unknown[]) ?? []).length > 0);
      assert.ok((inOther.semantic as { text: string }[]).some((d) => /'string' is not assignable to type 'number'/.test(d.text)), "the other file's type error is reported");
      assert.equal(inCell.quickinfo, undefined);
      assert.equal(inCell.completions, undefined);
      assert.equal(inCell.signature, undefined);
      assert.deepEqual(inCell.definition ?? [], []);
      assert.deepEqual(inCell.syntax, []);
      assert.deepEqual(inCell.semantic, []);
    } finally {
      child.kill();
    }
  });
});
