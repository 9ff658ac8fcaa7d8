/**
 * A TypeScript server plugin that keeps VS Code's built-in TypeScript and
 * JavaScript features from answering in the cells of `.aenb` notebooks, where
 * the extension's own language service answers (src/language/, wired in
 * src/notebook/language/).
 *
 * The built-in extension sends every notebook cell to tsserver as a file of
 * its own (`^/vscode-notebook-cell/<authority>/<path>.aenb#<cell>`), which
 * knows neither the kernel's globals nor the other cells: left alone, it
 * would add hovers saying `any`, a second and different list of completions,
 * and each syntax error twice. For those files only, this plugin answers
 * "nothing" for what we provide (completions, hover, signature help,
 * definitions, problems); formatting, folding, selection ranges and the
 * rest stay the built-in extension's. Every other file is untouched.
 *
 * No `typescript` import: tsserver hands the plugin its own module.
 */
import type * as ts from 'typescript';

import { isAenbCell } from './cells';

type Silenced = Partial<Record<keyof ts.LanguageService, unknown>>;

function silence(ls: ts.LanguageService): ts.LanguageService {
  const proxy = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(ls) as (keyof ts.LanguageService)[]) {
    const value = ls[key];
    proxy[key] = typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(ls) : value;
  }
  const nothing = (method: keyof ts.LanguageService, empty: () => unknown) => {
    const original = ls[method] as (file: string, ...rest: unknown[]) => unknown;
    if (typeof original !== 'function') return;
    proxy[method] = (file: string, ...rest: unknown[]) => (isAenbCell(file) ? empty() : original.call(ls, file, ...rest));
  };
  const silenced: Silenced = {
    getCompletionsAtPosition: () => undefined,
    getCompletionEntryDetails: () => undefined,
    getQuickInfoAtPosition: () => undefined,
    getSignatureHelpItems: () => undefined,
    getDefinitionAtPosition: () => undefined,
    getDefinitionAndBoundSpan: () => undefined,
    getTypeDefinitionAtPosition: () => undefined,
    getSyntacticDiagnostics: () => [],
    getSemanticDiagnostics: () => [],
    getSuggestionDiagnostics: () => [],
  };
  for (const [method, empty] of Object.entries(silenced)) nothing(method as keyof ts.LanguageService, empty as () => unknown);
  return proxy as unknown as ts.LanguageService;
}

function init(): ts.server.PluginModule {
  return {
    create(info) {
      info.project.projectService.logger.info('[autoencoder-notebooks] .aenb notebook cells are left to the Autoencoder Notebooks extension');
      return silence(info.languageService);
    },
  };
}

module.exports = init;
