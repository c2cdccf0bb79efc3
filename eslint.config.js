// Lint rules, including the layering of docs/architecture.md:
// core <- protocols <- transport <- apps <- surfaces, and sans-I/O protocol cores.
import path from 'node:path';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Layers from the bottom up: a module may import its own layer and those below it. */
const LAYERS = ['core', 'protocols', 'transport', 'apps', 'surfaces'];
const SRC = path.resolve('src');

/** The layer a file under src/ belongs to, from its first folder. */
function layerOf(file) {
  const rel = path.relative(SRC, file);
  if (rel.startsWith('..')) return undefined;
  return LAYERS.indexOf(rel.split(path.sep)[0]);
}

/**
 * Resolves each relative import to the folder it lands in, so that a protocol's own sub-folder
 * named like a layer (DNP3's transport/) is not mistaken for the transport layer.
 */
const layering = {
  meta: {
    type: 'problem',
    messages: { up: '{{from}}/ must not import {{to}}/: imports point one way, core <- protocols <- transport <- apps <- surfaces' },
  },
  create(context) {
    const from = layerOf(context.filename);
    if (from === undefined || from < 0) return {};
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const to = layerOf(path.resolve(path.dirname(context.filename), spec));
      if (to !== undefined && to > from) context.report({ node, messageId: 'up', data: { from: LAYERS[from], to: LAYERS[to] } });
    };
    return { ImportDeclaration: check, ExportAllDeclaration: check, ExportNamedDeclaration: check, ImportExpression: check };
  },
};

export default tseslint.config(
  { ignores: ['dist/', 'dist-check/', 'dist-bench/', 'node_modules/', 'coverage/'] },
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
    files: ['src/**/*.ts'],
    plugins: { gridgate: { rules: { layering } } },
    rules: { 'gridgate/layering': 'error' },
  },
  {
    files: ['src/protocols/**/*.ts'],
    ignores: ['src/protocols/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['node:*'], message: 'protocol cores are sans-I/O: no Node modules' }],
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
    files: ['assets/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['bench/**/*.ts', 'test/**/*.ts', '**/*.test.ts'],
    rules: { 'no-console': 'off' },
  },
);
