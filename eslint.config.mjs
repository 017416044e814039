// Type-aware lint: a forgotten `await` in a deploy task is a silent failure. And the architecture,
// enforced: no import circles, and imports only in the direction
// base <- heroku, git <- workflow <- features (deploy, promote, cli, rollback, run) <- pipeline adapter <- task entries.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import noImportCycle from './eslint-rules/no-import-cycle.mjs';

const CORE = './tasks/common/core';
const FEATURES = ['deploy', 'promote', 'cli', 'rollback', 'run'];
const layer = (name) => `${CORE}/${name}`;
const inside = (folder) => `${folder}/**`;

const ABOVE_CORE = ['./tasks/common/pipeline', './tasks/Heroku*'];

/** What each folder may not import: the folders above it, and its siblings. */
const zones = [
  { target: layer('base'), from: [...ABOVE_CORE, ...['heroku', 'git', 'workflow', ...FEATURES].map(layer)] },
  { target: layer('heroku'), from: [...ABOVE_CORE, ...['git', 'workflow', ...FEATURES].map(layer)] },
  { target: layer('git'), from: [...ABOVE_CORE, ...['heroku', 'workflow', ...FEATURES].map(layer)] },
  { target: layer('workflow'), from: [...ABOVE_CORE, ...FEATURES.map(layer)] },
  ...FEATURES.map((feature) => ({ target: layer(feature), from: [...ABOVE_CORE, ...FEATURES.filter((f) => f !== feature).map(layer)] })),
  { target: './tasks/common/pipeline', from: ['./tasks/Heroku*'] },
].map((zone) => ({ ...zone, from: zone.from.map(inside), message: 'imports go base <- heroku, git <- workflow <- features <- pipeline <- task entries (see README, "How it is built").' }));

export default tseslint.config(
  { ignores: ['node_modules/', 'build/', 'dist/', '.tmp/', '.stryker-tmp/', 'reports/', 'test/fixtures/**/*.js', 'eslint.config.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // A failing assert.ok(x) or assert(x) without a message makes Node read the test's source to word
    // one, which under tsx's module hooks can take minutes (nodejs/node#52962, tsx#548): the test
    // then times out (and a Stryker mutant counts as a timeout) instead of failing with a message.
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='assert'][callee.property.name='ok'][arguments.length=1]",
          message: 'Give assert.ok a message (what should hold): without one a failure can hang under tsx.',
        },
        {
          selector: "CallExpression[callee.type='Identifier'][callee.name='assert'][arguments.length=1]",
          message: 'Give assert a message (what should hold): without one a failure can hang under tsx.',
        },
      ],
    },
  },
  {
    files: ['tasks/**/*.ts'],
    plugins: { 'import-x': importX, local: { rules: { 'no-import-cycle': noImportCycle } } },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })] },
    rules: {
      'local/no-import-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones, basePath: import.meta.dirname }],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'azure-pipelines-task-lib', message: 'only tasks/common/pipeline/adapter.ts talks to the agent' },
            { name: 'azure-pipelines-tool-lib', message: 'only tasks/common/pipeline/tool-cache.ts uses the tool cache' },
          ],
          patterns: [
            { group: ['azure-pipelines-task-lib/*'], message: 'only tasks/common/pipeline/adapter.ts talks to the agent' },
            { group: ['azure-pipelines-tool-lib/*'], message: 'only tasks/common/pipeline/tool-cache.ts uses the tool cache' },
          ],
        },
      ],
    },
  },
  { files: ['tasks/common/pipeline/adapter.ts'], rules: { 'no-restricted-imports': 'off' } },
  {
    files: ['tasks/common/pipeline/tool-cache.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'azure-pipelines-task-lib', message: 'only tasks/common/pipeline/adapter.ts talks to the agent' }],
          patterns: [{ group: ['azure-pipelines-task-lib/*'], message: 'only tasks/common/pipeline/adapter.ts talks to the agent' }],
        },
      ],
    },
  },
  {
    // The project's own lint rules: plain ES modules, no type information.
    files: ['eslint-rules/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { process: 'readonly' } },
  },
  {
    // Plain CommonJS run by node directly (the emulator's git hook relay): no type information.
    files: ['**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', Buffer: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
);
