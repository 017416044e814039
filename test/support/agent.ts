// Runs a built task exactly as the Azure Pipelines agent does: `node <task folder>/<target>` with
// INPUT_*, ENDPOINT_*, variables and the agent's directories in the environment, and reads back
// the `##vso[...]` commands it printed. A `git` wrapper first on PATH records every git command
// line, so that tests can prove no secret ever reached argv.
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './git';

export const BUILD_DIR = path.resolve(__dirname, '../../build/tasks');

export interface ServiceConnection {
  id: string;
  url: string;
  apitoken: string;
}

export interface AgentRun {
  /** Task folder under build/tasks (default HerokuDeployV1) or an absolute folder (an unpacked .vsix). */
  task?: string;
  /** Input name -> value, as the YAML keys. */
  inputs?: Record<string, string>;
  /** Pipeline variables by their dotted names (`Build.SourceBranch`), as the agent exports them. */
  variables?: Record<string, string>;
  /** Secret variables (`SECRET_<NAME>` and VSTS_SECRET_VARIABLES, as the agent passes them). */
  secretVariables?: Record<string, string>;
  connections?: ServiceConnection[];
  /** The pipeline's own token (SystemVssConnection). */
  systemAccessToken?: string;
  /** Extra raw environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Called for each stdout line while the task runs (e.g. to send a signal mid-run). */
  onLine?: (line: string, child: import('node:child_process').ChildProcess) => void;
  timeoutMs?: number;
}

export interface VsoCommand {
  name: string;
  properties: Record<string, string>;
  message: string;
}

export interface AgentResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  commands: VsoCommand[];
  /** `Succeeded`, `Failed`, ... from `##vso[task.complete]`, or `Succeeded` when none was printed and the exit code is 0. */
  result: string;
  /** The message of `##vso[task.complete]` (the failure reason). */
  message: string;
  errors: string[];
  warnings: string[];
  outputs: Record<string, string>;
  secrets: string[];
  summaries: string[];
  /** stdout without `##vso` and `##[` lines: what a person reads. */
  log: string;
  /** stdout without the `##vso[task.setsecret]` lines (where a secret is rightly sent, to be masked): where no secret may appear. */
  printed: string;
  /** Every git command line the task ran. */
  gitCommands: string[];
  /** The agent's temp directory of this run (summaries are written there). */
  tempDirectory: string;
}

const toEnvName = (name: string): string => name.replace(/\./g, '_').replace(/ /g, '_').toUpperCase();

