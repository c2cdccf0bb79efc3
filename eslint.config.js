// Lint rules, including the layering of docs/architecture.md:
// core <- protocols <- transport <- apps <- surfaces, and sans-I/O protocol cores.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const layer = (name) => ({
  group: [`**/${name}/*`, `**/${name}/**`],
  message: `this layer must not import ${name}/ (see docs/architecture.md)`,
});

export default tseslint.config(
  { ignores: ['dist/', 'dist-check/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
      eqeqeq: 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [layer('protocols'), layer('transport'), layer('apps'), layer('surfaces')] }] },
  },
  {
    files: ['src/protocols/**/*.ts'],
    ignores: ['src/protocols/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layer('transport'),
            layer('apps'),
            layer('surfaces'),
            { group: ['node:*'], message: 'protocol cores are sans-I/O: no Node modules' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'protocol cores get time from their caller' },
        { name: 'setInterval', message: 'protocol cores get time from their caller' },
        { name: 'process', message: 'protocol cores are sans-I/O' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'protocol cores get time from their caller' },
        { object: 'performance', property: 'now', message: 'protocol cores get time from their caller' },
      ],
    },
  },
  {
    files: ['src/transport/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [layer('apps'), layer('surfaces')] }] },
  },
  {
    files: ['src/apps/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [layer('surfaces')] }] },
  },
  {
    files: ['assets/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['bench/**/*.ts', 'test/**/*.ts', '**/*.test.ts'],
    rules: { 'no-console': 'off' },
  },
);
