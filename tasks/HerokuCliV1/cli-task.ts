// HerokuCli@1: the Heroku CLI, installed if needed and signed in, for one script (bash, PowerShell
// or cmd), as AzureCLI@2 does for Azure. Inputs are all checked before anything is downloaded or run.
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TaskError } from '../common/core/base/errors';
import { requireDefined } from '../common/core/base/inputs';
import { EXACT_VERSION, resolveAssets } from '../common/core/cli/assets';
import { runCli } from '../common/core/cli/cli';
import { cliReport } from '../common/core/cli/report';
import type {
  CliProgress,
  CliRequest,
  CliResult,
  CliVersion,
  ScriptSource,
  ScriptType,
  ToolCache,
} from '../common/core/cli/types';
import type { TaskHost } from '../common/pipeline/host';
import type { TaskDefinition } from '../common/pipeline/run-task';
import { booleanInput, credentials, input, workingDirectory } from '../common/pipeline/task-inputs';

const SCRIPT_TYPES: readonly ScriptType[] = ['bash', 'pscore', 'ps', 'batch'];
const WINDOWS_ONLY: readonly ScriptType[] = ['ps', 'batch'];

function scriptType(host: TaskHost): ScriptType {
  const value = input(host, 'scriptType');
  const type = SCRIPT_TYPES.find((t) => t === value.toLowerCase());
  if (!type)
    throw new TaskError(
      'input',
      value
        ? `The input scriptType is "${value}": use bash, pscore (PowerShell Core), ps (Windows PowerShell) or batch (cmd.exe).`
        : 'The input scriptType is empty: choose bash, pscore (PowerShell Core), ps (Windows PowerShell) or batch (cmd.exe).',
    );
  if (WINDOWS_ONLY.includes(type) && process.platform !== 'win32')
    throw new TaskError(
      'input',
      `scriptType ${type} runs on Windows agents only, and this agent runs ${process.platform}: use bash or pscore here, or run the job on a Windows agent (vmImage: windows-latest).`,
    );
  return type;
}

function scriptLocation(host: TaskHost): 'inlineScript' | 'scriptPath' {
  const value = input(host, 'scriptLocation') || 'inlineScript';
  if (value === 'inlineScript' || value === 'scriptPath') return value;
  throw new TaskError('input', `The input scriptLocation is "${value}": use inlineScript (the default) or scriptPath.`);
}

function scriptSource(host: TaskHost): ScriptSource {
  if (scriptLocation(host) === 'inlineScript') {
    // Read without echo: an inline script may hold expanded secret variables.
    const text = host.quietInput('inlineScript');
    if (!text.trim())
      throw new TaskError(
        'input',
        'The input inlineScript is empty: write the script (e.g. `heroku ps:restart -a my-app`), or set scriptLocation: scriptPath.',
      );
    return { kind: 'inline', text };
  }
  const given = input(host, 'scriptPath');
  if (!given)
    throw new TaskError('input', 'The input scriptPath is empty: give the script file, or set scriptLocation: inlineScript.');
  const file = path.resolve(host.variable('System.DefaultWorkingDirectory') || process.cwd(), given);
  if (!existsSync(file) || !statSync(file).isFile())
    throw new TaskError(
      'input',
      `The scriptPath ${file} is not a file: give the path of the script in the repository (relative paths start at $(System.DefaultWorkingDirectory)), and check that the job checked it out.`,
    );
  return { kind: 'file', path: file };
}

function cliVersion(host: TaskHost): CliVersion {
  const value = input(host, 'cliVersion').replace(/^v(?=\d)/, '');
  if (!value) return { kind: 'path-or-stable' };
  if (value.toLowerCase() === 'stable') return { kind: 'stable' };
  if (EXACT_VERSION.test(value)) return { kind: 'exact', version: value };
  throw new TaskError(
    'input',
    `The input cliVersion is "${value}": leave it empty (the CLI on the agent, else the latest), set stable (always the latest), or give an exact version such as 11.10.0.`,
  );
}

/** The task, with the agent's tool cache (pipeline/tool-cache.ts on the agent; a stand-in in-process). */
export const cliTask = (toolCache: (host: TaskHost) => ToolCache): TaskDefinition<CliRequest, CliResult, CliProgress> => ({
  subject: (host) => (input(host, 'scriptLocation') === 'scriptPath' ? input(host, 'scriptPath') : 'inline script'),
  read(host) {
    const type = scriptType(host);
    const source = scriptSource(host);
    const args = host.quietInput('arguments').trim();
    requireDefined('arguments', args);
    const script = {
      type,
      source,
      arguments: args,
      workingDirectory: workingDirectory(host, {
        purpose: 'the folder the script should run in (empty: $(System.DefaultWorkingDirectory))',
      }),
      failOnStandardError: booleanInput(host, 'failOnStandardError', false),
    };
    const version = cliVersion(host);
    const assets = resolveAssets(host.variable('HEROKU_CLI_ASSETS_URL'));
    const { apiKey, api } = credentials(host);
    return {
      apiKey,
      api,
      network: host.network(),
      cliVersion: version,
      assets,
      tools: toolCache(host),
      script,
      tempDirectory: host.variable('Agent.TempDirectory') || os.tmpdir(),
      environment: process.env,
      platform: process.platform,
      arch: process.arch,
      signal: host.signal,
    };
  },
  run: (request, log) => runCli(request, log),
  report: cliReport,
});
