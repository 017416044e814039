// The Azure Pipelines agent through task-lib: the only file that imports it. Everything Azure
// Pipelines means by an input, a secret, a service connection, a log group, an output variable, the
// build summary and the task's result, behind the TaskHost interface. Nothing here knows Heroku.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import * as tl from 'azure-pipelines-task-lib/task';
import type { TaskLog } from '../core/base/log';
import { neutralise } from '../core/base/log-commands';
import type { NetworkSettings } from '../core/base/network';
import type { TaskHost } from './host';
import { runTask, type TaskDefinition } from './run-task';

// Everything the task prints (much of it from outside: build output, app logs, commit subjects, HTTP
// bodies, Heroku's messages) goes through neutralise(); the task's own commands are written by task-lib.

const log: TaskLog = {
  info: (line) => console.log(neutralise(line)),
  warn: (line) => tl.warning(neutralise(line)),
  debug: (line) => tl.debug(neutralise(line)),
  async group(title, body) {
    console.log(`##[group]${neutralise(title)}`);
    try {
      return await body();
    } finally {
      console.log('##[endgroup]');
    }
  },
  secret: (value) => tl.setSecret(value),
};

/** Runs `read` with task-lib's own output silenced: its debug lines echo values it reads. */
function quietly<T>(read: () => T): T {
  tl.setStdStream(new Writable({ write: (_chunk, _encoding, done) => done() }));
  try {
    return read();
  } finally {
    tl.setStdStream(process.stdout);
  }
}

/** Reads a secret without task-lib's debug echo (which would print it before it is masked), then masks it. */
function readSecret(read: () => string | undefined): string | undefined {
  const value = quietly(read);
  const trimmed = value?.trim();
  if (trimmed && !/[\r\n]/.test(trimmed)) tl.setSecret(trimmed);
  return value;
}

class AgentHost implements TaskHost {
  readonly log = log;

  constructor(readonly signal: AbortSignal) {}

  input(name: string): string {
    return tl.getInput(name, false) ?? '';
  }

  quietInput(name: string): string {
    return quietly(() => tl.getInput(name, false)) ?? '';
  }

  secretInput(name: string): string {
    return readSecret(() => tl.getInput(name, false)) ?? '';
  }

  variable(name: string): string | undefined {
    return tl.getVariable(name) || undefined;
  }

  endpointUrl(connection: string): string | undefined {
    return tl.getEndpointUrl(connection, true);
  }

  endpointSecret(connection: string, parameter: string): string | undefined {
    return readSecret(() => tl.getEndpointAuthorizationParameter(connection, parameter, true));
  }

  network(): NetworkSettings {
    readSecret(() => tl.getVariable('Agent.ProxyPassword'));
    return {
      proxyConfigured: Boolean(tl.getVariable('Agent.ProxyUrl')),
      proxyFor(url) {
        const config = quietly(() => tl.getHttpProxyConfiguration(url));
        return config ? { url: config.proxyUrl, username: config.proxyUsername, password: config.proxyPassword } : null;
      },
      caFile: tl.getHttpCertConfiguration()?.caFile || undefined,
    };
  }

  setOutput(name: string, value: string): void {
    tl.setVariable(name, value, false, true);
  }

  uploadSummary(name: string, markdown: string): Promise<void> {
    try {
      this.writeSummary(name, markdown);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private writeSummary(name: string, markdown: string): void {
    const dir = tl.getVariable('Agent.TempDirectory') || os.tmpdir();
    const file = path.join(dir, `${name}-${Date.now()}.md`);
    // Written at once: the task has nothing else to do by then, and an asynchronous write would start
    // Node's thread pool for this one file (milliseconds at the very end of every run).
    writeFileSync(file, markdown, 'utf8');
    tl.uploadSummary(file);
  }

  fail(message: string): void {
    tl.setResult(tl.TaskResult.Failed, neutralise(message));
  }
}

/**
 * Runs a task as the agent started it: cancellation (SIGINT, then SIGTERM) aborts its signal. Once
 * the task has finished (every program it started has exited by then) and its last line is written,
 * the process ends at once: left to wind down by itself, Node first frees its whole heap, which the
 * agent waits for (about 10 ms at the end of every run).
 */
export async function runInAgent<Request, Result, Progress>(task: TaskDefinition<Request, Result, Progress>): Promise<void> {
  const controller = new AbortController();
  const cancel = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) console.log(`Received ${signal}: the task was cancelled, stopping.`);
    controller.abort();
  };
  process.on('SIGINT', cancel);
  process.on('SIGTERM', cancel);
  try {
    await runTask(new AgentHost(controller.signal), task);
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit();
}
