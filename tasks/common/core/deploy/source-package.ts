// The source a Build API deploy uploads: a folder of the checkout (appDirectory), packed as a gzipped
// tarball with its contents at the root, file modes and symlinks kept. Either the files of the
// deployed commit (`git archive`: what was tested ships, untracked files never do) or the folder as
// it is on disk after the pipeline's build steps (`tar`, without .git and .gitmodules, as Heroku's
// `heroku builds:create` packs a folder). The archive is streamed to a
// temp file, its SHA-256 computed on the way, never held in memory.
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TaskError, errorMessage } from '../base/errors';
import { seconds } from '../base/format';
import { runProcess } from '../base/run-process';
import { gitEnvironment, gitOrFail, runGit } from '../git/git';
import type { DeploySource } from './types';

export type PackageFrom = 'commit' | 'directory';

export interface SourceSpec {
  /** The checkout (workingDirectory). */
  cwd: string;
  sha: string;
  /** The folder to deploy, relative to cwd, as typed ('' for the checkout itself). */
  appDirectory: string;
  packageFrom: PackageFrom;
  signal?: AbortSignal;
}

export interface SourcePackage {
  file: string;
  bytes: number;
  /** Lowercase hex SHA-256 of the gzipped tarball. */
  sha256: string;
  files: number;
}

/** Largest tarball uploaded: Heroku's compressed slug limit is 500 MB, and a source is smaller. */
export const MAX_SOURCE_BYTES = 1024 * 1024 * 1024;
const PACK_TIMEOUT_MS = 10 * 60_000;

/**
 * Files a buildpack detects an app by (Heroku's officially supported languages) or that declare
 * process types: one of them at the folder's root means Heroku can build it.
 */
const DETECTED = [
  'Procfile',
  'package.json',
  'requirements.txt',
  'Pipfile',
  'pyproject.toml',
  'setup.py',
  'Gemfile',
  'composer.json',
  'index.php',
  'go.mod',
  'Godeps',
  'pom.xml',
  'build.gradle',
  'build.gradle.kts',
  'build.sbt',
  'project.clj',
  'project.toml',
  'global.json',
];

/**
 * `appDirectory` as a clean relative path (`services/api`; '' for the checkout), refusing absolute
 * paths and any `..`: checked before any network call.
 */
export function normalizeAppDirectory(value: string | undefined): string {
  const typed = (value ?? '').trim();
  const slashes = typed.replace(/\\/g, '/');
  if (slashes.startsWith('/') || /^[A-Za-z]:/.test(slashes)) {
    throw new TaskError(
      'input',
      `The input appDirectory "${typed}" is an absolute path: give the folder relative to workingDirectory (the checkout), e.g. \`services/api\`.`,
    );
  }
  const parts = slashes.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw new TaskError(
      'input',
      `The input appDirectory "${typed}" leaves the checkout (\`..\`): give a folder inside workingDirectory, e.g. \`services/api\`.`,
    );
  }
  return parts.join('/');
}

const describe = (dir: string): string => (dir ? `appDirectory ${dir}` : 'the checkout root');

/**
 * The folder's tree in the commit, named from the repository's top (git archive and ls-tree only
 * work on whole trees from there): `<sha>:services/api`, or the commit's root tree.
 */
async function treeOf(spec: SourceSpec): Promise<{ top: string; tree: string }> {
  const { cwd, signal } = spec;
  const [top, prefix] = (
    await gitOrFail(['rev-parse', '--show-toplevel', '--show-prefix'], { cwd, signal }, 'Finding the checkout')
  ).split('\n');
  const inRepo = path.posix
    .join(prefix ?? '', spec.appDirectory)
    .replace(/^\.$/, '')
    .replace(/\/$/, '');
  return { top: top ?? cwd, tree: inRepo ? `${spec.sha}:${inRepo}` : `${spec.sha}^{tree}` };
}

/**
 * Checks the folder before anything changes: inside the checkout (no symlink out), present in the
 * commit or on disk. Returns a warning when nothing at its root lets a buildpack detect an app.
 */
