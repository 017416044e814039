// Which Heroku CLI the script gets, and where it came from: the agent's own (on PATH), the agent's
// tool cache, or Heroku's standalone tarball, downloaded, checked against its SHA-256 before it is
// extracted, and cached for the next job. Its version is what `heroku --version` prints.
import { accessSync, constants, existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { TaskError, cancelled, errorMessage } from '../base/errors';
import type { TaskLog } from '../base/log';
import { runProcess } from '../base/run-process';
import { platformTarget, stableBuild, versionBuild, type CliBuild } from './assets';
import type { Fetcher } from './download';
import { pathKey, withPathFirst } from './environment';
import type { CliRequest, InstalledCli } from './types';

const TAR_TIMEOUT_MS = 10 * 60_000;
const VERSION_TIMEOUT_MS = 60_000;

/** The executable's file name in a bin folder. */
export const cliExecutable = (platform: NodeJS.Platform): string => (platform === 'win32' ? 'heroku.cmd' : 'heroku');

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The folder on `env`'s PATH holding the `heroku` executable, or null. */
export function findOnPath(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | null {
  const delimiter = platform === 'win32' ? ';' : ':';
  const names = platform === 'win32' ? ['heroku.cmd', 'heroku.exe', 'heroku.bat'] : ['heroku'];
  // Stryker disable next-line StringLiteral: without PATH a placeholder is one relative folder that holds no CLI, so null either way
  for (const dir of (env[pathKey(env)] ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of names) {
      const file = path.join(dir, name);
      try {
        if (statSync(file).isFile() && (platform === 'win32' || isExecutable(file))) return dir;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** `heroku <args>` from `binDir` as a command line (Windows runs the .cmd through cmd.exe). */
export function cliCommand(binDir: string, platform: NodeJS.Platform, args: string[]): { command: string; args: string[] } {
  if (platform !== 'win32') return { command: path.join(binDir, cliExecutable(platform)), args };
  return { command: 'cmd.exe', args: ['/D', '/S', '/C', `""${path.join(binDir, cliExecutable(platform))}" ${args.join(' ')}"`] };
}

async function extract(tarball: string, into: string, request: CliRequest): Promise<void> {
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: `into` is a new folder directly in the run folder, which exists: mkdir needs no recursion
  await fs.mkdir(into, { recursive: true });
  let result;
  try {
    // tar runs in `into`, so it extracts there.
    result = await runProcess('tar', ['-xzf', tarball], {
      cwd: into,
      env: request.environment,
      signal: request.signal,
      timeoutMs: TAR_TIMEOUT_MS,
    });
  } catch (error) {
    throw new TaskError(
      'unexpected',
      `tar could not run to extract the Heroku CLI (${errorMessage(error)}): install tar on the agent.`,
    );
  }
  if (result.cancelled) throw cancelled('extracting the Heroku CLI');
  if (result.timedOut || result.code !== 0)
    throw new TaskError(
      'unexpected',
      `Extracting the Heroku CLI failed (tar ${result.timedOut ? 'ran out of time' : `exited ${result.code}`}: ${result.stderr.trim().slice(-500)}). Check the agent's free disk space and re-run.`,
    );
}

async function download(build: CliBuild, request: CliRequest, http: Fetcher, runDir: string, log: TaskLog): Promise<string> {
  const tarball = path.join(runDir, 'heroku.tar.gz');
  log.info(`Downloading Heroku CLI ${build.version} from ${build.url}`);
  const { sha256, bytes } = await http.file(build.url, tarball, `Heroku CLI ${build.version}`);
  if (sha256 !== build.sha256)
    throw new TaskError(
      'verification',
      `The Heroku CLI tarball from ${build.url} is not the one its manifest describes (SHA-256 ${sha256}, expected ${build.sha256}): it was not extracted or run. A proxy or mirror altered it, or the download was cut: re-run, and check HEROKU_CLI_ASSETS_URL and the agent's proxy.`,
    );
  log.info(`SHA-256 verified (${build.sha256}, ${Math.round(bytes / 1024)} KB)`);
  const unpacked = path.join(runDir, 'unpacked');
  await extract(tarball, unpacked, request);
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: the tarball was just written and verified, so it exists and force changes nothing
  await fs.rm(tarball, { force: true });
  const root = path.join(unpacked, build.baseDir);
  if (!existsSync(path.join(root, 'bin', cliExecutable(request.platform))))
    throw new TaskError(
      'verification',
      `The Heroku CLI tarball from ${build.url} has no ${build.baseDir}/bin/${cliExecutable(request.platform)}: it is not a CLI for ${platformTarget(request.platform, request.arch)}. Check HEROKU_CLI_ASSETS_URL.`,
    );
  const cached = await request.tools.add(root, build.version);
  // Stryker disable next-line BooleanLiteral: `unpacked` was just extracted into (and found to hold the CLI), so it exists and force changes nothing
  await fs.rm(unpacked, { recursive: true, force: true });
  return path.join(cached, 'bin');
}

/** The version line `heroku --version` prints (its first line). */
async function versionLine(binDir: string, request: CliRequest, env: NodeJS.ProcessEnv): Promise<string> {
  const { command, args } = cliCommand(binDir, request.platform, ['--version']);
  let result;
  try {
    result = await runProcess(command, args, {
      cwd: request.script.workingDirectory,
      env,
      signal: request.signal,
      timeoutMs: VERSION_TIMEOUT_MS,
      windowsVerbatimArguments: request.platform === 'win32',
    });
  } catch (error) {
    throw new TaskError('unexpected', `The Heroku CLI in ${binDir} could not be started: ${errorMessage(error)}.`);
  }
  if (result.cancelled) throw cancelled('asking the Heroku CLI for its version');
  // Stryker disable next-line StringLiteral: split always returns at least one element, so the fallback is never used
  const line = result.stdout.trim().split(/\r?\n/)[0] ?? '';
  if (result.timedOut || result.code !== 0 || !line)
    throw new TaskError(
      'unexpected',
      `\`heroku --version\` (${binDir}) ${result.timedOut ? `did not answer within ${VERSION_TIMEOUT_MS / 1000} s` : `failed (exit ${result.code})`}: ${result.stderr.trim().slice(-500)}. The CLI there is broken: remove it from the agent, or set cliVersion to install one.`,
    );
  return line;
}

/**
 * The CLI for this run, first on PATH (for the script, and for the job's later steps when it was
 * installed), and its version logged.
 */
export async function obtainCli(
  request: CliRequest,
  env: NodeJS.ProcessEnv,
  http: Fetcher,
  runDir: string,
  log: TaskLog,
): Promise<InstalledCli> {
  const wanted = request.cliVersion;
  let binDir: string;
  let source: InstalledCli['source'];
  const onPath = wanted.kind === 'path-or-stable' ? findOnPath(env, request.platform) : null;
  if (onPath) {
    binDir = onPath;
    source = 'path';
  } else {
    const target = platformTarget(request.platform, request.arch);
    if (wanted.kind === 'path-or-stable') log.info("No Heroku CLI on the agent's PATH: using the latest stable one.");
    const build = wanted.kind === 'exact' ? null : await stableBuild(request.assets, target, http);
    // Stryker disable next-line StringLiteral: build is null only for an exact version, so the '' branch is never taken
    const version = build?.version ?? (wanted.kind === 'exact' ? wanted.version : '');
    const cached = request.tools.find(version);
    if (cached) {
      binDir = path.join(cached, 'bin');
      source = 'cache';
    } else {
      binDir = await download(build ?? (await versionBuild(request.assets, target, version, http)), request, http, runDir, log);
      source = 'download';
    }
    request.tools.prependPath(binDir);
  }
  const line = await versionLine(binDir, request, withPathFirst(env, binDir));
  const where = {
    path: `on the agent's PATH (${binDir})`,
    cache: `from the agent's tool cache (${binDir})`,
    download: `downloaded and cached (${binDir})`,
  }[source];
  log.info(`Heroku CLI ${where}: ${line}`);
  return { binDir, versionLine: line, source };
}
