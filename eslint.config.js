import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import regexp from 'eslint-plugin-regexp';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'data/**',
      'e2e/test-results/**',
      'e2e/playwright-report/**',
      'bench/results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Regular expressions see untrusted paths, names and configurations: none may backtrack
    // super-linearly (a 720 KB mountinfo once froze the server for 30 s on /\/+$/).
    plugins: { regexp },
    rules: {
      'regexp/no-super-linear-backtracking': ['error', { report: 'potential' }],
      'regexp/no-super-linear-move': ['error', { report: 'potential' }],
      'regexp/no-misleading-capturing-group': ['error', { reportBacktrackingEnds: true }],
      'regexp/no-useless-backreference': 'error',
      'regexp/no-empty-alternative': 'error',
      'regexp/no-dupe-disjunctions': ['error', { report: 'interesting' }],
    },
  },
  {
    // The reader's universal entry runs in browsers and workers: no Node built-ins there.
    files: ['packages/erofs/src/**/*.ts', 'packages/sharing/src/**/*.ts', 'packages/oci/src/**/*.ts'],
    ignores: [
      'packages/erofs/src/node.ts',
      'packages/erofs/src/node/**',
      'packages/oci/src/node.ts',
      '**/*.test.ts',
    ],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fs', 'path', 'crypto', 'os', 'stream'] }],
    },
  },
);
