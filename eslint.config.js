// Lint: typescript-eslint's recommended rules plus the layer rules that keep the design honest.
// Imports flow one way — core ← worker ← state ← ui — and tfjs lives only in core and the worker,
// so the page's main thread never loads it. `npm run lint` runs this; `.ci/run` runs it before
// the tests, and src/lint.test.ts proves that an import breaking a layer rule fails.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Paths (as import specifiers end) that only core and the worker may load at run time. */
const TFJS_SIDE = [
  '**/core/tf.ts',
  '**/core/backend.ts',
  '**/core/wasm*.ts',
  '**/core/model/**',
  '**/core/train/**',
  '**/core/eval/experiment.ts',
];

const uiAndStateRule = {
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        {
          group: ['@tensorflow/*'],
          message: 'Layer rule: src/ui and src/state never load tfjs; training runs in the worker (src/worker).',
        },
        {
          group: TFJS_SIDE,
          // Types are erased at build time, so `import type { ModelSetting }` costs nothing.
          allowTypeImports: true,
          message:
            'Layer rule: src/ui and src/state may not import the tfjs side of core (tf, model, train, experiment); talk to the worker instead.',
        },
      ],
    },
  ],
};

const coreRule = {
  'no-restricted-imports': [
    'error',
    {
      paths: [
        { name: 'react', message: 'Layer rule: src/core is DOM-free and UI-free.' },
        { name: 'react-dom', message: 'Layer rule: src/core is DOM-free and UI-free.' },
        { name: 'zustand', message: 'Layer rule: src/core has no app state.' },
        { name: 'recharts', message: 'Layer rule: src/core is DOM-free and UI-free.' },
      ],
      patterns: [
        {
          group: ['**/worker/**', '**/state/**', '**/ui/**', 'react/*', 'react-dom/*', 'zustand/*'],
          message:
            'Layer rule: src/core imports nothing from worker, state or ui (imports flow core ← worker ← state ← ui).',
        },
      ],
    },
  ],
  // The core runs in Node, a Web Worker and tests: no page globals.
  'no-restricted-globals': [
    'error',
    ...[
      'window',
      'document',
      'localStorage',
      'sessionStorage',
      'indexedDB',
      'location',
      'history',
      'HTMLElement',
      'alert',
    ].map((name) => ({
      name,
      message: 'Layer rule: src/core is DOM-free (it runs in Node and in a Web Worker).',
    })),
  ],
};

const workerRule = {
  'no-restricted-imports': [
    'error',
    {
      paths: [
        { name: 'react', message: 'Layer rule: the worker has no UI.' },
        { name: 'zustand', message: 'Layer rule: the worker has no app state.' },
      ],
      patterns: [
        {
          group: ['**/state/**', '**/ui/**'],
          message: 'Layer rule: the worker imports only core (imports flow core ← worker ← state ← ui).',
        },
      ],
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'build/**',
      'dist-cli/**',
      'test-results/**',
      'playwright-report/**',
      'public/**',
      'scratch/**',
      '**/__fixtures__/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node, ...globals.browser, ...globals.worker },
    },
    rules: {
      // `_name` marks a deliberately unused binding (a callback's position, a destructured rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    languageOptions: { globals: { ...globals.node, ...globals.worker } },
    rules: coreRule,
  },
  { files: ['src/worker/**/*.ts'], rules: workerRule },
  {
    // `mfmb --help` and `mfmb inspect` start in a tenth of a second because these modules never
    // load tfjs; the commands that train import cli/run.ts dynamically.
    files: [
      'cli/mfmb.ts',
      'cli/args.ts',
      'cli/paths.ts',
      'cli/fileSource.ts',
      'cli/sweep/sweeps.ts',
      'cli/sweep/queue.ts',
      'cli/sweep/dataRef.ts',
      'cli/sweep/report.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@tensorflow/*', ...TFJS_SIDE],
              allowTypeImports: true,
              message: 'The CLI loads tfjs only in cli/run.ts (imported dynamically by the commands that train).',
            },
          ],
        },
      ],
    },
  },
  { files: ['src/state/**/*.{ts,tsx}', 'src/ui/**/*.{ts,tsx}'], rules: uiAndStateRule },
  {
    // Tests may set up what the code under test needs (fake-indexeddb, jsdom-free stubs).
    files: ['**/*.test.ts', '**/*.test.tsx'],
    rules: { 'no-restricted-globals': 'off' },
  },
  {
    // The worker's tests drive it with the app's own presets, as the page would.
    files: ['src/worker/**/*.test.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
