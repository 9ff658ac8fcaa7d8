// The .aenb <-> VS Code notebook mapping (src/notebook/convert.ts), and the
// promise that VS Code and the headless runner write the same bytes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AenbFormatError,
  MIME,
  createCodeCell,
  createMarkdownCell,
  createNotebook,
  parseNotebook,
  serializeNotebook,
  type AenbCodeCell,
  type AenbNotebook,
  type AenbOutput,
} from '../../src/common/aenb';
import { TRAINING_MIME } from '../../src/outputs';
import { OutputCollector } from '../../src/cli/run';
import {
  AENB_META_KEY,
  errorCellOutput,
  NotebookConversionError,
  ORIGINAL_MIME_KEY,
  executionFromSummary,
  notebookFromBytes,
  notebookFromPlain,
  notebookToBytes,
  notebookToPlain,
  outputToPlain,
  type PlainCell,
  type PlainNotebook,
  type PlainOutput,
} from '../../src/notebook/convert';
import { LiveOutputs } from '../../src/notebook/live-outputs';

const ROOT = join(__dirname, '..', '..', '..');
const utf8 = new TextEncoder();
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** What VS Code does to the data between deserialize and serialize: new objects, {} for absent output metadata. */
function throughVsCode(plain: PlainNotebook): PlainNotebook {
  const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));
  return {
    metadata: clone(plain.metadata) ?? {},
    cells: plain.cells.map((c) => ({
      kind: c.kind,
      value: c.value,
      languageId: c.languageId,
      metadata: clone(c.metadata) ?? {},
      outputs: c.outputs?.map((o) => ({ items: o.items.map((it) => ({ mime: it.mime, data: new Uint8Array(it.data) })), metadata: clone(o.metadata) ?? {} })),
      executionSummary: c.executionSummary && { ...c.executionSummary, timing: c.executionSummary.timing && { ...c.executionSummary.timing } },
    })),
  };
}

describe('notebook convert: round trips', () => {
  for (const file of ['test/fixtures/aenb/realistic.aenb', 'samples/vanilla-mnist.aenb', 'samples/stacked-fashion-mnist.aenb', 'samples/denoising-conv-fashion-mnist.aenb']) {
    test(`${file} opens and saves byte for byte`, (t) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(ROOT, file));
      } catch {
        t.skip(`${file} is not there`);
        return;
      }
      const plain = throughVsCode(notebookFromBytes(bytes, file));
      assert.equal(text(notebookToBytes(plain)), bytes.toString('utf8'));
    });
  }

  test('unknown fields at every level survive, and a user key named "$aenb" too', () => {
    const nb: AenbNotebook = {
      metadata: { title: 'x', [AENB_META_KEY]: { mine: true } },
      extra: { futureRoot: [1, 2] },
      cells: [
        { ...createMarkdownCell('# hi', { [AENB_META_KEY]: 'user value' }), extra: { futureMd: 'm' } },
        {
          ...createCodeCell('1', { tags: ['parameters'] }),
          extra: { futureCell: { a: 1 } },
          outputs: [
            { items: [{ mime: 'text/plain', data: '1', extra: { futureItem: 2 } }, { mime: 'image/png', data: 'iVBORw==' }], extra: { futureOutput: true } },
            { items: [{ mime: MIME.json, data: { b: 1, a: [1, null] } }], metadata: {} },
            { items: [{ mime: MIME.stdout, data: 'out\n' }], metadata: { outputType: 'stream', nested: { z: 1, a: 2 } } },
          ],
          execution: { order: 3, success: false, durationMs: 12.34, startedAt: '2025-01-01T10:00:00.000Z', extra: { futureExec: 'e' } },
        },
      ],
    };
    const canonical = serializeNotebook(nb);
    const plain = throughVsCode(notebookFromBytes(utf8.encode(canonical)));
    assert.equal(text(notebookToBytes(plain)), canonical);
    assert.deepEqual(notebookFromPlain(plain), parseNotebook(canonical));
  });

  test('tags and other cell metadata are VS Code cell metadata; extras hide under "$aenb"', () => {
    const nb = createNotebook([createCodeCell('a', { tags: ['parameters', 'x'], metadata: { collapsed: true } })]);
    nb.cells[0].extra = { later: 1 };
    const plain = notebookToPlain(nb);
    assert.deepEqual(plain.cells[0].metadata, { collapsed: true, tags: ['parameters', 'x'], [AENB_META_KEY]: { extra: { later: 1 } } });
    assert.equal(plain.cells[0].languageId, 'typescript');
    assert.equal(plain.cells[0].kind, 'code');
  });

  test('output data become bytes: text as UTF-8, JSON as JSON text, binary base64-decoded', () => {
    const out = outputToPlain({
      items: [
        { mime: 'text/plain', data: 'héllo' },
        { mime: TRAINING_MIME, data: { runId: 'r', z: 1, a: 2 } },
        { mime: 'image/png', data: 'AAEC/w==' },
      ],
    });
    assert.equal(text(out.items[0].data), 'héllo');
    assert.equal(text(out.items[1].data), '{"runId":"r","z":1,"a":2}');
    assert.deepEqual([...out.items[2].data], [0, 1, 2, 255]);
    assert.equal(out.metadata, undefined);
  });

  test('a JSON output whose bytes are not JSON is kept as text, not dropped, and does not block saving', () => {
    const plain: PlainNotebook = {
      cells: [{ kind: 'code', value: 'x', languageId: 'javascript', outputs: [{ items: [{ mime: 'application/vnd.other+json', data: utf8.encode('{broken') }] }] }],
    };
    const nb = parseNotebook(text(notebookToBytes(plain)));
    const item = (nb.cells[0] as AenbCodeCell).outputs[0].items[0];
    assert.deepEqual(item, { mime: 'text/plain', data: '{broken', extra: { [ORIGINAL_MIME_KEY]: 'application/vnd.other+json' } });
  });

  test('an empty or whitespace file opens as an empty notebook', () => {
    assert.deepEqual(notebookFromBytes(new Uint8Array(0)).cells, []);
    assert.deepEqual(notebookFromBytes(utf8.encode(' \n')).cells, []);
  });
});

