// How HerokuCli@1 turns a script into a command line, for each script type and platform (the Windows
// ones are built and checked here, on any OS), and how bash arguments are split.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareScript, splitArguments } from '../../tasks/common/core/cli/script';
import type { ScriptRequest } from '../../tasks/common/core/cli/types';

describe('HerokuCli script command lines', () => {
  let runDir: string;
  beforeEach(async () => {
    runDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cli-script-unit-'));
  });
  afterEach(async () => {
    await fs.rm(runDir, { recursive: true, force: true });
  });

  const request = (more: Partial<ScriptRequest>): ScriptRequest => ({
    type: 'bash',
    source: { kind: 'inline', text: 'heroku ps:restart -a my-app\n' },
    arguments: '',
    workingDirectory: runDir,
    failOnStandardError: false,
    ...more,
  });

  it('splits bash arguments as a shell would, expanding nothing', () => {
    assert.deepEqual(splitArguments(''), []);
    assert.deepEqual(splitArguments('  a   b\tc '), ['a', 'b', 'c']);
    assert.deepEqual(splitArguments('"two words" \'single $HOME\' x"y z"'), ['two words', 'single $HOME', 'xy z']);
    assert.deepEqual(splitArguments('"say \\"hi\\"" "back\\\\slash" plain\\n'), ['say "hi"', 'back\\slash', 'plain\\n']);
    assert.deepEqual(splitArguments('"" \'\''), ['', ''], 'empty quoted arguments are kept');
    assert.deepEqual(splitArguments('"c:\\dir\\file"'), ['c:\\dir\\file'], 'other backslashes stay');
    assert.deepEqual(splitArguments('--app=$(NAME)'), ['--app=$(NAME)']);
    assert.throws(() => splitArguments('"open'), /unclosed " quote/);
    assert.throws(() => splitArguments("it's"), /unclosed ' quote/);
  });

  it('runs bash without profiles, stopping at the first failure, the inline script written to the run folder', async () => {
    const command = await prepareScript(request({ arguments: 'my-app "a b"' }), runDir, 'linux');
    const file = path.join(runDir, 'script.sh');
    assert.deepEqual(command, {
      command: 'bash',
      args: ['--noprofile', '--norc', '-e', '-o', 'pipefail', file, 'my-app', 'a b'],
      windowsVerbatimArguments: false,
      shell: 'bash',
    });
    assert.equal(await fs.readFile(file, 'utf8'), 'heroku ps:restart -a my-app\n');
  });

  it('writes the inline script and the PowerShell wrapper readable by the agent user only', async () => {
    await prepareScript(request({}), runDir, 'linux');
    assert.equal((await fs.stat(path.join(runDir, 'script.sh'))).mode & 0o777, 0o700);
    await prepareScript(request({ type: 'pscore', source: { kind: 'inline', text: 'heroku apps' } }), runDir, 'linux');
    assert.equal((await fs.stat(path.join(runDir, 'run.ps1'))).mode & 0o777, 0o700);
    assert.equal(await fs.readFile(path.join(runDir, 'script.ps1'), 'utf8'), 'heroku apps');
  });

  it('leaves backslashes in a script path alone off Windows', async () => {
    const command = await prepareScript(request({ source: { kind: 'file', path: '/srv/odd\\name.sh' } }), runDir, 'linux');
    assert.equal(command.args[5], '/srv/odd\\name.sh');
  });

  it('runs a bash script file where it is, with forward slashes for Git Bash on Windows', async () => {
    const command = await prepareScript(
      request({ source: { kind: 'file', path: 'C:\\a\\s\\backup.sh' }, arguments: 'x' }),
      runDir,
      'win32',
    );
    assert.deepEqual(command.args, ['--noprofile', '--norc', '-e', '-o', 'pipefail', 'C:/a/s/backup.sh', 'x']);
    assert.deepEqual(await fs.readdir(runDir), [], 'nothing written for a script file');
  });

  for (const [type, shell] of [
    ['pscore', 'pwsh'],
    ['ps', 'powershell.exe'],
  ] as const) {
    it(`runs ${type} through a wrapper that stops on errors and returns the last exit code (${shell})`, async () => {
      const command = await prepareScript(
        request({ type, source: { kind: 'file', path: "C:\\it's\\backup.ps1" }, arguments: '-App my-app' }),
        runDir,
        'win32',
      );
      const wrapper = path.join(runDir, 'run.ps1');
      assert.deepEqual(command, {
        command: shell,
        args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Unrestricted', '-Command', `. '${wrapper}'`],
        windowsVerbatimArguments: false,
        shell,
      });
      assert.deepEqual((await fs.readFile(wrapper, 'utf8')).split('\n'), [
        "$ErrorActionPreference = 'Stop'",
        "$ProgressPreference = 'SilentlyContinue'",
        ". 'C:\\it''s\\backup.ps1' -App my-app",
        'if (!(Test-Path -LiteralPath variable:\\LASTEXITCODE)) { exit 0 }',
        'exit $LASTEXITCODE',
        '',
      ]);
    });
  }

  it('writes an inline PowerShell script beside its wrapper', async () => {
    await prepareScript(request({ type: 'pscore', source: { kind: 'inline', text: 'heroku apps' } }), runDir, 'linux');
    assert.deepEqual((await fs.readdir(runDir)).sort(), ['run.ps1', 'script.ps1']);
    assert.match(
      await fs.readFile(path.join(runDir, 'run.ps1'), 'utf8'),
      new RegExp(`^\\. '${path.join(runDir, 'script.ps1')}'$`, 'm'),
    );
  });

  it('runs batch with cmd.exe /D /E:ON /V:OFF /S /C "CALL ...", its command line passed verbatim', async () => {
    const command = await prepareScript(request({ type: 'batch', arguments: 'my-app "a b"' }), runDir, 'win32');
    const file = path.join(runDir, 'script.cmd');
    assert.deepEqual(command, {
      command: 'cmd.exe',
      args: ['/D', '/E:ON', '/V:OFF', '/S', '/C', `"CALL "${file}" my-app "a b""`],
      windowsVerbatimArguments: true,
      shell: 'cmd.exe',
    });
    const bare = await prepareScript(request({ type: 'batch' }), runDir, 'win32');
    assert.equal(bare.args.at(-1), `"CALL "${file}""`);
  });
});
