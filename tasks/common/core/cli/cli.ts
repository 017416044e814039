// HerokuCli@1's operation: make a folder for this run in the agent's temp directory, get the CLI,
// run the script signed in (HEROKU_API_KEY in its environment only), and remove the folder — the
// inline script and the CLI's config, cache and data — whatever happened, cancel included.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TaskError, cancelled, errorMessage, toTaskError } from '../base/errors';
import type { TaskLog } from '../base/log';
import { runProcess } from '../base/run-process';
import type { Outcome } from '../workflow/report';
import { fetcher, type Fetcher } from './download';
import { scriptEnvironment, stateFolders, withPathFirst } from './environment';
import { obtainCli } from './install';
import { prepareScript } from './script';
import type { CliProgress, CliRequest, CliResult } from './types';

/** How many stderr lines a failOnStandardError failure quotes. */
const QUOTED_STDERR_LINES = 5;

async function runScript(request: CliRequest, env: NodeJS.ProcessEnv, runDir: string, log: TaskLog): Promise<number> {
  const { script } = request;
  const command = await prepareScript(script, runDir, request.platform);
  log.info(
    `Running the ${script.source.kind === 'inline' ? 'inline script' : `script ${script.source.path}`} with ${command.shell} in ${script.workingDirectory}`,
  );
  const stderr: string[] = [];
  let stderrLines = 0;
  let result;
  try {
    result = await runProcess(command.command, command.args, {
      cwd: script.workingDirectory,
      env,
      signal: request.signal,
      windowsVerbatimArguments: command.windowsVerbatimArguments,
      onStdoutLine: (line) => log.info(line),
      onStderrLine: (line) => {
        stderrLines++;
        if (stderr.length < QUOTED_STDERR_LINES) stderr.push(line);
        log.info(line);
      },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new TaskError(
        'input',
        `${command.shell} is not installed on this agent (or not on its PATH), so a ${script.type} script cannot run: install it, or choose another scriptType.`,
      );
    throw error;
  }
  if (result.cancelled) throw cancelled(`running the script (${command.shell} and what it started were stopped)`);
  if (result.signal)
    throw new TaskError(
      'script',
      `The script was stopped by ${result.signal} (not by this task): something on the agent killed it. Its output is above.`,
    );
  if (result.code !== 0)
    throw new TaskError(
      'script',
      `The script exited with code ${result.code}: its output is above.${script.type === 'bash' ? ' (bash runs it with -e -o pipefail: the first command that fails ends it.)' : ''}`,
    );
  if (script.failOnStandardError && stderrLines > 0)
    throw new TaskError(
      'script',
      `The script wrote ${stderrLines} line${stderrLines === 1 ? '' : 's'} to standard error and failOnStandardError is true (the first ${stderr.length} just above): fix what writes them, send harmless ones to standard output (2>&1), or set failOnStandardError: false.`,
      stderr.map((line) => `stderr: ${line}`),
    );
  return result.code;
}

export async function runCli(
  request: CliRequest,
  log: TaskLog,
  http: Fetcher = fetcher(request.network, request.signal),
): Promise<Outcome<CliResult, CliProgress>> {
  const started = Date.now();
  const progress: CliProgress = { cli: null };
  let runDir: string | null = null;
  try {
    await fs.mkdir(request.tempDirectory, { recursive: true });
    runDir = await fs.mkdtemp(path.join(request.tempDirectory, 'heroku-cli-'));
    const stateRoot = path.join(runDir, 'home');
    const folders = stateFolders(stateRoot);
    for (const dir of Object.values(folders)) await fs.mkdir(dir, { recursive: true });
    // The CLI prints a one-time terms-of-service banner on standard error unless its cache says it was
    // shown: with a fresh cache each run, every run would print it (and fail with failOnStandardError).
    await fs.writeFile(path.join(folders.HEROKU_CACHE_DIR, 'terms-of-service'), '');
    const env = scriptEnvironment({
      base: request.environment,
      apiKey: request.apiKey,
      api: request.api,
      network: request.network,
      stateRoot,
      urls: [request.assets.url],
      log,
    });
    if (!request.api.isDefault)
      log.info(
        `The CLI uses the Heroku API at ${request.api.url} (from ${request.api.source}): HEROKU_HOST is set for the script.`,
      );
    if (!request.assets.isDefault)
      log.info(`The CLI's downloads come from ${request.assets.url} (the variable HEROKU_CLI_ASSETS_URL).`);
    const cli = await obtainCli(request, env, http, runDir, log);
    progress.cli = cli;
    log.info(
      `Signed in for this script only (HEROKU_API_KEY in its environment); the CLI's config, cache and data are in ${stateRoot}, removed after.`,
    );
    const exitCode = await runScript(request, withPathFirst(env, cli.binDir), runDir, log);
    return { ok: true, result: { cli, exitCode, durationMs: Date.now() - started } };
  } catch (error) {
    return { ok: false, failure: toTaskError(error), partial: progress };
  } finally {
    if (runDir)
      await fs
        .rm(runDir, { recursive: true, force: true, maxRetries: 3 })
        .catch((error: unknown) =>
          log.warn(
            `Could not remove ${runDir} (the script and the CLI's state of this run): ${errorMessage(error)}. Remove it from the agent.`,
          ),
        );
  }
}
