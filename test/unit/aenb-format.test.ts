import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AENB_FORMAT_VERSION,
  AenbFormatError,
  MIME,
  base64ToBytes,
  bytesToBase64,
  createCodeCell,
  createMarkdownCell,
  createNotebook,
  findParametersCell,
  isBase64,
  mimeDataKind,
  outputDataFromBytes,
  outputDataToBytes,
  parseNotebook,
  serializeNotebook,
  splitSourceLines,
  type AenbCodeCell,
  type AenbNotebook,
  type JsonObject,
  type JsonValue,
} from '../../src/common/aenb';
import { errorOutput } from '../../src/outputs';

// out/test/unit/*.test.js -> repository root
const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'aenb');
const realistic = readFileSync(join(FIXTURES, 'realistic.aenb'), 'utf8');

function formatError(fn: () => unknown): AenbFormatError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof AenbFormatError, `expected an AenbFormatError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an AenbFormatError, nothing was thrown');
}

/** 1-based line and column of the first occurrence of `needle` in `text` (+ `delta` characters). */
function positionOf(text: string, needle: string, delta = 0): { line: number; column: number } {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `fixture contains ${needle}`);
  const before = text.slice(0, at + delta).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** Rebuilds every object with its keys in reverse order, except inside output item `data`. */
function reverseKeys(value: JsonValue, insideData = false): JsonValue {
  if (Array.isArray(value)) return value.map((v) => reverseKeys(v, insideData));
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  const keys = Object.keys(value);
  if (!insideData) keys.reverse();
  for (const k of keys) out[k] = reverseKeys(value[k], insideData || k === 'data');
  return out;
}

const minimal = (cells: string, extraTop = '') => `{"format":"aenb","version":1,${extraTop}"cells":${cells}}`;

describe('aenb: canonical form', () => {
  test('a realistic notebook re-saves byte for byte', () => {
    const nb = parseNotebook(realistic, 'realistic.aenb');
    assert.equal(serializeNotebook(nb), realistic);
    // And the parse really read it: spot-check every kind of content.
    assert.equal(nb.cells.length, 5);
    assert.equal(nb.cells[0].kind, 'markdown');
    assert.equal(nb.cells[0].source, '# Denoising autoencoder\n\nWe corrupt MNIST digits with Gaussian noise and learn to undo it.');
    const training = nb.cells[2] as AenbCodeCell;
    assert.equal(training.outputs.length, 4);
    assert.equal(training.outputs[0].items[0].data, 'Epoch 1/10\nEpoch 2/10\n');
    assert.deepEqual((training.outputs[1].items[0].data as JsonObject).history, { loss: [0.0712, 0.0423, null] });
    assert.deepEqual(training.outputs[1].metadata, { outputType: 'display' });
    const png = outputDataToBytes(MIME.png, training.outputs[2].items[0].data);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.deepEqual(training.execution, { order: 2, success: true, durationMs: 48211.5 });
    assert.equal((nb.cells[4] as AenbCodeCell).source, '');
    assert.equal(nb.cells[3].kind === 'code' && nb.cells[3].language, 'javascript');
  });

  test('the canonical text has the documented layout', () => {
    assert.match(realistic, /^\{\n {2}"format": "aenb",\n {2}"version": 1,\n {2}"metadata": /);
    const nb = createNotebook([createMarkdownCell('# T'), createCodeCell('let a = 1;\na', { tags: ['parameters'] })]);
    assert.equal(
      serializeNotebook(nb),
      [
        '{',
        '  "format": "aenb",',
        '  "version": 1,',
        '  "metadata": {},',
        '  "cells": [',
        '    {',
        '      "kind": "markdown",',
        '      "language": "markdown",',
        '      "metadata": {},',
        '      "source": [',
        '        "# T"',
        '      ]',
        '    },',
        '    {',
        '      "kind": "code",',
        '      "language": "typescript",',
        '      "metadata": {',
        '        "tags": [',
        '          "parameters"',
        '        ]',
        '      },',
        '      "source": [',
        '        "let a = 1;\\n",',
        '        "a"',
        '      ],',
        '      "outputs": []',
        '    }',
        '  ]',
        '}',
        '',
      ].join('\n'),
    );
  });

  test('an empty notebook', () => {
    assert.equal(serializeNotebook(createNotebook()), '{\n  "format": "aenb",\n  "version": 1,\n  "metadata": {},\n  "cells": []\n}\n');
  });

  test('key order, indentation and source form of the input do not matter', () => {
    const shuffled = reverseKeys(JSON.parse(realistic) as JsonValue) as JsonObject;
    // Sources as plain strings instead of line arrays.
    for (const cell of shuffled.cells as JsonObject[]) cell.source = (cell.source as string[]).join('');
    const compact = JSON.stringify(shuffled);
    assert.ok(compact.startsWith('{"cells":'), 'the input really is shuffled');
    assert.equal(serializeNotebook(parseNotebook(compact)), realistic);
    const fourSpaces = JSON.stringify(shuffled, null, 4) + '\n\n';
    assert.equal(serializeNotebook(parseNotebook(fourSpaces)), realistic);
  });

  test('output item data keeps its key order; metadata keys are sorted at every depth', () => {
    const text = minimal(
      '[{"kind":"code","language":"typescript","source":"","metadata":{"z":{"b":1,"a":2},"tags":["x"],"a":true},' +
        '"outputs":[{"items":[{"mime":"application/json","data":{"z":1,"a":{"y":2,"b":3}}}]}]}]',
      '"metadata":{"b":{"d":1,"c":2},"a":0},',
    );
    const saved = serializeNotebook(parseNotebook(text));
    const reparsed = JSON.parse(saved) as JsonObject;
    const cell = (reparsed.cells as JsonObject[])[0];
    assert.deepEqual(Object.keys(reparsed.metadata as JsonObject), ['a', 'b']);
    assert.deepEqual(Object.keys((reparsed.metadata as JsonObject).b as JsonObject), ['c', 'd']);
    assert.deepEqual(Object.keys(cell.metadata as JsonObject), ['tags', 'a', 'z'], 'tags first, then the rest sorted');
    assert.deepEqual(Object.keys((cell.metadata as JsonObject).z as JsonObject), ['a', 'b']);
    const data = ((cell.outputs as JsonObject[])[0].items as JsonObject[])[0].data as JsonObject;
    assert.deepEqual(Object.keys(data), ['z', 'a']);
    assert.deepEqual(Object.keys(data.a as JsonObject), ['y', 'b']);
    assert.equal(serializeNotebook(parseNotebook(saved)), saved, 'idempotent');
  });

  test('unknown fields survive at every level, after the known ones, sorted', () => {
    const text = JSON.stringify({
      format: 'aenb',
      version: 1,
      zTop: { nested: [1, { b: 2, a: 1 }] },
      aTop: 'first',
      metadata: { custom: { deep: true } },
      cells: [
        { kind: 'markdown', source: 'hi', attachments: { 'x.png': 'AAAA' } },
        {
          kind: 'code',
          language: 'typescript',
          source: 'x',
          id: 'cell-2',
          metadata: { tags: ['t'], collapsed: true },
          outputs: [
            {
              outputId: 'o1',
              metadata: { m: 1 },
              items: [{ mime: 'text/plain', data: 'x', encoding: 'utf8' }],
            },
          ],
          execution: { order: 7, success: true, durationMs: 1, host: 'ci', endedAt: '2025-01-01T00:00:01Z' },
        },
      ],
    });
    const nb = parseNotebook(text);
    assert.deepEqual(nb.extra, { zTop: { nested: [1, { b: 2, a: 1 }] }, aTop: 'first' });
    assert.deepEqual(nb.cells[0].extra, { attachments: { 'x.png': 'AAAA' } });
    const code = nb.cells[1] as AenbCodeCell;
    assert.deepEqual(code.extra, { id: 'cell-2' });
    assert.deepEqual(code.metadata, { tags: ['t'], collapsed: true });
    assert.deepEqual(code.outputs[0].extra, { outputId: 'o1' });
    assert.deepEqual(code.outputs[0].items[0].extra, { encoding: 'utf8' });
    assert.deepEqual(code.execution?.extra, { host: 'ci', endedAt: '2025-01-01T00:00:01Z' });

    const saved = serializeNotebook(nb);
    assert.deepEqual(parseNotebook(saved), nb, 'load/save/load keeps everything');
    assert.equal(serializeNotebook(parseNotebook(saved)), saved);
    assert.deepEqual(Object.keys(JSON.parse(saved) as JsonObject), ['format', 'version', 'metadata', 'cells', 'aTop', 'zTop']);
    assert.match(saved, /"durationMs": 1,\n\s+"endedAt": "2025-01-01T00:00:01Z",\n\s+"host": "ci"\n/);
    assert.match(saved, /"data": "x",\n\s+"encoding": "utf8"\n/);
    assert.match(saved, /"outputs": \[\],\n\s+"attachments"|"source": \[\n\s+"hi"\n\s+\],\n\s+"attachments"/);
    assert.match(saved, /"outputs": \[[\s\S]*\],\n\s+"execution": [\s\S]*\},\n\s+"id": "cell-2"\n/);
    assert.match(saved, /"zTop": \{\n\s+"nested": \[\n\s+1,\n\s+\{\n\s+"a": 1,\n\s+"b": 2\n/, 'unknown values are canonical too');
  });

  test('a known key cannot be shadowed by `extra`', () => {
    const nb = createNotebook([createMarkdownCell('m')]);
    nb.extra = { format: 'other', version: 99, cells: [] };
    nb.cells[0].extra = { kind: 'code' };
    assert.deepEqual(parseNotebook(serializeNotebook(nb)).cells[0].kind, 'markdown');
    assert.equal(serializeNotebook(nb), serializeNotebook(createNotebook([createMarkdownCell('m')])));
  });

  test('CRLF and lone CR line endings in sources are kept exactly', () => {
    const source = 'const a = 1;\r\nconst b = 2;\r\n\r\n// old mac\rend\r\n';
    const nb = createNotebook([createCodeCell(source), createMarkdownCell('# A\r\n\r\ntext')]);
    const saved = serializeNotebook(nb);
    const disk = JSON.parse(saved) as { cells: Array<{ source: string[] }> };
    assert.deepEqual(disk.cells[0].source, ['const a = 1;\r\n', 'const b = 2;\r\n', '\r\n', '// old mac\rend\r\n']);
    const back = parseNotebook(saved);
    assert.equal(back.cells[0].source, source);
    assert.equal(back.cells[1].source, '# A\r\n\r\ntext');
    assert.equal(serializeNotebook(back), saved);
  });

  test('a notebook file with CRLF line endings (e.g. after a git checkout on Windows) loads', () => {
    const crlf = realistic.replace(/\n/g, '\r\n');
    assert.equal(serializeNotebook(parseNotebook(crlf)), realistic);
  });

  test('numbers that JSON cannot hold are written as null', () => {
    const nb = createNotebook([createCodeCell('x')]);
    (nb.cells[0] as AenbCodeCell).outputs.push({ items: [{ mime: 'application/json', data: { loss: [1, NaN, Infinity] } }] });
    const saved = serializeNotebook(nb);
    assert.deepEqual(((parseNotebook(saved).cells[0] as AenbCodeCell).outputs[0].items[0].data as JsonObject).loss, [1, null, null]);
  });
});

describe('aenb: empty files', () => {
  for (const text of ['', ' ', '\n', '\r\n\t  \n', '\ufeff']) {
    test(`${JSON.stringify(text)} opens as a new empty notebook`, () => {
      const nb = parseNotebook(text);
      assert.deepEqual(nb, createNotebook());
    });
  }
  for (const text of ['null', '{}', '[]', '""', '\u00a0', '\n\u2028\n', '0']) {
    test(`${JSON.stringify(text)} is not treated as empty`, () => {
      formatError(() => parseNotebook(text));
    });
  }
});

describe('aenb: invalid JSON reports the line and column', () => {
  const cases: Array<{ name: string; text: string; line: number; column: number; reason: RegExp }> = [
    {
      name: 'trailing comma',
      text: '{\n  "format": "aenb",\n  "version": 1,\n  "cells": [\n    1,\n  ]\n}\n',
      line: 6,
      column: 3,
      reason: /unexpected "\]", expected a value/,
    },
    {
      name: 'missing comma',
      text: '{\n  "format": "aenb"\n  "version": 1\n}',
      line: 3,
      column: 3,
      reason: /unexpected string "version", expected ","/,
    },
    {
      name: 'bad literal',
      text: '{\n  "format": "aenb",\n  "ok": tru\n}',
      line: 3,
      column: 12,
      reason: /expected "true"|Unexpected token/,
    },
    { name: 'truncated file', text: '{\n  "format": "aenb",\n  "cells": [', line: 3, column: 13, reason: /end of JSON input|unexpected end/ },
    { name: 'garbage after the value', text: '{"cells": []}\n\nx', line: 3, column: 1, reason: /unexpected "x" after the JSON value/ },
    { name: 'unterminated string', text: '{\n"a": "abc\n}', line: 2, column: 10, reason: /string/i },
    { name: 'CRLF lines count once', text: '{\r\n  "a": 1,\r\n  "b": }\r\n', line: 3, column: 8, reason: /unexpected "}"/ },
    { name: 'single quotes', text: "{\n  'format': 'aenb'\n}", line: 2, column: 3, reason: /property name/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const e = formatError(() => parseNotebook(c.text, 'bad.aenb'));
      assert.deepEqual({ line: e.line, column: e.column }, { line: c.line, column: c.column }, e.message);
      assert.match(e.reason, /^the file is not valid JSON: /);
      assert.match(e.reason, c.reason);
      assert.equal(e.path, '');
      assert.ok(e.message.startsWith(`bad.aenb:${c.line}:${c.column}: `), e.message);
      assert.doesNotMatch(e.reason, /at position \d+|is not valid JSON$/, 'location and echoed text removed from the reason');
    });
  }

});

describe('aenb: structural errors name the path', () => {
  const code = (fields: string) => `{"kind":"code","language":"typescript","source":"x"${fields}}`;
  const cases: Array<{ name: string; text: string; path: string; reason: RegExp }> = [
    { name: 'root is an array', text: '[1]', path: '', reason: /notebook must be an object, found an array/ },
    { name: 'missing format', text: '{"version":1,"cells":[]}', path: '', reason: /"format": "aenb" is missing/ },
    { name: 'a Jupyter notebook', text: '{"nbformat":4,"cells":[]}', path: '', reason: /Jupyter notebook/ },
    { name: 'wrong format', text: '{"format":"ipynb","version":1,"cells":[]}', path: 'format', reason: /must be "aenb", found the string "ipynb"/ },
    { name: 'missing version', text: '{"format":"aenb","cells":[]}', path: '', reason: /missing the required field "version"/ },
    { name: 'version as a string', text: '{"format":"aenb","version":"1","cells":[]}', path: 'version', reason: /positive integer/ },
    { name: 'version 0', text: '{"format":"aenb","version":0,"cells":[]}', path: 'version', reason: /positive integer/ },
    { name: 'missing cells', text: '{"format":"aenb","version":1}', path: '', reason: /missing the required field "cells"/ },
    { name: 'cells not an array', text: minimal('{}'), path: 'cells', reason: /"cells" must be an array, found an object/ },
    { name: 'metadata not an object', text: minimal('[]', '"metadata":[],'), path: 'metadata', reason: /must be an object/ },
    { name: 'cell not an object', text: minimal('["x"]'), path: 'cells[0]', reason: /a cell must be an object/ },
    { name: 'bad kind', text: minimal('[{"kind":"raw","source":""}]'), path: 'cells[0].kind', reason: /"code" or "markdown"/ },
    { name: 'missing source', text: minimal('[{"kind":"markdown"}]'), path: 'cells[0]', reason: /missing the required field "source"/ },
    { name: 'source a number', text: minimal(`[${code('').replace('"source":"x"', '"source":3')}]`), path: 'cells[0].source', reason: /string or an array of strings, found the number 3/ },
    { name: 'source line not a string', text: minimal('[{"kind":"markdown","source":["a\\n",null]}]'), path: 'cells[0].source[1]', reason: /each line/ },
    { name: 'code cell without language', text: minimal('[{"kind":"code","source":"x"}]'), path: 'cells[0]', reason: /missing the required field "language"/ },
    { name: 'unknown language', text: minimal('[{"kind":"code","language":"python","source":"x"}]'), path: 'cells[0].language', reason: /"typescript" or "javascript"/ },
    { name: 'markdown with another language', text: minimal('[{"kind":"markdown","language":"html","source":"x"}]'), path: 'cells[0].language', reason: /must be "markdown"/ },
    { name: 'markdown with outputs', text: minimal('[{"kind":"markdown","source":"x","outputs":[{"items":[]}]}]'), path: 'cells[0].outputs', reason: /no outputs/ },
    { name: 'markdown with execution', text: minimal('[{"kind":"markdown","source":"x","execution":{}}]'), path: 'cells[0].execution', reason: /not executed/ },
    { name: 'tags not strings', text: minimal(`[{"kind":"markdown","source":"","metadata":{"tags":["a",2]}}]`), path: 'cells[0].metadata.tags[1]', reason: /each tag must be a string/ },
    { name: 'outputs not an array', text: minimal(`[${code(',"outputs":{}')}]`), path: 'cells[0].outputs', reason: /must be an array/ },
    { name: 'output without items', text: minimal(`[${code(',"outputs":[{}]')}]`), path: 'cells[0].outputs[0]', reason: /missing the required field "items"/ },
    { name: 'item without mime', text: minimal(`[${code(',"outputs":[{"items":[{"data":"x"}]}]')}]`), path: 'cells[0].outputs[0].items[0]', reason: /"mime"/ },
    { name: 'item with a bad mime', text: minimal(`[${code(',"outputs":[{"items":[{"mime":"png","data":"x"}]}]')}]`), path: 'cells[0].outputs[0].items[0].mime', reason: /MIME type/ },
    { name: 'item without data', text: minimal(`[${code(',"outputs":[{"items":[{"mime":"application/json"}]}]')}]`), path: 'cells[0].outputs[0].items[0]', reason: /missing the required field "data"/ },
    { name: 'text data not a string', text: minimal(`[${code(',"outputs":[{"items":[{"mime":"text/plain","data":{}}]}]')}]`), path: 'cells[0].outputs[0].items[0].data', reason: /text\/plain output must be a string/ },
    { name: 'binary data not base64', text: minimal(`[${code(',"outputs":[{"items":[{"mime":"image/png","data":"iVBOR w=="}]}]')}]`), path: 'cells[0].outputs[0].items[0].data', reason: /not valid base64/ },
    { name: 'binary data a number', text: minimal(`[${code(',"outputs":[{"items":[{"mime":"image/png","data":5}]}]')}]`), path: 'cells[0].outputs[0].items[0].data', reason: /base64 string, found the number 5/ },
    { name: 'negative order', text: minimal(`[${code(',"execution":{"order":-1,"success":true,"durationMs":1}')}]`), path: 'cells[0].execution.order', reason: /non-negative integer/ },
    { name: 'success not boolean', text: minimal(`[${code(',"execution":{"order":1,"success":"yes","durationMs":1}')}]`), path: 'cells[0].execution.success', reason: /true or false/ },
    { name: 'missing duration', text: minimal(`[${code(',"execution":{"order":1,"success":true}')}]`), path: 'cells[0].execution', reason: /"durationMs"/ },
    { name: 'bad startedAt', text: minimal(`[${code(',"execution":{"order":1,"success":true,"durationMs":1,"startedAt":"yesterday"}')}]`), path: 'cells[0].execution.startedAt', reason: /ISO 8601/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const e = formatError(() => parseNotebook(c.text, 'x.aenb'));
      assert.equal(e.path, c.path);
      assert.match(e.reason, c.reason);
      assert.ok(e.message.includes(c.path ? `: ${c.path}: ` : 'x.aenb:1:'), e.message);
    });
  }

  test('the line and column point at the offending value in a pretty-printed file', () => {
    const broken = realistic.replace('"source": [\n        "model.predict(undefined)"\n      ]', '"source": 42');
    assert.notEqual(broken, realistic);
    const e = formatError(() => parseNotebook(broken, 'realistic.aenb'));
    assert.equal(e.path, 'cells[3].source');
    assert.deepEqual({ line: e.line, column: e.column }, positionOf(broken, '"source": 42', '"source": '.length));
    assert.match(e.message, /^realistic\.aenb:\d+:17: cells\[3\]\.source: the source must be a string or an array of strings, found the number 42$/);

    const deep = realistic.replace('"mime": "image/png",\n              "data": "iVBOR', '"mime": "image/png",\n              "data": "!VBOR');
    const e2 = formatError(() => parseNotebook(deep));
    assert.equal(e2.path, 'cells[2].outputs[2].items[0].data');
    assert.deepEqual({ line: e2.line, column: e2.column }, positionOf(deep, '"!VBOR'));
  });

  test('a missing field points at the object that lacks it; duplicate keys use the last, like JSON.parse', () => {
    const text = '{\n  "format": "aenb",\n  "version": 1,\n  "cells": [\n    {"kind": "code", "source": "x"}\n  ]\n}';
    const e = formatError(() => parseNotebook(text));
    assert.equal(e.path, 'cells[0]');
    assert.deepEqual({ line: e.line, column: e.column }, { line: 5, column: 5 });
    const dup = '{"format": "aenb", "version": 1, "cells": [],\n "cells": {}}';
    const e2 = formatError(() => parseNotebook(dup));
    assert.deepEqual({ line: e2.line, column: e2.column, path: e2.path }, { line: 2, column: 11, path: 'cells' });
  });

  test('a notebook from a newer version is refused, not mangled', () => {
    const text = realistic.replace('"version": 1', '"version": 2').replace('"cells": [', '"cells": "now an object in v2", "cellsV2": [');
    const e = formatError(() => parseNotebook(text, 'new.aenb'));
    assert.equal(e.path, 'version');
    assert.equal(
      e.reason,
      'this notebook was written by a newer version of Autoencoder Notebooks (format version 2); this version reads version 1; update the extension',
    );
    assert.deepEqual({ line: e.line, column: e.column }, { line: 3, column: 14 });
    assert.equal(AENB_FORMAT_VERSION, 1);
  });
});

describe('aenb: output data', () => {
  test('MIME types map to text, JSON or binary storage', () => {
    const expected: Record<string, string> = {
      'text/plain': 'text',
      'text/markdown': 'text',
      'Text/HTML; charset=utf-8': 'text',
      'image/svg+xml': 'text',
      'application/vnd.code.notebook.stdout': 'text',
      'application/vnd.code.notebook.stderr': 'text',
      'application/json': 'json',
      'application/vnd.aenb.training+json': 'json',
      'application/vnd.code.notebook.error': 'json',
      'image/png': 'binary',
      'image/jpeg': 'binary',
      'application/octet-stream': 'binary',
    };
    for (const [mime, kind] of Object.entries(expected)) assert.equal(mimeDataKind(mime), kind, mime);
  });

  test('base64 round trip for every byte value and every padding length', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (let n = 0; n <= 6; n++) assert.deepEqual(base64ToBytes(bytesToBase64(all.subarray(0, n))), all.subarray(0, n));
    assert.deepEqual(base64ToBytes(bytesToBase64(all)), all);
    assert.equal(bytesToBase64(new TextEncoder().encode('Many hands make light work.')), 'TWFueSBoYW5kcyBtYWtlIGxpZ2h0IHdvcmsu');
    assert.equal(bytesToBase64(Uint8Array.of(0xfb, 0xff)), '+/8=');
    const big = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 31) & 255);
    assert.deepEqual(base64ToBytes(bytesToBase64(big)), big);
  });

  test('invalid base64 is rejected', () => {
    for (const bad of ['abc', 'ab=c', 'a===', 'ab c', 'ab\ncd==', 'é123']) {
      assert.equal(isBase64(bad), false, bad);
      assert.throws(() => base64ToBytes(bad), TypeError, bad);
    }
    assert.equal(isBase64(''), true);
    assert.equal(isBase64('AA=='), true);
  });

  test('bytes to stored data and back', () => {
    const text = 'héllo\nwörld';
    const textBytes = new TextEncoder().encode(text);
    assert.equal(outputDataFromBytes(MIME.stdout, textBytes), text);
    assert.deepEqual(outputDataToBytes(MIME.stdout, text), textBytes);

    const json = { b: [1, 2], a: 'x' };
    const stored = outputDataFromBytes('application/vnd.aenb.summary+json', new TextEncoder().encode(JSON.stringify(json)));
    assert.deepEqual(stored, json);
    assert.equal(new TextDecoder().decode(outputDataToBytes('application/json', stored)), '{"b":[1,2],"a":"x"}');
    assert.throws(() => outputDataFromBytes('application/json', new TextEncoder().encode('{oops')), /application\/json is not valid JSON/);

    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0, 255);
    assert.equal(outputDataFromBytes(MIME.png, png), 'iVBORwD/');
    assert.deepEqual(outputDataToBytes(MIME.png, 'iVBORwD/'), png);
    assert.throws(() => outputDataToBytes(MIME.png, 42), /base64 string/);
  });

  test('error outputs use VS Code\'s { name, message, stack }', () => {
    const err = new RangeError('bad shape');
    const out = errorOutput(err);
    assert.equal(out.items[0].mime, 'application/vnd.code.notebook.error');
    assert.deepEqual(out.items[0].data, { name: 'RangeError', message: 'bad shape', stack: err.stack ?? '' });
    assert.deepEqual(errorOutput('plain string').items[0].data, { name: 'Error', message: 'plain string', stack: '' });
  });

  test('the serializer refuses in-memory values it could not read back', () => {
    const nb = createNotebook([createCodeCell('x')]);
    (nb.cells[0] as AenbCodeCell).outputs.push({ items: [{ mime: MIME.png, data: [1, 2] }] });
    assert.throws(() => serializeNotebook(nb), /cells\[0\]\.outputs\[0\]\.items\[0\]\.data: image\/png data must be a string/);
  });
});

describe('aenb: helpers', () => {
  test('splitSourceLines keeps every terminator', () => {
    assert.deepEqual(splitSourceLines(''), []);
    assert.deepEqual(splitSourceLines('a'), ['a']);
    assert.deepEqual(splitSourceLines('a\n'), ['a\n']);
    assert.deepEqual(splitSourceLines('a\r\n\nb'), ['a\r\n', '\n', 'b']);
    for (const s of ['', 'x', '\n\n', 'a\r\nb\rc\n']) assert.equal(splitSourceLines(s).join(''), s);
  });

  test('findParametersCell finds the first code cell tagged "parameters"', () => {
    const nb: AenbNotebook = createNotebook([
      createMarkdownCell('# p', { tags: ['parameters'] }),
      createCodeCell('const a = 1;'),
      createCodeCell('const lr = 0.001;', { tags: ['setup', 'parameters'] }),
      createCodeCell('const lr = 0.1;', { tags: ['parameters'] }),
    ]);
    const found = findParametersCell(nb);
    assert.equal(found?.index, 2);
    assert.equal(found?.cell.source, 'const lr = 0.001;');
    assert.equal(findParametersCell(createNotebook([createCodeCell('x')])), undefined);
    assert.equal(findParametersCell(parseNotebook(realistic))?.index, 1);
  });
});
