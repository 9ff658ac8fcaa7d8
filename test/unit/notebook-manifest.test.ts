// package.json's contributions agree with the code: ids, MIME types, commands,
// settings, walkthrough media.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RENDERER_ID, RENDERER_MIME_TYPES } from '../../src/outputs';
import { CATEGORY, COMMANDS, NOTEBOOK_TYPE, WALKTHROUGH_ID } from '../../src/common/ids';
import { BACKEND_CHOICES, BACKEND_DESCRIPTIONS, SECTION, SETTING } from '../../src/notebook/settings';

const ROOT = join(__dirname, '..', '..', '..');
const pkg: any = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const c = pkg.contributes;

describe('package.json contributions', () => {
  test('the notebook type opens *.aenb and the kernel activates with it', () => {
    assert.deepEqual(c.notebooks.map((n: { type: string }) => n.type), [NOTEBOOK_TYPE]);
    assert.deepEqual(c.notebooks[0].selector, [{ filenamePattern: '*.aenb' }]);
    assert.ok(pkg.activationEvents.includes(`onNotebook:${NOTEBOOK_TYPE}`));
    assert.ok(pkg.activationEvents.includes(`onRenderer:${RENDERER_ID}`));
  });

  test('the renderer: id, entry point, MIME types, optional messaging', () => {
    assert.equal(c.notebookRenderer.length, 1);
    const r = c.notebookRenderer[0];
    assert.equal(r.id, RENDERER_ID);
    assert.equal(r.entrypoint, './dist/renderer.js');
    assert.deepEqual(r.mimeTypes, [...RENDERER_MIME_TYPES]);
    assert.equal(r.requiresMessaging, 'optional');
  });

  test('commands: the same set as the code, all in one category', () => {
    const ids: string[] = c.commands.map((x: { command: string }) => x.command).sort();
    assert.deepEqual([...ids], [...Object.values(COMMANDS)].sort());
    for (const cmd of c.commands) {
      assert.equal(cmd.category, CATEGORY, cmd.command);
      assert.ok(cmd.title && !cmd.title.startsWith(CATEGORY), `${cmd.command} has a title without the category`);
    }
    for (const [menu, items] of Object.entries(c.menus as Record<string, { command: string }[]>)) {
      for (const item of items) assert.ok(ids.includes(item.command), `${menu} lists the unknown command ${item.command}`);
    }
  });

  test('settings: names, backend enum and its descriptions match the code', () => {
    const props = c.configuration.properties;
    assert.deepEqual(Object.keys(props).sort(), Object.values(SETTING).map((s) => `${SECTION}.${s}`).sort());
    for (const [k, p] of Object.entries(props as Record<string, { description?: string; markdownDescription?: string }>)) {
      assert.ok(p.description || p.markdownDescription, `${k} has a description`);
    }
    const backend = props[`${SECTION}.${SETTING.backend}`];
    assert.deepEqual(backend.enum, [...BACKEND_CHOICES]);
    assert.deepEqual(backend.enumDescriptions, BACKEND_CHOICES.map((b) => BACKEND_DESCRIPTIONS[b]));
    assert.equal(backend.default, 'auto');
  });

  test('Workspace Trust: limited support, explained; restricted settings exist', () => {
    const t = pkg.capabilities.untrustedWorkspaces;
    assert.equal(t.supported, 'limited');
    assert.ok(t.description.length > 40);
    for (const s of t.restrictedConfigurations) assert.ok(c.configuration.properties[s], s);
  });

  test('the walkthrough: media files exist, links point at real commands', () => {
    const w = c.walkthroughs.find((x: { id: string }) => x.id === WALKTHROUGH_ID);
    assert.ok(w, 'walkthrough present');
    const ours = new Set(Object.values(COMMANDS) as string[]);
    for (const step of w.steps) {
      const media = step.media.markdown ?? step.media.image ?? step.media.svg;
      assert.ok(existsSync(join(ROOT, media)), `${step.id}: ${media} exists`);
      assert.match(media, /^media\/walkthrough\//);
      for (const [, id] of (step.description as string).matchAll(/\(command:([\w.]+)\)/g)) {
        if (id.startsWith('autoencoderNotebooks.')) assert.ok(ours.has(id), `${step.id} links to ${id}`);
      }
      for (const ev of step.completionEvents ?? []) {
        const m = /^onCommand:(autoencoderNotebooks\.\w+)$/.exec(ev);
        if (m) assert.ok(ours.has(m[1]), `${step.id} completes on ${m[1]}`);
      }
    }
    for (const step of w.steps) {
      const md = readFileSync(join(ROOT, step.media.markdown), 'utf8');
      for (const [, img] of md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) assert.ok(existsSync(join(ROOT, 'media/walkthrough', img)), `${step.id}: image ${img} exists`);
    }
  });
});
