// HerokuRun@1's operation: one command in a one-off dyno, as `heroku run --exit-code` runs it (the
// facts in exit-status.ts and heroku/rendezvous.ts), with the guarantee the CLI does not give: whatever
// ends the run without an exit status (cancel, timeout, a dropped connection, a failed attach), the
// dyno is stopped before the task ends.
import { TaskError, errorMessage, toTaskError } from '../base/errors';
import { plural, seconds } from '../base/format';
import type { TaskLog } from '../base/log';
import type { App } from '../heroku/api';
import { showRecentLogs } from '../heroku/app-logs';
import { UNDO_DEADLINES, clientFor, type AppClient } from '../heroku/client';
import { openRendezvous } from '../heroku/rendezvous';
import type { Outcome } from '../workflow/report';
import { DynoOutput, withExitStatus } from './exit-status';
import type { RunProgress, RunRequest, RunResult } from './types';

/** How often Heroku's CLI sends the create again after a 409 (no pause: the condition is short-lived). */
const CONFLICT_RETRIES = 2;
/** How long after time_to_live the task stops the dyno itself, if Heroku has not. */
const TIMEOUT_GRACE_MS = 5_000;
/** How long the connection may stay open after the exit status arrived. */
const CLOSE_GRACE_MS = 10_000;
/** Output printed to the log at most; the rest is read (for the exit status) but not printed. */
const MAX_PRINTED_CHARS = 50 * 1024 * 1024;
/** Log lines shown for a dyno that ended without an exit status. */
const LOG_LINES = 100;

interface CreatedDyno {
  name: string;
  size?: string;
  attach_url?: string | null;
}

/** How the connection to the dyno ended. */
type Ending =
  | { kind: 'status'; code: number }
  | { kind: 'no-status'; error: string | null }
  | { kind: 'timeout' }
  | { kind: 'cancelled' }
  | { kind: 'attach-failed'; error: TaskError };

function refuseFir(app: App, name: string): void {
  if (app.generation?.name !== 'fir') return;
  throw new TaskError(
    'input',
    `${name} is a Fir-generation app. Heroku's CLI attaches Fir dynos differently (SSH through an HTTP upgrade, and \`launcher\` before the command on the CNB stack) and Heroku documents \`heroku run\` for Fir as coming later: HerokuRun@1 runs one-off dynos of Cedar-generation apps only. On Fir, run the command with HerokuCli@1 (\`heroku run:inside <dyno> --exit-code -a ${name} -- <command>\`).`,
  );
}

async function createDyno(app: AppClient, request: RunRequest): Promise<CreatedDyno> {
  const body = {
    command: withExitStatus(request.command),
    attach: true,
    force_no_tty: true,
    type: request.type,
    time_to_live: request.timeoutSeconds,
    ...(request.size ? { size: request.size } : {}),
    ...(Object.keys(request.env).length > 0 ? { env: request.env } : {}),
  };
  return app.postRetryingConflict<CreatedDyno>(app.path('dynos'), body, 'starting a one-off dyno', CONFLICT_RETRIES);
}

/** Reads the dyno's output into the log until the connection ends, the deadline passes or the task is cancelled. */
async function attachAndRead(attachUrl: string, request: RunRequest, log: TaskLog, deadline: number): Promise<Ending> {
  const { signal } = request;
  const timeout = AbortSignal.timeout(Math.max(0, deadline - Date.now()));
  let socket;
  try {
    socket = await openRendezvous(attachUrl, request.network, AbortSignal.any([signal, timeout]));
  } catch (error) {
    if (signal.aborted) return { kind: 'cancelled' };
    if (timeout.aborted) return { kind: 'timeout' };
    return { kind: 'attach-failed', error: toTaskError(error) };
  }
  let printed = 0;
  const output = new DynoOutput((line) => {
    printed += line.length;
    if (printed <= MAX_PRINTED_CHARS) log.info(line);
    else if (printed - line.length <= MAX_PRINTED_CHARS)
      log.info(
        `[output cut: more than ${MAX_PRINTED_CHARS / 1024 / 1024} MB printed; the rest is read for the exit status only]`,
      );
  });
  socket.setEncoding('utf8');
  return new Promise<Ending>((resolve) => {
    let failure: string | null = null;
    let closeGrace: NodeJS.Timeout | undefined;
    const finish = (ending: Ending): void => {
      clearTimeout(closeGrace);
      // Stryker disable next-line StringLiteral: a late timeout only calls finish again, which resolves nothing and logs nothing
      timeout.removeEventListener('abort', onTimeout);
      // Stryker disable next-line StringLiteral: a late cancel only calls finish again, which resolves nothing and logs nothing
      signal.removeEventListener('abort', onCancel);
      // Stryker disable next-line StringLiteral: a destroyed socket emits no more 'data'
      socket.removeAllListeners('data');
      socket.removeAllListeners('close');
      // Stryker disable next-line StringLiteral: the 'error' listener set below stays on the socket, so an error after destroy is handled either way
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(ending);
    };
    const statusOr = (other: Ending): Ending => (output.status === null ? other : { kind: 'status', code: output.status });
    const onTimeout = (): void => finish(statusOr({ kind: 'timeout' }));
    const onCancel = (): void => finish(statusOr({ kind: 'cancelled' }));
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: an AbortSignal fires 'abort' once at most, so `once` changes nothing
    timeout.addEventListener('abort', onTimeout, { once: true });
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: an AbortSignal fires 'abort' once at most, so `once` changes nothing
    signal.addEventListener('abort', onCancel, { once: true });
    socket.on('data', (chunk: string) => {
      output.push(chunk);
      // The status came: the dyno is ending; don't wait forever for the connection to close.
      const status = output.status;
      if (status !== null && !closeGrace) closeGrace = setTimeout(() => finish({ kind: 'status', code: status }), CLOSE_GRACE_MS);
    });
    socket.on('error', (error) => (failure = errorMessage(error)));
    socket.on('close', () => {
      output.end();
      finish(statusOr({ kind: 'no-status', error: failure }));
    });
  });
}