function unescapeProperty(value: string): string {
  return value.replace(/%3B/g, ';').replace(/%5D/g, ']').replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

function unescapeMessage(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

export function parseCommands(stdout: string): VsoCommand[] {
  const commands: VsoCommand[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const match = /##vso\[([\w.]+)([^\]]*)\](.*)$/.exec(line);
    if (!match?.[1]) continue;
    const properties: Record<string, string> = {};
    for (const pair of (match[2] ?? '').trim().split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0) properties[pair.slice(0, eq).trim()] = unescapeProperty(pair.slice(eq + 1));
    }
    commands.push({ name: match[1], properties, message: unescapeMessage(match[3] ?? '') });
  }
  return commands;
}

let gitWrapperDir: string | undefined;
/** A `git` that logs its argv (one line per call) to $GIT_ARGV_LOG, then runs the real git. */
async function gitWrapper(): Promise<string> {
  if (gitWrapperDir) return gitWrapperDir;
  const dir = await tempDir('git-wrapper-');
  const realGit =
    (await new Promise<string>((resolve) => {
      const which = spawn('sh', ['-c', 'command -v git']);
      let out = '';
      which.stdout.on('data', (d: Buffer) => (out += d.toString()));
      which.on('close', () => resolve(out.trim()));
    })) || '/usr/bin/git';
  await fs.writeFile(path.join(dir, 'git'), `#!/bin/sh\nprintf '%s\\n' "git $*" >> "$GIT_ARGV_LOG"\nexec ${realGit} "$@"\n`, {
    mode: 0o755,
  });
  gitWrapperDir = dir;
  return dir;
}

/** The task folder and its entry file, as the agent picks them from task.json (the newest Node handler). */
export function taskEntry(task: string | undefined): string {
  const taskDir = task && path.isAbsolute(task) ? task : path.join(BUILD_DIR, task ?? 'HerokuDeployV1');
  const taskJson = JSON.parse(readFileSync(path.join(taskDir, 'task.json'), 'utf8')) as {
    execution: Record<string, { target: string }>;
  };
  const target =
    (taskJson.execution.Node24 ?? taskJson.execution.Node20_1 ?? Object.values(taskJson.execution)[0])?.target ?? 'index.js';
  return path.join(taskDir, target);
}

/** The environment the agent gives a task: inputs, variables, service connections, its directories. */
export function agentEnvironment(run: AgentRun, tempDirectory: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    AGENT_TEMPDIRECTORY: tempDirectory,
    AGENT_WORKFOLDER: tempDirectory,
    SYSTEM_DEFAULTWORKINGDIRECTORY: run.cwd ?? process.cwd(),
    SYSTEM_CULTURE: 'en-US',
  };
  for (const [name, value] of Object.entries(run.variables ?? {})) env[toEnvName(name)] = value;
  for (const [name, value] of Object.entries(run.secretVariables ?? {})) env[`SECRET_${toEnvName(name)}`] = value;
  if (run.secretVariables) env.VSTS_SECRET_VARIABLES = JSON.stringify(Object.keys(run.secretVariables));
  for (const [name, value] of Object.entries(run.inputs ?? {})) env[`INPUT_${toEnvName(name)}`] = value;
  for (const connection of run.connections ?? []) {
    env[`ENDPOINT_URL_${connection.id}`] = connection.url;
    env[`ENDPOINT_AUTH_${connection.id}`] = JSON.stringify({ parameters: { apitoken: connection.apitoken }, scheme: 'Token' });
    env[`ENDPOINT_AUTH_SCHEME_${connection.id}`] = 'Token';
    env[`ENDPOINT_AUTH_PARAMETER_${connection.id}_APITOKEN`] = connection.apitoken;
  }
  if (run.systemAccessToken) {
    env.ENDPOINT_AUTH_SYSTEMVSSCONNECTION = JSON.stringify({
      parameters: { AccessToken: run.systemAccessToken },
      scheme: 'OAuth',
    });
    env.ENDPOINT_AUTH_SCHEME_SYSTEMVSSCONNECTION = 'OAuth';
    env.ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN = run.systemAccessToken;
  }
  return { ...env, ...run.env };
}

export async function runAgentTask(run: AgentRun): Promise<AgentResult> {
  const entry = taskEntry(run.task);
  const tempDirectory = await tempDir('agent-temp-');
  const argvLog = path.join(tempDirectory, '..', `${path.basename(tempDirectory)}-git-argv.log`);
  await fs.writeFile(argvLog, '');
  const env = agentEnvironment(run, tempDirectory);
  env.PATH = `${await gitWrapper()}${path.delimiter}${env.PATH ?? ''}`;
  env.GIT_ARGV_LOG = argvLog;

  const child = spawn(process.execPath, [entry], { cwd: run.cwd ?? process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) run.onLine?.(line, child);
  });
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs ?? 120_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);

  const commands = parseCommands(stdout);
  const complete = commands.filter((c) => c.name === 'task.complete').at(-1);
  const gitCommands = (await fs.readFile(argvLog, 'utf8')).split('\n').filter(Boolean);
  await fs.rm(argvLog, { force: true });
  return {
    code,
    signal,
    stdout,
    stderr,
    commands,
    result: complete?.properties.result ?? (code === 0 ? 'Succeeded' : 'Failed'),
    message: complete?.message ?? '',
    errors: commands
      .filter((c) => (c.name === 'task.issue' || c.name === 'task.logissue') && c.properties.type === 'error')
      .map((c) => c.message),
    warnings: commands
      .filter((c) => (c.name === 'task.issue' || c.name === 'task.logissue') && c.properties.type === 'warning')
      .map((c) => c.message),
    outputs: Object.fromEntries(
      commands
        .filter((c) => c.name === 'task.setvariable' && c.properties.isOutput === 'true')
        .map((c) => [c.properties.variable ?? '', c.message]),
    ),
    secrets: commands.filter((c) => c.name === 'task.setsecret').map((c) => c.message),
    summaries: commands.filter((c) => c.name === 'task.uploadsummary').map((c) => c.message),
    printed: stdout
      .split('\n')
      .filter((l) => !l.startsWith('##vso[task.setsecret]'))
      .join('\n'),
    log: stdout
      .split('\n')
      .filter((l) => !l.startsWith('##vso[') && !l.startsWith('##['))
      .join('\n'),
    gitCommands,
    tempDirectory,
  };
}
