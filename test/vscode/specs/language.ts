/// <reference types="mocha" />
// Typed cells in the real VS Code: completions, hover, signature help,
// definitions and problems in .aenb cells, through VS Code's own commands
// (the same ones the editor uses), with the built-in TypeScript extension
// active beside ours. Nothing here runs a cell.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { parseNotebook } from '../../../src/common/aenb';
import { EXTENSION_ID, NOTEBOOK_TYPE, closeAll, showNotebook, waitFor } from '../helpers';

const CHECKED_COMMAND = 'autoencoderNotebooks.internal.cellsChecked';

/** Waits until every TypeScript/JavaScript cell of the notebook has its problems shown for its current text. */
async function waitChecked(doc: vscode.NotebookDocument, timeoutMs = 120_000): Promise<void> {
  let last: unknown;
  await waitFor(
    async () => {
      const s = await vscode.commands.executeCommand<{ cells: number; checked: number } | undefined>(CHECKED_COMMAND, doc.uri);
      last = s;
      return !!s && s.cells > 0 && s.checked === s.cells;
    },
    () => `the problems of every cell of ${doc.uri.toString(true)} (last: ${JSON.stringify(last)})`,
    timeoutMs,
  );
}

const code = (source: string, language = 'typescript') => new vscode.NotebookCellData(vscode.NotebookCellKind.Code, source, language);
const markdown = (source: string) => new vscode.NotebookCellData(vscode.NotebookCellKind.Markup, source, 'markdown');

function position(cell: vscode.NotebookCell, needle: string, after = false): vscode.Position {
  const text = cell.document.getText();
  const i = text.indexOf(needle);
  assert.ok(i >= 0, `cell ${cell.index + 1} contains ${JSON.stringify(needle)}`);
  return cell.document.positionAt(i + (after ? needle.length : 0));
}

const labelOf = (item: vscode.CompletionItem) => (typeof item.label === 'string' ? item.label : item.label.label);

function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n---\n');
}

function problems(cell: vscode.NotebookCell): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(cell.document.uri);
}

function describeProblems(doc: vscode.NotebookDocument): string {
  return doc
    .getCells()
    .map((c) => `cell ${c.index + 1}: ${JSON.stringify(problems(c).map((d) => `${d.range.start.line}:${d.range.start.character} ${d.message}`))}`)
    .join('; ');
}

