// HerokuRun@1: one command in a one-off dyno of a Heroku app, its output in the log and its exit
// code as the result. Inputs are all checked before anything is asked of Heroku.
import { TaskError } from '../common/core/base/errors';
import { parseKeyValueLines, requireDefined, validateAppName } from '../common/core/base/inputs';
import { runReport } from '../common/core/run/report';
import { runOneOff } from '../common/core/run/run';
import type { RunProgress, RunRequest, RunResult } from '../common/core/run/types';
import type { TaskHost } from '../common/pipeline/host';
import type { TaskDefinition } from '../common/pipeline/run-task';
import { booleanInput, credentials, input } from '../common/pipeline/task-inputs';

/** Heroku's limit on a dyno's time_to_live: 24 hours. */
const MAX_TIMEOUT_MINUTES = 1440;

function command(host: TaskHost): string {
  const value = host.input('command').trim();
  requireDefined('command', value);
  if (!value)
    throw new TaskError('input', 'The input command is empty: give the command to run in the dyno, e.g. `rake db:migrate`.');
  if (/[\r\n]/.test(value))
    throw new TaskError(
      'input',
      'The input command has more than one line: give one line (chain steps with `&&`), or put the steps in a script in the app and run that.',
    );
  return value;
}

function timeoutSeconds(host: TaskHost): number {
  const value = input(host, 'timeout') || '60';
  const minutes = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || minutes <= 0 || minutes > MAX_TIMEOUT_MINUTES)
    throw new TaskError(
      'input',
      `The input timeout is "${value}": give the minutes the command may run, more than 0 and at most ${MAX_TIMEOUT_MINUTES} (Heroku's 24-hour limit), e.g. 60 or 0.5.`,
    );
  return Math.max(1, Math.round(minutes * 60));
}

function named(host: TaskHost, name: string, pattern: RegExp, example: string): string {
  const value = input(host, name);
  if (value && !pattern.test(value))
    throw new TaskError('input', `The input ${name} is "${value}": give a name such as ${example}.`);
  return value;
}

export const oneOffTask: TaskDefinition<RunRequest, RunResult, RunProgress> = {
  subject: (host) => validateAppName(input(host, 'appName'), 'appName', 'to run the command on'),
  read(host, appName) {
    const request = {
      appName,
      command: command(host),
      size: named(host, 'size', /^[A-Za-z0-9-]+$/, 'standard-2x or performance-m') || null,
      type: named(host, 'type', /^[A-Za-z0-9_-]+$/, 'run') || 'run',
      // Read without echo: the values may be secrets.
      env: Object.fromEntries(parseKeyValueLines(host.quietInput('env'), 'env', 'KEY= sets an empty value')),
      timeoutSeconds: timeoutSeconds(host),
      failOnExitCode: booleanInput(host, 'failOnExitCode', true),
    };
    const { apiKey, api } = credentials(host);
    return {
      ...request,
      apiKey,
      api,
      network: host.network(),
      signal: host.signal,
      userAgent: 'heroku-azure-pipelines HerokuRun/1',
    };
  },
  run: runOneOff,
  report: runReport,
};
