// Lint rules, including the architecture's import boundaries:
// only the VS Code glue may import `vscode`, and the renderer sees only src/common.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscode = {
  'no-restricted-imports': ['error', {
    paths: [{ name: 'vscode', message: 'Only src/extension.ts, src/notebook and src/commands may import vscode.' }],
  }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.cache/**', '.scratch/**', 'demo-output/**', 'test-results/**', 'bench/peers/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  { files: ['src/lib/**', 'src/kernel/**', 'src/common/**', 'src/cli/**', 'src/outputs/**', 'src/report/**', 'src/language/**', 'src/tsserver-plugin/**', 'bench/**'], rules: noVscode },
  // An output kind's parts run on different sides (src/outputs/kind.ts): only
  // kernel parts compute; contracts, report views and views stay pure or DOM.
  {
    files: ['src/common/**', 'src/report/**', 'src/outputs/**'],
    ignores: ['src/outputs/*/kernel.ts', 'src/outputs/*/kernel-*.ts', 'src/outputs/*/png.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'Only src/extension.ts, src/notebook and src/commands may import vscode.' }],
        patterns: [
          { group: ['@tensorflow/*', '**/src/lib/**', '../lib/**', '../../lib/**', '../kernel/**', '../../kernel/**'], message: 'Only an output kind\'s kernel part (kernel.ts) may use TensorFlow.js or the library.' },
          { group: ['node:*'], message: 'Shared code runs in the renderer too: no Node modules here (kernel parts may).' },
        ],
      }],
    },
  },
  {
    files: ['renderers/**', 'src/outputs/*/view.ts', 'src/outputs/*/view-*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'The renderer runs in a webview: no vscode module.' }],
        patterns: [
          { group: ['**/src/lib/**', '**/src/kernel/**', '**/src/notebook/**', '**/src/commands/**', '**/src/cli/**'], message: 'The renderer may import only src/common.' },
          { group: ['@tensorflow/*'], message: 'The renderer draws; it does not compute.' },
        ],
      }],
    },
  },
  { files: ['scripts/**/*.mjs', 'eslint.config.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
);