export function defineLanguageTests(): void {
  describe('typed cells', function () {
    this.timeout(180_000);
    let doc: vscode.NotebookDocument;
    let cells: vscode.NotebookCell[];

    before(async () => {
      doc = await vscode.workspace.openNotebookDocument(
        NOTEBOOK_TYPE,
        new vscode.NotebookData([
          markdown('# Typed cells'),
          code('const [[xTrain], [xTest]] = await datasets.mnist.loadData();\nconst x = xTrain.div(255);'),
          code("const autoencoder = new Autoencoder({ inputShape: [28, 28], latentDim: 8, name: 'Typed' });\nautoencoder"),
          code("// a number\nconst n: number = 'x';"),
          code('// misspelled\n\nautoencoder.fitt(x);'),
          code('const scale = (t) => t.mul(2);\nscale(xTest).shape', 'javascript'),
          code('autoencoder.;\ntf.;'),
          code('const autoencoder = 3; // re-declared in a later cell: fine, as in the kernel\nautoencoder.toFixed(1)'),
        ]),
      );
      await showNotebook(doc);
      cells = doc.getCells();
      await waitChecked(doc);
    });

    after(closeAll);

    it('problems are reported at the right cell and line, and nowhere else', () => {
      const wrongType = problems(cells[3]);
      assert.equal(wrongType.length, 1, describeProblems(doc));
      assert.equal(wrongType[0].severity, vscode.DiagnosticSeverity.Error);
      assert.match(wrongType[0].message, /Type 'string' is not assignable to type 'number'/);
      assert.equal(wrongType[0].range.start.line, 1, 'on the second line of the cell');
      assert.equal(wrongType[0].source, 'ts');

      const misspelled = problems(cells[4]);
      assert.equal(misspelled.length, 1, describeProblems(doc));
      assert.match(misspelled[0].message, /Property 'fitt' does not exist on type 'Autoencoder'. Did you mean 'fit'\?/);
      assert.equal(misspelled[0].range.start.line, 2, 'on the third line of the cell');
      assert.equal(misspelled[0].range.start.character, 'autoencoder.'.length);
      assert.equal(misspelled[0].code, 2551);

      // Top-level await, a last expression, a const re-declared in a later cell, a JavaScript cell: all fine.
      for (const i of [1, 2, 5, 7]) assert.deepEqual(problems(cells[i]).map((d) => d.message), [], `cell ${i + 1}: ${describeProblems(doc)}`);
    });

    it('completions after `autoencoder.` list the model\'s members, once each', async () => {
      const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', cells[6].document.uri, position(cells[6], 'autoencoder.', true), '.');
      const labels = list.items.map(labelOf);
      for (const name of ['fit', 'predict', 'encode', 'decode', 'encoder', 'compile', 'summary']) {
        assert.equal(labels.filter((l) => l === name).length, 1, `${name} once among ${labels.length}: ${labels.slice(0, 40).join(', ')}`);
      }
      assert.ok(!labels.includes('typeof'), 'no keywords after a dot');
    });

    it('completions after `tf.` list TensorFlow.js', async () => {
      const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', cells[6].document.uri, position(cells[6], 'tf.', true), '.');
      const labels = list.items.map(labelOf);
      for (const name of ['sequential', 'layers', 'tensor', 'tidy', 'train']) assert.equal(labels.filter((l) => l === name).length, 1, `${name} once`);
      const sequential = list.items.find((i) => labelOf(i) === 'sequential');
      assert.equal(sequential?.kind, vscode.CompletionItemKind.Function);
    });

    it('hover on xTrain shows a tensor type, once', async () => {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', cells[1].document.uri, position(cells[1], 'xTrain'));
      assert.equal(hovers.length, 1, `one hover (the built-in TypeScript extension stays out): ${hoverText(hovers)}`);
      assert.match(hoverText(hovers), /const xTrain: tf\.Tensor3D/);
      assert.doesNotMatch(hoverText(hovers), /\bany\b/);
    });

    it('hover on a global shows its documentation', async () => {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', cells[1].document.uri, position(cells[1], 'mnist'));
      assert.match(hoverText(hovers), /MNIST handwritten digits/);
      const onTf = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', cells[6].document.uri, position(cells[6], 'tf'));
      assert.match(hoverText(onTf), /import \* as tf from '@tensorflow\/tfjs'/);
    });

    it('signature help in a constructor call', async () => {
      const help = await vscode.commands.executeCommand<vscode.SignatureHelp>('vscode.executeSignatureHelpProvider', cells[2].document.uri, position(cells[2], '{ inputShape'), '(');
      assert.ok(help && help.signatures.length > 0, 'a signature');
      assert.match(help.signatures[help.activeSignature].label, /Autoencoder\(args: AutoencoderArgs\)/);
    });

    it('go to definition: a cell above, and TensorFlow.js\'s own declarations', async () => {
      const toCell = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', cells[4].document.uri, position(cells[4], 'autoencoder.fitt'));
      const uri = (l: vscode.Location | vscode.LocationLink) => ('targetUri' in l ? l.targetUri : l.uri);
      const rangeOf = (l: vscode.Location | vscode.LocationLink) => ('targetRange' in l ? l.targetRange : l.range);
      assert.equal(toCell.length, 1);
      assert.equal(uri(toCell[0]).toString(), cells[2].document.uri.toString(), 'the cell that declares autoencoder');
      assert.equal(cells[2].document.getText(rangeOf(toCell[0])), 'autoencoder');

      const toTypes = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', cells[6].document.uri, position(cells[6], 'tf'));
      assert.ok(toTypes.length >= 1);
      const target = await vscode.workspace.openTextDocument(uri(toTypes[0]));
      assert.equal(uri(toTypes[0]).scheme, 'aenb-types');
      assert.match(target.getText(), /@tensorflow\/tfjs-core/);
    });

    it('an edit updates the problems of the cells below', async () => {
      const edit = new vscode.WorkspaceEdit();
      edit.replace(cells[2].document.uri, new vscode.Range(0, 0, cells[2].document.lineCount, 0), 'const autoencoder = 42;');
      assert.ok(await vscode.workspace.applyEdit(edit));
      await waitFor(
        () => problems(cells[4]).some((d) => /Property 'fitt' does not exist on type '42'/.test(d.message)),
        () => `the misspelled call re-checked against a number: ${describeProblems(doc)}`,
      );
    });
  });

  describe('typed cells: the samples', function () {
    this.timeout(180_000);
    after(closeAll);

    for (const sample of ['vanilla-mnist.aenb', 'stacked-fashion-mnist.aenb']) {
      it(`${sample} has no problems`, async () => {
        const ext = vscode.extensions.getExtension(EXTENSION_ID);
        assert.ok(ext);
        const file = join(ext.extensionPath, 'samples', sample);
        const codeCells = parseNotebook(readFileSync(file, 'utf8'), file).cells.filter((c) => c.kind === 'code').length;
        const doc = await vscode.workspace.openNotebookDocument(vscode.Uri.file(file));
        await showNotebook(doc);
        assert.equal(doc.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code).length, codeCells);
        await waitChecked(doc);
        const all = doc.getCells().flatMap((c) => problems(c));
        assert.deepEqual(all.map((d) => d.message), [], describeProblems(doc));
      });
    }
  });
}
