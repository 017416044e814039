// mocha's settings for `npm test`. One switch, on Windows only: the tests that run the local Heroku
// emulator (test/emulator) or need it (the task tests, the Heroku CLI routes, the .vsix deploy and the
// service connection) are left out there, because the emulator serves git through `git http-backend`
// with shell hooks and stops dynos by POSIX process group; so are the two that unpack a .vsix with
// `unzip` (vsix, flavor). Windows runs the unit, docs and lint tests and the task.json checks, and the
// pipeline's `npm run package` step packages there; azure-pipelines.yml runs the whole suite on Linux.
const EMULATOR_BACKED = [
  'test/emulator/**',
  'test/tasks/**',
  'test/heroku-cli/**',
  'test/packaging/vsix.test.ts',
  'test/packaging/service-endpoint.test.ts',
  'test/packaging/flavor.test.ts',
];

const windows = process.platform === 'win32';
if (windows) console.log(`Windows: the emulator-backed tests are skipped (see .mocharc.cjs): ${EMULATOR_BACKED.join(', ')}`);

module.exports = {
  spec: ['test/**/*.test.ts'],
  ignore: windows ? EMULATOR_BACKED : [],
  'node-option': ['import=tsx'],
  timeout: 60000,
  slow: 2000,
  reporter: './test/support/reporter.cjs',
  exit: true,
};