describe('notebook convert: execution summary', () => {
  const stored = { order: 2, success: true, durationMs: 12.3, startedAt: '2025-01-01T10:00:00.000Z' };
  const start = Date.parse(stored.startedAt);

  test('an unchanged summary gives back the stored execution exactly (fractional ms included)', () => {
    const summary = { executionOrder: 2, success: true, timing: { startTime: start, endTime: start + 12.3 } };
    assert.deepEqual(executionFromSummary(summary, stored), stored);
  });

  test('a new run replaces the stored execution, with whole milliseconds', () => {
    const t = Date.parse('2025-02-02T08:00:00.000Z');
    const summary = { executionOrder: 1, success: false, timing: { startTime: t, endTime: t + 1500.6 } };
    assert.deepEqual(executionFromSummary(summary, stored), { order: 1, success: false, durationMs: 1501, startedAt: '2025-02-02T08:00:00.000Z' });
  });

  test('no order or no outcome (never run, or still running) writes no execution', () => {
    assert.equal(executionFromSummary(undefined, stored), undefined);
    assert.equal(executionFromSummary({ executionOrder: 4 }, stored), undefined);
    assert.equal(executionFromSummary({ success: true }, undefined), undefined);
  });

  test('an execution without startedAt survives when the summary has no timing', () => {
    const noStart = { order: 5, success: true, durationMs: 48211.5 };
    assert.deepEqual(executionFromSummary({ executionOrder: 5, success: true }, noStart), noStart);
    assert.deepEqual(executionFromSummary({ executionOrder: 5, success: true }, undefined), { order: 5, success: true, durationMs: 0 });
  });

  test('an execution becomes order, success and timing in VS Code', () => {
    const plain = notebookToPlain(parseNotebook(serializeNotebook(createNotebook([{ ...createCodeCell('1'), execution: stored }]))));
    assert.deepEqual(plain.cells[0].executionSummary, { executionOrder: 2, success: true, timing: { startTime: start, endTime: start + 12.3 } });
  });
});

