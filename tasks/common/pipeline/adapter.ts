// Everything that knows Azure Pipelines: inputs, the Heroku service connection, secrets, log groups,
// output variables, the build summary and the task's result. Nothing here knows Heroku's API.
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import * as tl from 'azure-pipelines-task-lib/task';
import { DEFAULT_API_URL, DEFAULT_GIT_URL, resolveEndpoint, type Endpoint } from '../core/endpoints';
import { DeployError, errorMessage } from '../core/errors';
import { normalizeApiKey, requireDefined, undefinedVariable, undefinedVariableError } from '../core/inputs';
import type { DeployLog } from '../core/log';
import type { NetworkSettings } from '../core/network';
import type { HealthCheckInputs } from '../core/safeguards';

export const log: DeployLog = {
  info: (line) => console.log(line),
  warn: (line) => tl.warning(line),
  debug: (line) => tl.debug(line),
  async group(title, body) {
    console.log(`##[group]${title}`);
    try {
      return await body();
    } finally {
      console.log('##[endgroup]');
    }
  },
  secret: (value) => tl.setSecret(value),
};

/** A string input, trimmed, with an undefined `$(VARIABLE)` reported as such. */
export function input(name: string): string {
  const value = (tl.getInput(name, false) ?? '').trim();
  requireDefined(name, value);
  return value;
}

/**
 * A multi-line input whose lines may hold secret values (config vars): read without task-lib's
 * debug echo of the value, untrimmed, for the core to parse.
 */
export function multilineInput(name: string): string {
  return quietly(() => tl.getInput(name, false)) ?? '';
}

/** A boolean input: `true` or `false` (any case), empty for the default; anything else is an error. */
export function booleanInput(name: string, fallback: boolean): boolean {
  const value = input(name).toLowerCase();
  if (value === '') return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new DeployError('input', `The input ${name} is "${value}": use true or false.`);
}

/** Runs `read` with task-lib's own output silenced: its debug lines echo values it reads. */
function quietly<T>(read: () => T): T {
  tl.setStdStream(new Writable({ write: (_chunk, _encoding, done) => done() }));
  try {
    return read();
  } finally {
    tl.setStdStream(process.stdout);
  }
}

/**
 * Reads a secret without task-lib's debug line (`##vso[task.debug]apiKey=<value>`), which would
 * print it before it could be masked, then registers it as a secret.
 */
function readSecret(read: () => string | undefined): string | undefined {
  const value = quietly(read);
  const trimmed = value?.trim();
  if (trimmed && !/[\r\n]/.test(trimmed)) tl.setSecret(trimmed);
  return value;
}

export interface Credentials {
  apiKey: string;
  api: Endpoint;
  git: Endpoint;
}

/**
 * The API key from the service connection (which wins) or the apiKey input, registered as a secret,
 * and the Heroku endpoints: the connection's URL, else HEROKU_API_URL, else api.heroku.com.
 */
export function credentials(): Credentials {
  const connection = input('herokuConnection');
  const rawKey = readSecret(() => tl.getInput('apiKey', false)) ?? '';
  let apiKey: string;
  let apiUrl: string | undefined;
  let apiSource: string;
  if (connection) {
    if (rawKey.trim()) tl.warning('Both herokuConnection and apiKey are set: using the service connection and ignoring apiKey.');
    apiKey = normalizeApiKey(readSecret(() => tl.getEndpointAuthorizationParameter(connection, 'apitoken', true)), 'herokuConnection');
    if (!apiKey) throw new DeployError('input', `The Heroku service connection "${connection}" holds no API key: edit it (Project settings > Service connections) and paste a key from \`heroku authorizations:create\`.`);
    apiUrl = tl.getEndpointUrl(connection, true);
    apiSource = 'the service connection';
  } else {
    const variable = undefinedVariable(rawKey);
    if (variable) throw undefinedVariableError('apiKey', variable);
    apiKey = normalizeApiKey(rawKey, 'apiKey');
    if (!apiKey) {
      throw new DeployError(
        'input',
        'No Heroku API key: set herokuConnection to a Heroku service connection, or set apiKey to a secret variable holding the key (apiKey: $(HEROKU_API_KEY)). Create a long-lived key with `heroku authorizations:create`.',
      );
    }
    apiUrl = tl.getVariable('HEROKU_API_URL');
    apiSource = 'the variable HEROKU_API_URL';
  }
  if (/\s/.test(apiKey)) throw new DeployError('input', 'The Heroku API key contains spaces or line breaks: paste the key alone (`heroku authorizations:create` prints it on the Token line).');
  return {
    apiKey,
    api: resolveEndpoint('API', apiUrl, apiSource, DEFAULT_API_URL),
    git: resolveEndpoint('git', tl.getVariable('HEROKU_GIT_URL'), 'the variable HEROKU_GIT_URL', DEFAULT_GIT_URL),
  };
}

