// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cache/', 'reports/', 'coverage/', 'helm/', 'k8s/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Typed rules: promises whose rejection nobody would see. The TypeScript files are linted with
  // the program of tsconfig.json (which includes every folder with .ts files); the .js/.mjs
  // configuration files stay untyped (they are outside `files`).
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `void promise` does not count as handled: a promise started and not awaited must have
      // its rejection handled where it is started (`.catch`, the second argument of `.then`, or
      // services/common/detached.ts), so that a failure cannot be lost or crash the process.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      // An async function where a void-returning callback is expected (event listeners,
      // timers, express handlers): nobody would see its rejection.
      '@typescript-eslint/no-misused-promises': 'error',
      // `await` of something that is not a promise: usually a function that was not called, or
      // one believed to be async. An array of promises that may be undefined (`s?.stop()`) is fine.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
      // `return promise` inside try/catch/finally skips the catch and runs the finally early.
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
    },
  },
);