/** Stops the dyno (no cancel, short deadlines: this runs after a cancel too) and says how it went. */
async function stopDyno(app: AppClient, name: string, log: TaskLog): Promise<string> {
  const stop = `heroku ps:stop ${name} -a ${app.name}`;
  try {
    await app
      .withDeadlines(UNDO_DEADLINES)
      .post(app.path('dynos', name, 'actions', 'stop'), {}, `stopping the one-off dyno ${name}`, true);
    log.info(`Stopped the one-off dyno ${name} (POST /apps/${app.name}/dynos/${name}/actions/stop).`);
    return `The dyno ${name} was stopped.`;
  } catch (error) {
    const cause = error instanceof TaskError ? error : toTaskError(error);
    if (cause.kind === 'not-found') return `The dyno ${name} had already ended.`;
    log.warn(`Could not stop the one-off dyno ${name}: ${cause.message} Stop it yourself: \`${stop}\`.`);
    return `Stopping the dyno ${name} FAILED: it may still be running; stop it with \`${stop}\`.`;
  }
}

export async function runOneOff(request: RunRequest, log: TaskLog): Promise<Outcome<RunResult, RunProgress>> {
  const started = Date.now();
  const progress: RunProgress = { dynoName: null, exitCode: null };
  const { command, appName, timeoutSeconds } = request;
  try {
    const client = clientFor(request, log);
    const app = client.forApp(appName);
    const [, info] = await Promise.all([client.account(), app.get<App>(app.path(), `reading the app ${appName}`)]);
    refuseFir(info, appName);
    const dyno = await createDyno(app, request);
    const created = Date.now();
    progress.dynoName = dyno.name;
    const limit = seconds(timeoutSeconds * 1000);
    log.info(
      `Running \`${command}\` on ${appName} in the one-off dyno ${dyno.name}${dyno.size ? ` (${dyno.size})` : ''}, for at most ${limit}${Object.keys(request.env).length > 0 ? ` with ${plural(Object.keys(request.env).length, 'variable')} of env (values not shown)` : ''}:`,
    );
    const ending: Ending = dyno.attach_url
      ? await attachAndRead(dyno.attach_url, request, log, created + timeoutSeconds * 1000 + TIMEOUT_GRACE_MS).catch(
          (error: unknown): Ending => ({ kind: 'attach-failed', error: toTaskError(error) }),
        )
      : {
          kind: 'attach-failed',
          error: new TaskError(
            'api',
            `Heroku started ${dyno.name} without an attach URL, so its output and exit status cannot be read.`,
          ),
        };
    if (ending.kind === 'status') {
      progress.exitCode = ending.code;
      const result = { app: appName, command, dynoName: dyno.name, exitCode: ending.code, durationMs: Date.now() - started };
      if (ending.code === 0) return { ok: true, result };
      if (request.failOnExitCode)
        throw new TaskError(
          'script',
          `\`${command}\` exited with code ${ending.code} in ${dyno.name} of ${appName}: its output is above. (Set failOnExitCode: false to let the job go on after a non-zero exit.)`,
        );
      log.warn(
        `\`${command}\` exited with code ${ending.code} in ${dyno.name}; failOnExitCode is false, so the task succeeds (exitCode output: ${ending.code}).`,
      );
      return { ok: true, result };
    }
    // No exit status: the dyno may still run. It never outlives the task.
    const ranPastTimeToLive = Date.now() - created >= timeoutSeconds * 1000;
    const stopped = await stopDyno(app, dyno.name, log);
    switch (ending.kind) {
      case 'cancelled':
        throw new TaskError(
          'cancelled',
          `The task was cancelled while \`${command}\` ran in ${dyno.name} of ${appName}. ${stopped}`,
        );
      case 'timeout':
        throw timedOut(command, dyno.name, limit, stopped);
      case 'attach-failed':
        throw new TaskError(ending.error.kind, `${ending.error.message} ${stopped}`, ending.error.details);
      case 'no-status': {
        if (ranPastTimeToLive) throw timedOut(command, dyno.name, limit, stopped);
        await showRecentLogs(app, log, LOG_LINES, dyno.name);
        throw new TaskError(
          'script',
          `The dyno ${dyno.name} ended without reporting an exit status for \`${command}\` (${ending.error ? `the connection failed: ${ending.error}` : 'the connection closed'}): it was killed or crashed, or the connection dropped. Its log lines are above (an R14/R15 memory error or a crash shows there). ${stopped}`,
        );
      }
    }
  } catch (error) {
    return { ok: false, failure: toTaskError(error), partial: progress };
  }
}

function timedOut(command: string, dyno: string, limit: string, stopped: string): TaskError {
  return new TaskError(
    'timeout',
    `\`${command}\` did not finish within the timeout (${limit}) in ${dyno}. ${stopped} Raise the timeout input (minutes) if the command needs longer.`,
  );
}
