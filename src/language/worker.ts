// The language worker: a worker thread of the extension host that holds one
// NotebookLanguageService per open notebook, answers requests, and recomputes
// problems after edits, so that type-checking never blocks the extension host.
//
// Problems are recomputed a short quiet time after the last edit (typing never
// waits for them), one cell at a time with a turn of the event loop between
// cells, so that a completion or hover request waits for one cell at most; an
// edit that arrives meanwhile restarts the pass. The edited cell comes first,
// then the cells below it (the only ones an edit can change).
//
// A request the host cancelled while it waited in the queue (shared memory,
// see WorkerOptions.cancellations) is answered `cancelled` without running, so
// that completions the user typed past do not delay the one they wait for.
// (TypeScript checks a cancellation token only while computing problems, not
// while answering a completion, so a request that has started runs to its end.)
import type { CellDiagnostics } from './api';
import { loadCellTypes } from './bundle';
import { isCancelled, type FromWorker, type LanguageMethod, type LanguageMethods, type ToWorker, type WorkerOptions } from './protocol';
import { NotebookLanguageService } from './service';

export const DEFAULT_DIAGNOSTICS_DELAY_MS = 300;

interface Port {
  on(event: 'message', listener: (m: ToWorker) => void): unknown;
  postMessage(m: FromWorker): void;
}

interface NotebookState {
  service: NotebookLanguageService;
  /** Cells whose problems must be recomputed, in the order to do them. */
  pending: string[];
  timer?: NodeJS.Timeout;
  /** Bumped by every change; a pass of an older generation stops. */
  generation: number;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function runWorker(port: Port, options: WorkerOptions): void {
  const types = loadCellTypes(options.typesFile);
  const delay = options.diagnosticsDelayMs ?? DEFAULT_DIAGNOSTICS_DELAY_MS;
  const notebooks = new Map<string, NotebookState>();
  const post = (m: FromWorker) => port.postMessage(m);
  const cancellations = options.cancellations ? new Int32Array(options.cancellations) : undefined;

  const schedule = (key: string, state: NotebookState, ms: number) => {
    state.generation++;
    if (state.timer) clearTimeout(state.timer);
    state.timer = setTimeout(() => void pass(key, state), ms);
  };

  const pass = async (key: string, state: NotebookState) => {
    state.timer = undefined;
    const generation = state.generation;
    while (state.pending.length) {
      if (notebooks.get(key) !== state || state.generation !== generation) return;
      const cell = state.pending[0];
      if (state.service.hasCell(cell)) {
        let result: CellDiagnostics;
        try {
          result = { cell, version: state.service.cellVersion(cell), diagnostics: state.service.getDiagnostics(cell, { suggestions: true }) };
        } catch (e) {
          post({ type: 'log', level: 'error', message: `problems of a cell could not be computed: ${(e as Error).stack ?? e}` });
          result = { cell, version: state.service.cellVersion(cell), diagnostics: [] };
        }
        post({ type: 'diagnostics', notebook: key, cells: [result] });
      }
      state.pending.shift();
      await nextTurn();
    }
  };

  const queue = (state: NotebookState, first: string[]) => {
    const rest = state.pending.filter((c) => !first.includes(c));
    state.pending = [...first, ...rest];
  };

  const handlers: { [M in LanguageMethod]: (s: NotebookLanguageService, p: LanguageMethods[M]['params']) => LanguageMethods[M]['result'] } = {
    completions: (s, p) => s.getCompletions(p.cell, p.offset, p.triggerCharacter),
    completionDetails: (s, p) => s.getCompletionDetails(p.cell, p.offset, p.name, p.source, p.data),
    hover: (s, p) => s.getHover(p.cell, p.offset),
    signatureHelp: (s, p) => s.getSignatureHelp(p.cell, p.offset, p.trigger),
    definition: (s, p) => s.getDefinition(p.cell, p.offset),
    typeDefinition: (s, p) => s.getTypeDefinition(p.cell, p.offset),
    fileText: (s, p) => s.getFileText(p.file),
  };

  port.on('message', (m) => {
    switch (m.type) {
      case 'sync': {
        let state = notebooks.get(m.notebook);
        if (!state) {
          state = { service: new NotebookLanguageService(types), pending: [], generation: 0 };
          notebooks.set(m.notebook, state);
        }
        try {
          state.service.setCells(m.cells);
        } catch (e) {
          post({ type: 'log', level: 'error', message: `notebook ${m.notebook}: ${(e as Error).message}` });
          return;
        }
        queue(state, state.service.cellIds());
        schedule(m.notebook, state, 0);
        return;
      }
      case 'edit': {
        const state = notebooks.get(m.notebook);
        if (!state || !state.service.hasCell(m.cell)) return;
        state.service.updateCell(m.cell, m.text, m.version);
        const ids = state.service.cellIds();
        queue(state, ids.slice(ids.indexOf(m.cell)));
        schedule(m.notebook, state, delay);
        return;
      }
      case 'close': {
        const state = notebooks.get(m.notebook);
        if (!state) return;
        if (state.timer) clearTimeout(state.timer);
        state.generation++;
        state.service.dispose();
        notebooks.delete(m.notebook);
        return;
      }
      case 'request': {
        const state = notebooks.get(m.notebook);
        if (isCancelled(cancellations, m.id)) {
          post({ type: 'response', id: m.id, cancelled: true });
          return;
        }
        try {
          if (m.method === 'fileText') {
            post({ type: 'response', id: m.id, result: types.files.get(m.params.file) });
            return;
          }
          if (!state) throw new Error(`notebook ${m.notebook} is not open in the language worker`);
          const handler = handlers[m.method] as (s: NotebookLanguageService, p: unknown) => unknown;
          post({ type: 'response', id: m.id, result: handler(state.service, m.params) });
        } catch (e) {
          post({ type: 'response', id: m.id, error: (e as Error).message ?? String(e) });
        }
        return;
      }
    }
  });
}
