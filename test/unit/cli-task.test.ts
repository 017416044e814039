// HerokuCli@1's entry in-process, on an in-memory agent: inputs -> request (every bad input refused
// with what to do), and the result -> its line.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TaskError } from '../../tasks/common/core/base/errors';
import { cliReport } from '../../tasks/common/core/cli/report';
import type { ToolCache } from '../../tasks/common/core/cli/types';
import { cliTask } from '../../tasks/HerokuCliV1/cli-task';
import { FakeHost, type FakeAgent } from '../support/fake-host';

describe('HerokuCli@1 entry', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cli-task-unit-'));
    await fs.writeFile(path.join(dir, 'backup.sh'), 'heroku pg:backups:capture\n');
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const agent = (inputs: Record<string, string>, variables: Record<string, string> = {}): FakeAgent => ({
    inputs: { scriptType: 'bash', inlineScript: 'heroku apps', apiKey: 'the-key', ...inputs },
    variables: { 'System.DefaultWorkingDirectory': dir, 'Agent.TempDirectory': dir, ...variables },
  });
  const tools: ToolCache = { find: () => undefined, add: () => Promise.reject(new Error('no')), prependPath: () => undefined };
  const task = cliTask(() => tools);
  const read = (inputs: Record<string, string>, variables?: Record<string, string>) => {
    const host = new FakeHost(agent(inputs, variables));
    return task.read(host, task.subject(host));
  };
  const refused = (inputs: Record<string, string>, message: RegExp, variables?: Record<string, string>): void =>
    assert.throws(
      () => read(inputs, variables),
      (e: unknown) => e instanceof TaskError && e.kind === 'input' && message.test(e.message),
    );

  it('reads an inline bash script with the defaults', () => {
    const request = read({});
    assert.deepEqual(request.script, {
      type: 'bash',
      source: { kind: 'inline', text: 'heroku apps' },
      arguments: '',
      workingDirectory: dir,
      failOnStandardError: false,
    });
    assert.deepEqual(request.cliVersion, { kind: 'path-or-stable' });
    assert.deepEqual(request.assets, { url: 'https://cli-assets.heroku.com', isDefault: true });
    assert.equal(request.apiKey, 'the-key');
    assert.equal(request.tempDirectory, dir);
    assert.equal(request.tools, tools);
  });

  it('reads a script file relative to the default working directory, its arguments, and the other inputs', () => {
    const request = read(
      {
        scriptLocation: 'scriptPath',
        scriptPath: 'backup.sh',
        arguments: ' my-app ',
        failOnStandardError: 'TRUE',
        cliVersion: 'v11.10.0',
        workingDirectory: os.tmpdir(),
      },
      { HEROKU_CLI_ASSETS_URL: 'https://mirror.corp/cli' },
    );
    assert.deepEqual(request.script.source, { kind: 'file', path: path.join(dir, 'backup.sh') });
    assert.equal(request.script.arguments, 'my-app');
    assert.equal(request.script.failOnStandardError, true);
    assert.equal(request.script.workingDirectory, os.tmpdir());
    assert.deepEqual(request.cliVersion, { kind: 'exact', version: '11.10.0' });
    assert.equal(request.assets.url, 'https://mirror.corp/cli');
    assert.deepEqual(read({ cliVersion: 'Stable' }).cliVersion, { kind: 'stable' });
  });

  it('refuses each bad input, saying what to do', () => {
    refused({ scriptType: '' }, /scriptType is empty: choose bash/);
    refused({ scriptType: 'zsh' }, /scriptType is "zsh": use bash, pscore/);
    if (process.platform !== 'win32') refused({ scriptType: 'batch' }, /runs on Windows agents only.*vmImage: windows-latest/);
    refused({ scriptLocation: 'url' }, /scriptLocation is "url": use inlineScript/);
    refused({ inlineScript: ' ' }, /inlineScript is empty/);
    refused({ scriptLocation: 'scriptPath' }, /scriptPath is empty/);
    refused({ scriptLocation: 'scriptPath', scriptPath: 'missing.sh' }, /missing\.sh is not a file/);
    refused({ scriptLocation: 'scriptPath', scriptPath: '.' }, /is not a file/);
    refused({ arguments: '--token $(TOKEN)' }, /arguments reads \$\(TOKEN\), but the pipeline variable TOKEN is not defined/);
    refused({ cliVersion: '11' }, /cliVersion is "11": leave it empty/);
    refused({ failOnStandardError: 'yes' }, /failOnStandardError is "yes": use true or false/);
    refused({ workingDirectory: path.join(dir, 'nope') }, /does not exist: point it at the folder the script should run in/);
    refused({ apiKey: '' }, /No Heroku API key/);
    refused({}, /HEROKU_CLI_ASSETS_URL must be an https URL/, { HEROKU_CLI_ASSETS_URL: 'http://mirror.corp' });
  });

  it('names the CLI and the exit code in its line, and leaves a failure to its message', () => {
    const cli = { binDir: '/t/bin', versionLine: 'heroku/11.10.0 linux-x64 node-v22.14.0', source: 'cache' as const };
    assert.deepEqual(cliReport('inline script', { ok: true, result: { cli, exitCode: 0, durationMs: 4200 } }), {
      line: 'The script exited 0 · heroku/11.10.0 linux-x64 node-v22.14.0 (tool cache) · 4s',
      outputs: {},
      summary: null,
    });
    assert.deepEqual(cliReport(null, { ok: false, failure: new TaskError('script', 'x'), partial: { cli } }), {
      line: null,
      outputs: {},
      summary: null,
    });
  });
});
