// The one platform switch of the test suite (.mocharc.cjs): on Windows the emulator-backed tests are
// left out, by name, saying so; everywhere else nothing is. A renamed test folder must not slip out
// of the list (then it would run, and fail, on Windows) or stay in it unnoticed.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from '../support/git';

const ROOT = path.resolve(__dirname, '../..');

async function configOn(platform: string): Promise<{ config: { ignore: string[]; spec: string[] }; printed: string }> {
  const script = `Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} });
process.stdout.write('\\n' + JSON.stringify(require('./.mocharc.cjs')));`;
  const run = await runCommand(process.execPath, ['-e', script], { cwd: ROOT });
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  return { config: JSON.parse(lines.pop() ?? '{}') as { ignore: string[]; spec: string[] }, printed: lines.join('\n') };
}

describe('.mocharc.cjs: the Windows switch', () => {
  it('leaves out nothing on Linux', async () => {
    const { config, printed } = await configOn('linux');
    assert.deepEqual(config.ignore, []);
    assert.deepEqual(config.spec, ['test/**/*.test.ts']);
    assert.equal(printed.trim(), '');
  });

  it('on Windows leaves out the emulator-backed tests, each of which exists, and says so', async () => {
    const { config, printed } = await configOn('win32');
    assert.ok(
      config.ignore.includes('test/tasks/**') && config.ignore.includes('test/emulator/**'),
      "config.ignore.includes('test/tasks/**') && config.ignore.includes('test/emulator/**')",
    );
    for (const pattern of config.ignore) {
      const where = path.join(ROOT, pattern.replace(/\/\*\*$/, ''));
      const tests = pattern.endsWith('/**')
        ? readdirSync(where).filter((f) => f.endsWith('.test.ts'))
        : [where].filter(existsSync);
      assert.ok(tests.length, `${pattern} matches no test file`);
    }
    assert.ok(
      !config.ignore.some((p) => p.startsWith('test/unit') || p.startsWith('test/docs')),
      'unit and docs tests run on Windows',
    );
    assert.match(printed, /^Windows: the emulator-backed tests are skipped \(see \.mocharc\.cjs\): test\/emulator\/\*\*/);
  });
});