/** The agent's proxy (Agent.ProxyUrl, its bypass list and credentials) and CA (Agent.CAInfo). */
export function network(): NetworkSettings {
  const proxyConfigured = Boolean(tl.getVariable('Agent.ProxyUrl'));
  readSecret(() => tl.getVariable('Agent.ProxyPassword'));
  return {
    proxyConfigured,
    proxyFor(url) {
      const config = quietly(() => tl.getHttpProxyConfiguration(url));
      return config ? { url: config.proxyUrl, username: config.proxyUsername, password: config.proxyPassword } : null;
    },
    caFile: tl.getHttpCertConfiguration()?.caFile || undefined,
  };
}

/** The pipeline's own token and repository, for fetching history from an Azure Repos origin. */
export function originAccess(): { token: string; repositoryUrl: string } | null {
  if ((tl.getVariable('Build.Repository.Provider') ?? '') !== 'TfsGit') return null;
  const token = readSecret(() => tl.getEndpointAuthorizationParameter('SystemVssConnection', 'AccessToken', true));
  const repositoryUrl = tl.getVariable('Build.Repository.Uri');
  if (!token || !repositoryUrl) return null;
  return { token, repositoryUrl };
}

export function variable(name: string): string | undefined {
  return tl.getVariable(name) || undefined;
}

/**
 * The workingDirectory input (default: System.DefaultWorkingDirectory), resolved. It must exist
 * unless `mustExist` is false (a task that only reads history from it, when there is one).
 */
export function workingDirectory(options: { mustExist?: boolean } = {}): string {
  const dir = tl.getPathInput('workingDirectory', false, false) || tl.getVariable('System.DefaultWorkingDirectory') || process.cwd();
  requireDefined('workingDirectory', dir);
  const resolved = path.resolve(dir);
  if (options.mustExist !== false && !existsSync(resolved)) throw new DeployError('input', `The workingDirectory ${resolved} does not exist: point it at the folder of the git checkout (the default, $(System.DefaultWorkingDirectory), is where \`checkout: self\` puts it).`);
  return resolved;
}

/** The health check and rollback inputs, as typed (the core parses them). */
export function healthCheckInputs(): HealthCheckInputs {
  return {
    healthCheckUrl: input('healthCheckUrl'),
    healthCheckExpectedStatus: input('healthCheckExpectedStatus'),
    healthCheckExpectedText: multilineInput('healthCheckExpectedText'),
    healthCheckTimeout: input('healthCheckTimeout'),
    healthCheckInterval: input('healthCheckInterval'),
    rollbackOnFailure: booleanInput('rollbackOnFailure', true),
  };
}

export function setOutputs(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) tl.setVariable(name, value, false, true);
}

export async function uploadSummary(name: string, markdown: string): Promise<void> {
  const dir = tl.getVariable('Agent.TempDirectory') || os.tmpdir();
  const file = path.join(dir, `${name}-${Date.now()}.md`);
  await fs.writeFile(file, markdown, 'utf8');
  tl.uploadSummary(file);
}

/**
 * Runs a task body: cancellation (the agent sends SIGINT, then SIGTERM) aborts the signal so that
 * child processes stop; a DeployError becomes a failed result with its message; anything else too.
 */
export async function runTask(body: (signal: AbortSignal) => Promise<void>, onFailure?: (error: DeployError) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  const cancel = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) console.log(`Received ${signal}: the task was cancelled, stopping.`);
    controller.abort();
  };
  process.on('SIGINT', cancel);
  process.on('SIGTERM', cancel);
  try {
    await body(controller.signal);
  } catch (error) {
    const failure = error instanceof DeployError ? error : new DeployError('api', `Unexpected error: ${errorMessage(error)}`);
    if (!(error instanceof DeployError) && error instanceof Error && error.stack) tl.debug(error.stack);
    for (const line of failure.details) console.log(line);
    await onFailure?.(failure).catch((e: unknown) => tl.debug(`could not write the failure summary: ${errorMessage(e)}`));
    tl.setResult(tl.TaskResult.Failed, failure.message);
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}
