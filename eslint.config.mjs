// ESLint: typescript-eslint's strict rules over everything we ship, test and bench.
// Formatting is Prettier's (`npm run format:check`); the layers are dependency-cruiser's (`npm run layers`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'require',
    'module',
    '__dirname',
    '__filename',
    'Buffer',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'URL',
    'fetch',
  ].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  // src/api/generated/ is written by `npm run codegen` (typecheck still covers it).
  {
    ignores: [
      'dist/**',
      'dist-bench/**',
      'ui/dist/**',
      'neo4j/**',
      'node_modules/**',
      '.data/**',
      'coverage/**',
      'bench/results/**',
      'src/api/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  // A leading underscore marks what is left out on purpose (a destructured field dropped from a copy).
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  // TypeScript checks names itself (no-undef would only repeat it, without the types).
  { files: ['**/*.ts'], rules: { 'no-undef': 'off' } },
  // The plain JavaScript files are CommonJS scripts run by Node (bin, scripts, jest's setup).
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: nodeGlobals },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // A test or a bench states what it expects of a value it has just made or checked to be there.
  { files: ['test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-non-null-assertion': 'off' } },
);
