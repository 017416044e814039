// The inputs every task shares, read through a TaskHost and checked before anything is asked of
// Heroku: typed inputs, the API key and endpoints, the checkout folder, the health check inputs, and
// the pipeline's own access to its repository.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_API_URL, DEFAULT_GIT_URL, resolveEndpoint, type Endpoint } from '../core/base/endpoints';
import { TaskError } from '../core/base/errors';
import { normalizeApiKey, requireDefined, undefinedVariable, undefinedVariableError } from '../core/base/inputs';
import type { OriginAccess } from '../core/git/history';
import type { HealthCheckInputs } from '../core/workflow/safeguards';
import type { TaskHost } from './host';

/** A string input, trimmed, with an undefined `$(VARIABLE)` reported as such. */
export function input(host: TaskHost, name: string): string {
  const value = host.input(name).trim();
  requireDefined(name, value);
  return value;
}

/** A boolean input: `true` or `false` (any case), empty for the default; anything else is an error. */
export function booleanInput(host: TaskHost, name: string, fallback: boolean): boolean {
  const value = input(host, name).toLowerCase();
  if (value === '') return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new TaskError('input', `The input ${name} is "${value}": use true or false.`);
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
export function credentials(host: TaskHost): Credentials {
  const connection = input(host, 'herokuConnection');
  const rawKey = host.secretInput('apiKey');
  let apiKey: string;
  let apiUrl: string | undefined;
  let apiSource: string;
  if (connection) {
    if (rawKey.trim())
      host.log.warn('Both herokuConnection and apiKey are set: using the service connection and ignoring apiKey.');
    apiKey = normalizeApiKey(host.endpointSecret(connection, 'apitoken'), 'herokuConnection');
    if (!apiKey) {
      throw new TaskError(
        'input',
        `The Heroku service connection "${connection}" holds no API key: edit it (Project settings > Service connections) and paste a key from \`heroku authorizations:create\`.`,
      );
    }
    apiUrl = host.endpointUrl(connection);
    apiSource = 'the service connection';
  } else {
    const variable = undefinedVariable(rawKey);
    if (variable) throw undefinedVariableError('apiKey', variable);
    apiKey = normalizeApiKey(rawKey, 'apiKey');
    if (!apiKey) {
      throw new TaskError(
        'input',
        'No Heroku API key: set herokuConnection to a Heroku service connection, or set apiKey to a secret variable holding the key (apiKey: $(HEROKU_API_KEY)). Create a long-lived key with `heroku authorizations:create`.',
      );
    }
    apiUrl = host.variable('HEROKU_API_URL');
    apiSource = 'the variable HEROKU_API_URL';
  }
  if (/\s/.test(apiKey))
    throw new TaskError(
      'input',
      'The Heroku API key contains spaces or line breaks: paste the key alone (`heroku authorizations:create` prints it on the Token line).',
    );
  return {
    apiKey,
    api: resolveEndpoint('API', apiUrl, apiSource, DEFAULT_API_URL),
    git: resolveEndpoint('git', host.variable('HEROKU_GIT_URL'), 'the variable HEROKU_GIT_URL', DEFAULT_GIT_URL),
  };
}

/** The pipeline's own token and repository, for fetching history from an Azure Repos origin. */
export function originAccess(host: TaskHost): OriginAccess | null {
  if ((host.variable('Build.Repository.Provider') ?? '') !== 'TfsGit') return null;
  const token = host.endpointSecret('SystemVssConnection', 'AccessToken');
  const repositoryUrl = host.variable('Build.Repository.Uri');
  if (!token || !repositoryUrl) return null;
  return { token, repositoryUrl };
}

/**
 * The workingDirectory input (default: System.DefaultWorkingDirectory), resolved. It must exist
 * unless `mustExist` is false (a task that only reads history from it, when there is one).
 */
export function workingDirectory(host: TaskHost, options: { mustExist?: boolean; purpose?: string } = {}): string {
  const purpose =
    options.purpose ??
    'the folder of the git checkout (the default, $(System.DefaultWorkingDirectory), is where `checkout: self` puts it)';
  const dir = host.input('workingDirectory') || host.variable('System.DefaultWorkingDirectory') || process.cwd();
  requireDefined('workingDirectory', dir);
  const resolved = path.resolve(dir);
  if (options.mustExist !== false && !existsSync(resolved)) {
    throw new TaskError('input', `The workingDirectory ${resolved} does not exist: point it at ${purpose}.`);
  }
  if (existsSync(resolved) && !statSync(resolved).isDirectory()) {
    throw new TaskError('input', `The workingDirectory ${resolved} is a file, not a folder: point it at ${purpose}.`);
  }
  return resolved;
}

/** The health check and rollback inputs, as typed (the core parses them). */
export function healthCheckInputs(host: TaskHost): HealthCheckInputs {
  return {
    healthCheckUrl: input(host, 'healthCheckUrl'),
    healthCheckExpectedStatus: input(host, 'healthCheckExpectedStatus'),
    healthCheckExpectedText: host.quietInput('healthCheckExpectedText'),
    healthCheckTimeout: input(host, 'healthCheckTimeout'),
    healthCheckInterval: input(host, 'healthCheckInterval'),
    rollbackOnFailure: booleanInput(host, 'rollbackOnFailure', true),
  };
}