export async function checkAppDirectory(spec: SourceSpec): Promise<{ warning: string | null }> {
  const { cwd, appDirectory: dir, signal } = spec;
  const sha = spec.sha;
  let names: string[];
  if (spec.packageFrom === 'commit') {
    const { top, tree } = await treeOf(spec);
    const type = await runGit(['cat-file', '-t', tree], { cwd: top, signal });
    if (type.code !== 0) {
      throw new TaskError(
        'input',
        `${describe(dir)} does not exist in commit ${sha.slice(0, 8)} (packageFrom: commit deploys the committed files). Check the path (relative to workingDirectory), or use \`packageFrom: directory\` to deploy a folder the pipeline creates.`,
      );
    }
    if (type.stdout.trim() !== 'tree') {
      throw new TaskError(
        'input',
        `${describe(dir)} is not a folder in commit ${sha.slice(0, 8)} (a file or a symbolic link): give the folder that holds the app.`,
      );
    }
    // Stryker disable next-line MethodExpression: without filter(Boolean) an empty tree lists one '', which no app is detected by either
    names = (await gitOrFail(['ls-tree', '--name-only', tree], { cwd: top, signal }, 'Listing appDirectory'))
      .split('\n')
      .filter(Boolean);
  } else {
    const folder = await resolveOnDisk(cwd, dir);
    names = await fs.readdir(folder);
  }
  if (names.some((name) => DETECTED.includes(name) || name.endsWith('.csproj'))) return { warning: null };
  return {
    warning: `${describe(dir)} has no Procfile and none of the files Heroku's buildpacks detect an app by (package.json, requirements.txt, Gemfile, go.mod, pom.xml, ...): the build fails unless the app's buildpacks are set. Check that appDirectory points at the app's folder.`,
  };
}

/** The folder on disk, refused when it is missing or (through a symlink) outside the checkout. */
async function resolveOnDisk(cwd: string, dir: string): Promise<string> {
  // Stryker disable next-line MethodExpression: gitOrFail already returns git's output trimmed
  const top = (await gitOrFail(['rev-parse', '--show-toplevel'], { cwd }, 'Finding the checkout')).trim();
  const root = await fs.realpath(top);
  let real: string;
  try {
    real = await fs.realpath(path.join(cwd, dir));
  } catch {
    throw new TaskError(
      'input',
      `${describe(dir)} does not exist on disk in ${cwd}. Check the path (relative to workingDirectory), and that the steps that create it ran before this one.`,
    );
  }
  const inside = path.relative(root, real);
  if (inside.startsWith('..') || path.isAbsolute(inside)) {
    throw new TaskError(
      'input',
      `${describe(dir)} leads outside the checkout (a symbolic link to ${real}): only folders of the checkout are deployed. Point appDirectory at the folder itself.`,
    );
  }
  if (!(await fs.stat(real)).isDirectory())
    throw new TaskError('input', `${describe(dir)} is a file, not a folder: give the folder that holds the app.`);
  return real;
}