describe('notebook convert: what cannot be saved is refused with a clear message', () => {
  test('a code cell in another language', () => {
    const plain: PlainNotebook = { cells: [{ kind: 'markup', value: '#', languageId: 'markdown' }, { kind: 'code', value: 'print(1)', languageId: 'python' }] };
    assert.throws(() => notebookToBytes(plain), (e: Error) => e instanceof NotebookConversionError && /Cell 2 is written in "python"/.test(e.message) && /TypeScript or JavaScript/.test(e.message));
  });

  test('tags that are not a list of strings', () => {
    const plain: PlainNotebook = { cells: [{ kind: 'code', value: '1', languageId: 'typescript', metadata: { tags: 'parameters' } }] };
    assert.throws(() => notebookToBytes(plain), /Cell 1: the cell's metadata "tags" must be a list of strings/);
  });

  test('bytes that are not UTF-8 are refused (a lossy decode would corrupt the file on the next save)', () => {
    assert.throws(() => notebookFromBytes(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'a.aenb'), (e: Error) => e instanceof AenbFormatError && /^a\.aenb:1:2: the file is not valid UTF-8: the bytes 0xFF 0xFE 0x7D at byte 1/.test(e.message));
  });

  test('malformed JSON reports line and column', () => {
    assert.throws(
      () => notebookFromBytes(utf8.encode('{\n  "format": "aenb",\n  "version": 1,\n  "cells": [,]\n}'), 'bad.aenb'),
      (e: Error) => e instanceof AenbFormatError && e.line === 4,
    );
  });
});

describe('notebook convert: the same bytes as the headless runner', () => {
  test('a cell run through LiveOutputs and saved equals the runner\'s OutputCollector result', async () => {
    // What a kernel sends for one cell: console lines (a keyed stream), training progress (keyed), a result.
    const training = (state: string, epoch: number): AenbOutput => ({
      items: [
        { mime: TRAINING_MIME, data: { version: 1, runId: 'r1', state, epochs: 2, epoch, batch: 0, batchesPerEpoch: 3, history: { loss: Array(epoch).fill(0.5) } } },
        { mime: 'text/plain', data: `epoch ${epoch}` },
      ],
    });
    const sequence: [AenbOutput, string | undefined][] = [
      [{ items: [{ mime: MIME.stdout, data: 'a\n' }] }, 'stream:0'],
      [{ items: [{ mime: MIME.stdout, data: 'a\nb\n' }] }, 'stream:0'],
      [training('running', 0), 'train:r1'],
      [training('running', 1), 'train:r1'],
      [training('done', 2), 'train:r1'],
      [{ items: [{ mime: 'text/plain', data: '42' }] }, undefined],
    ];
    const error = { name: 'Error', message: 'late failure' };
    const startedAt = Date.parse('2025-05-05T12:00:00.000Z');
    const durationMs = 1234.4;

    // The runner (src/cli/run.ts).
    const collector = new OutputCollector();
    for (const [o, k] of sequence) collector.add(o, k);
    collector.add({ items: [{ mime: MIME.error, data: { name: error.name, message: error.message, stack: '' } }] });
    const runnerCell: AenbCodeCell = {
      ...createCodeCell('train()'),
      outputs: collector.outputs,
      execution: { order: 1, success: false, durationMs: Math.round(durationMs), startedAt: new Date(startedAt).toISOString() },
    };
    const runnerBytes = serializeNotebook(createNotebook([runnerCell]));

    // VS Code: LiveOutputs writing into a fake cell, then the serializer.
    const cellOutputs: PlainOutput[] = [];
    const live = new LiveOutputs<number>({
      append: async (o) => cellOutputs.push(outputToPlain(o)) - 1,
      replace: async (i, o) => {
        cellOutputs[i] = { ...cellOutputs[i], items: outputToPlain(o).items };
      },
    });
    for (const [o, k] of sequence) live.add(o, k);
    await live.drain();
    cellOutputs.push(outputToPlain(errorCellOutput(error)));
    const vscodeCell: PlainCell = {
      kind: 'code',
      value: 'train()',
      languageId: 'typescript',
      metadata: {},
      outputs: cellOutputs,
      executionSummary: { executionOrder: 1, success: false, timing: { startTime: startedAt, endTime: startedAt + Math.round(durationMs) } },
    };
    const vscodeBytes = text(notebookToBytes(throughVsCode({ metadata: {}, cells: [vscodeCell] })));
    assert.equal(vscodeBytes, runnerBytes);
  });
});