/** Counts and hashes the bytes going through, and stops past `max`. */
class Measure extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly max: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) {
      // Stryker disable next-line ArithmeticOperator,StringLiteral: this error only stops the pipeline; packSource sees bytes > max first and throws its own message
      done(new TaskError('input', `the source is larger than ${Math.round(this.max / 1024 / 1024)} MB`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Packs the folder into `file` (in a temp folder the caller deletes): `git archive` of the commit's
 * tree, or `tar` of the folder on disk without .git, streamed through the hash to the file.
 */
export async function packSource(
  spec: SourceSpec,
  file: string,
  maxBytes = MAX_SOURCE_BYTES,
  timeoutMs = PACK_TIMEOUT_MS,
): Promise<SourcePackage> {
  const { cwd, appDirectory: dir, signal } = spec;
  const stop = new AbortController();
  const both = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let command: string;
  let args: string[];
  let env = process.env;
  let folder: string;
  // Stryker disable next-line StringLiteral: read only when packing the commit, where treeOf sets it
  let tree = '';
  if (spec.packageFrom === 'commit') {
    ({ top: folder, tree } = await treeOf(spec));
    command = 'git';
    args = ['archive', '--format=tar.gz', tree];
    env = gitEnvironment();
  } else {
    folder = await resolveOnDisk(cwd, dir);
    command = 'tar';
    args = ['-czf', '-', '--exclude=.git', '--exclude=.gitmodules', '.'];
  }
  const measure = new Measure(maxBytes);
  const out = createWriteStream(file, { mode: 0o600 });
  // pipeline: a failure of either end (the size cap, a full disk) destroys both and stops the packer.
  const written = pipeline(measure, out).then(
    // Stryker disable next-line ArrowFunction: null and undefined both mean no write failure
    () => null,
    (error: unknown) => error,
  );
  measure.on('error', () => stop.abort());
  let result;
  try {
    result = await runProcess(command, args, {
      cwd: folder,
      env,
      signal: both,
      timeoutMs,
      stdoutSink: measure,
      maxOutputChars: 64 * 1024,
    });
  } catch (error) {
    measure.destroy();
    throw new TaskError(
      'git',
      `Could not run ${command} to pack ${describe(dir)}: ${errorMessage(error)}. Install ${command} on the agent.`,
    );
  }
  const writeFailure = await written;
  if (measure.bytes > maxBytes) {
    throw new TaskError(
      'input',
      `${describe(dir)} packs to more than ${Math.round(maxBytes / 1024 / 1024)} MB: too big to build on Heroku. Leave out what the app does not need at run time (a .slugignore does not shrink the upload; packageFrom: commit leaves out untracked files).`,
    );
  }
  // The task's own signal: `result.cancelled` is also set when a failed write stopped the packer.
  if (signal?.aborted) throw new TaskError('cancelled', `The task was cancelled while packing ${describe(dir)}.`);
  if (writeFailure)
    throw new TaskError(
      'unexpected',
      `Writing the tarball of ${describe(dir)} to ${file} failed: ${errorMessage(writeFailure)}. Check the free disk space of the agent's temp folder.`,
    );
  if (result.timedOut)
    throw new TaskError(
      'git',
      `Packing ${describe(dir)} took more than ${seconds(timeoutMs)} and was stopped: is the folder that large?`,
    );
  if (result.code !== 0) {
    const said = result.stderr.trim().split('\n').slice(-3).join(' / ');
    throw new TaskError('git', `Packing ${describe(dir)} failed: ${command} exited ${result.code}${said ? `: ${said}` : ''}.`);
  }
  const files = spec.packageFrom === 'commit' ? await countCommitFiles(folder, tree, signal) : await countFiles(folder);
  return { file, bytes: measure.bytes, sha256: measure.digest(), files };
}

async function countCommitFiles(top: string, tree: string, signal?: AbortSignal): Promise<number> {
  let count = 0;
  const result = await runProcess('git', ['ls-tree', '-r', '--name-only', tree], {
    cwd: top,
    env: gitEnvironment(),
    signal,
    timeoutMs: PACK_TIMEOUT_MS,
    maxOutputChars: 1024,
    // Stryker disable next-line BooleanLiteral: a group of its own only adds a watchdog process; git ls-tree starts no children, so a stop ends the same one process either way
    ownGroup: false,
    onStdoutLine: (line) => void (line && count++),
  });
  return result.code === 0 ? count : 0;
}

/** Files and symlinks under `dir`, .git and .gitmodules left out (as the tarball leaves them). */
async function countFiles(dir: string): Promise<number> {
  let count = 0;
  const walk = async (current: string): Promise<void> => {
    for (const entry of await fs.readdir(current, { withFileTypes: true })) {
      if (entry.name === '.git' || entry.name === '.gitmodules') continue;
      if (entry.isDirectory()) await walk(path.join(current, entry.name));
      else count++;
    }
  };
  await walk(dir);
  return count;
}

export interface SourceInputs {
  deployMethod?: string;
  appDirectory?: string;
  packageFrom?: string;
  /** The ref input as typed ('' or HEAD: the checked-out commit). */
  ref: string;
  force: boolean;
}

/**
 * deployMethod, appDirectory and packageFrom, checked together (before any network call): the
 * git-only inputs are refused with `build`, and the build-only ones with `git`.
 */
export function parseDeploySource(inputs: SourceInputs): DeploySource {
  const method = (inputs.deployMethod ?? '').trim().toLowerCase() || 'git';
  const folder = (inputs.appDirectory ?? '').trim();
  const from = (inputs.packageFrom ?? '').trim().toLowerCase();
  if (method !== 'git' && method !== 'build') {
    throw new TaskError(
      'input',
      `The input deployMethod is "${inputs.deployMethod}": use \`git\` (push the commit to Heroku's git repository) or \`build\` (upload a folder of the checkout to Heroku's Build API).`,
    );
  }
  if (method === 'git') {
    if (folder && normalizeAppDirectory(folder) !== '') {
      throw new TaskError(
        'input',
        `The input appDirectory ("${folder}") only applies to \`deployMethod: build\`: a git push always deploys the whole repository. Set \`deployMethod: build\` to deploy only that folder.`,
      );
    }
    if (from)
      throw new TaskError(
        'input',
        'The input packageFrom only applies to `deployMethod: build`: set `deployMethod: build`, or remove packageFrom.',
      );
    return { method: 'git' };
  }
  if (inputs.ref && inputs.ref !== 'HEAD') {
    throw new TaskError(
      'input',
      `The input ref ("${inputs.ref}") only applies to \`deployMethod: git\`: a Build API deploy packs the checked-out commit (HEAD). Check out the commit to deploy, or remove ref.`,
    );
  }
  if (inputs.force) {
    throw new TaskError(
      'input',
      'The input force only applies to `deployMethod: git` (a Build API deploy replaces no git history): remove `force: true`.',
    );
  }
  if (from && from !== 'commit' && from !== 'directory') {
    throw new TaskError(
      'input',
      `The input packageFrom is "${inputs.packageFrom}": use \`commit\` (the files of the deployed commit, as committed) or \`directory\` (the folder as it is on disk after the build steps).`,
    );
  }
  return {
    method: 'build',
    appDirectory: normalizeAppDirectory(folder),
    packageFrom: from === 'directory' ? 'directory' : 'commit',
  };
}
