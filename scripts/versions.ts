// Task and extension versions. Azure Pipelines agents cache a task by its version: a change shipped
// under a version an agent already ran never reaches that agent. So every release is recorded in
// releases.json (each task folder's version and a hash of its built folder, written by
// `npm run release -- record` on the commit that is tagged), and a build that differs from the last
// recorded one needs a higher version (`npm run version`). CHANGELOG.md has an entry per task version.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export type Level = 'major' | 'minor' | 'patch';
export const LEVELS: Level[] = ['major', 'minor', 'patch'];
export const RELEASES_FILE = 'releases.json';
export const CHANGELOG_FILE = 'CHANGELOG.md';
export const MANIFEST_FILE = 'vss-extension.json';
export const PLACEHOLDER = '- (say what changed in this version)';

const TASK_CONTRIBUTION = 'ms.vss-distributed-task.task';

export interface TaskVersion {
  Major: number;
  Minor: number;
  Patch: number;
}

/** A task folder as built or as released: its name, version and the hash of its built folder. */
export interface TaskBuild {
  folder: string;
  name: string;
  version: string;
  bundle: string;
}

export interface Release {
  extension: string;
  tasks: Record<string, { name: string; version: string; bundle: string }>;
}

type Json = Record<string, unknown>;

export const versionText = (v: TaskVersion): string => `${v.Major}.${v.Minor}.${v.Patch}`;

function parse(version: string): number[] {
  const parts = version.split('.').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p) || p < 0))
    throw new Error(`"${version}" is not a version like 1.2.3.`);
  return parts;
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

export function bumped(version: string, level: Level): string {
  const [major = 0, minor = 0, patch = 0] = parse(version);
  if (level === 'major') return `${major + 1}.0.0`;
  if (level === 'minor') return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as T;
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** task.json with its version set, the rest of the file as it was written. */
async function setTaskVersion(file: string, [major, minor, patch]: number[]): Promise<void> {
  const text = await fs.readFile(file, 'utf8');
  const version = /("version"\s*:\s*\{\s*"Major"\s*:\s*)\d+(\s*,\s*"Minor"\s*:\s*)\d+(\s*,\s*"Patch"\s*:\s*)\d+/;
  if (!version.test(text)) throw new Error(`${file} has no "version": { "Major", "Minor", "Patch" } to raise.`);
  await fs.writeFile(file, text.replace(version, `$1${major}$2${minor}$3${patch}`));
}

/** tasks/<Name>V<Major>/ folders under `root`. */
export async function taskFolders(root: string): Promise<string[]> {
  const entries = await fs.readdir(path.join(root, 'tasks'), { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && /V\d+$/.test(e.name))
    .map((e) => e.name)
    .sort();
}

/**
 * A built task folder's hash: every file, by name and content, with task.json's `version` left out
 * (a version bump alone is no change to ship). The bundle is built from the lockfile's packages, so
 * the same sources give the same hash on every machine (LF line endings: .gitattributes).
 */
export async function bundleHash(builtFolder: string): Promise<string> {
  const hash = createHash('sha256');
  const files = (await fs.readdir(builtFolder, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(builtFolder, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
  for (const file of files) {
    let content = await fs.readFile(path.join(builtFolder, file));
    if (file === 'task.json') {
      const task = JSON.parse(content.toString('utf8')) as Json;
      delete task.version;
      content = Buffer.from(JSON.stringify(task));
    }
    hash.update(`${file}\0${content.length}\0`).update(content);
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Each task as `npm run build` left it in build/tasks/ under `root`. */
export async function builtTasks(root: string): Promise<TaskBuild[]> {
  const builds: TaskBuild[] = [];
  for (const folder of await taskFolders(root)) {
    const built = path.join(root, 'build', 'tasks', folder);
    const task = await readJson<{ name: string; version: TaskVersion }>(path.join(built, 'task.json')).catch(() => {
      throw new Error(`build/tasks/${folder} is not built: run npm run build first.`);
    });
    builds.push({ folder, name: task.name, version: versionText(task.version), bundle: await bundleHash(built) });
  }
  return builds;
}

export async function readReleases(root: string): Promise<Release[]> {
  return (await readJson<{ releases: Release[] }>(path.join(root, RELEASES_FILE))).releases;
}

export async function extensionVersion(root: string): Promise<string> {
  return String((await readJson<Json>(path.join(root, MANIFEST_FILE))).version);
}

/** What keeps this build from shipping after the `last` recorded release: empty when all is well. */
export function releaseProblems(current: TaskBuild[], extension: string, last: Release | undefined): string[] {
  if (!last) return [];
  const problems: string[] = [];
  let changed = false;
  for (const task of current) {
    const released = last.tasks[task.folder];
    if (!released) {
      changed = true;
      continue;
    }
    const order = compareVersions(task.version, released.version);
    if (order < 0)
      problems.push(
        `${task.folder} is version ${task.version}, lower than ${released.version} released in v${last.extension}: agents never go back to a lower version. Set it above ${released.version}.`,
      );
    else if (order === 0 && task.bundle !== released.bundle)
      problems.push(
        `${task.folder} differs from its build released as ${task.name} ${released.version} in v${last.extension}, but its version is still ${task.version}: agents that ran ${released.version} keep their cached copy and never get this change. Run npm run version -- ${task.folder} patch (or minor).`,
      );
    if (order !== 0 || task.bundle !== released.bundle) changed = true;
  }
  for (const folder of Object.keys(last.tasks))
    if (!current.some((t) => t.folder === folder)) {
      changed = true;
      problems.push(
        `${folder} was released in v${last.extension} and is gone: pipelines that use it break. Keep the folder (a new major version goes beside it).`,
      );
    }
  if (changed && compareVersions(extension, last.extension) <= 0)
    problems.push(
      `The tasks changed since v${last.extension} was released, but ${MANIFEST_FILE} still says ${extension}: the Marketplace refuses a version it has. Run npm run version for the tasks that changed (it raises the extension's version too).`,
    );
  return problems;
}

/** The `### <version>` entries under `## <task name>` in CHANGELOG.md, with their lines. */
export function changelogEntries(changelog: string): Map<string, Map<string, string[]>> {
  const tasks = new Map<string, Map<string, string[]>>();
  let versions: Map<string, string[]> | undefined;
  let lines: string[] | undefined;
  for (const line of changelog.split(/\r?\n/)) {
    const task = /^##\s+(\S+)\s*$/.exec(line);
    const version = /^###\s+(\d+\.\d+\.\d+)\b/.exec(line);
    if (task?.[1]) {
      versions = new Map();
      tasks.set(task[1], versions);
      lines = undefined;
    } else if (version?.[1] && versions) {
      lines = [];
      versions.set(version[1], lines);
    } else if (lines && line.trim()) lines.push(line.trim());
  }
  return tasks;
}

/** What CHANGELOG.md lacks for the tasks' current versions: empty when each has its entry. */
export function changelogProblems(changelog: string, current: Array<Pick<TaskBuild, 'folder' | 'name' | 'version'>>): string[] {
  const entries = changelogEntries(changelog);
  return current.flatMap((task) => {
    const lines = entries.get(task.name)?.get(task.version);
    if (!lines)
      return [
        `${CHANGELOG_FILE} has no entry for ${task.name} ${task.version} (${task.folder}): add "### ${task.version}" and what changed under "## ${task.name}".`,
      ];
    if (!lines.length || lines.some((l) => l === PLACEHOLDER))
      return [
        `${CHANGELOG_FILE}: say what changed in ${task.name} ${task.version} (the entry is empty or still the placeholder).`,
      ];
    return [];
  });
}

/** Adds `### <version>` with `note` at the top of the task's section, newest first (the section is made if missing). */
export function withChangelogEntry(changelog: string, task: string, version: string, note?: string): string {
  const entry = [`### ${version}`, '', note ? `- ${note}` : PLACEHOLDER, ''];
  const lines = changelog.trimEnd().split('\n');
  const section = lines.findIndex((l) => l.trim() === `## ${task}`);
  if (section < 0) return [...lines, '', `## ${task}`, '', ...entry].join('\n');
  let next = section + 1;
  while (next < lines.length && !/^#{2,3}\s/.test(lines[next] ?? '')) next++;
  lines.splice(next, 0, ...entry);
  return `${lines.join('\n').trimEnd()}\n`;
}

interface Manifest {
  version: string;
  files?: Array<{ path?: string }>;
  contributions?: Array<{ id?: string; type?: string; description?: string; targets?: string[]; properties?: { name?: string } }>;
}

export interface Bump {
  folder: string;
  name: string;
  from: string;
  to: string;
  /** The folder made for a major version. */
  created?: string;
}

/** The folders `target` names: `all`, a task name (its latest major), or a task folder. */
async function targetFolders(root: string, target: string): Promise<string[]> {
  const folders = await taskFolders(root);
  if (target === 'all') {
    const latest = new Map<string, string>();
    for (const folder of folders) {
      const [, name = folder, major = '0'] = /^(.*)V(\d+)$/.exec(folder) ?? [];
      const previous = latest.get(name);
      if (!previous || Number(/V(\d+)$/.exec(previous)?.[1]) < Number(major)) latest.set(name, folder);
    }
    return [...latest.values()].sort();
  }
  if (folders.includes(target)) return [target];
  const majors = folders.filter((f) => f.replace(/V\d+$/, '') === target);
  const latest = majors.sort((a, b) => Number(/V(\d+)$/.exec(b)?.[1]) - Number(/V(\d+)$/.exec(a)?.[1]))[0];
  if (!latest) throw new Error(`No task "${target}": give all, a task name or a folder (${folders.join(', ')}).`);
  return [latest];
}

/** A major version: tasks/<Name>V<N+1> beside the old folder, with the same task id, shipped by the manifest. */
async function createMajor(root: string, folder: string, manifest: Manifest, major: number): Promise<string> {
  const name = folder.replace(/V\d+$/, '');
  const next = `${name}V${major}`;
  const to = path.join(root, 'tasks', next);
  if (await fs.stat(to).catch(() => undefined)) throw new Error(`tasks/${next} exists already.`);
  await fs.cp(path.join(root, 'tasks', folder), to, { recursive: true });
  const builtOld = `build/tasks/${folder}`;
  const builtNew = `build/tasks/${next}`;
  manifest.files = [...(manifest.files ?? [])];
  const at = manifest.files.findIndex((f) => f.path?.replace(/\/+$/, '') === builtOld);
  manifest.files.splice(at < 0 ? manifest.files.length : at + 1, 0, { path: builtNew });
  const old = (manifest.contributions ?? []).find((c) => c.type === TASK_CONTRIBUTION && c.properties?.name === builtOld);
  const contribution = {
    ...(old ?? { type: TASK_CONTRIBUTION, targets: ['ms.vss-distributed-task.tasks'] }),
    id: old?.id ? old.id.replace(/-task$/, `-v${major}-task`) : `${name.toLowerCase()}-v${major}-task`,
    properties: { ...(old?.properties ?? {}), name: builtNew },
  };
  const contributions = [...(manifest.contributions ?? [])];
  const oldAt = old ? contributions.indexOf(old) : contributions.length - 1;
  contributions.splice(oldAt + 1, 0, contribution);
  manifest.contributions = contributions;
  return next;
}

/**
 * `npm run version -- <task|all> <major|minor|patch> [note]`: raises the task versions (a major one
 * in a new folder beside the old), the extension's version (patch for patch, minor otherwise: a new
 * major task is an addition), and adds the CHANGELOG.md entries.
 */
export async function bumpVersions(
  root: string,
  target: string,
  level: Level,
  note?: string,
): Promise<{ bumps: Bump[]; extension: string }> {
  if (!LEVELS.includes(level)) throw new Error(`"${String(level)}" is no level: use major, minor or patch.`);
  const manifestFile = path.join(root, MANIFEST_FILE);
  const manifest = await readJson<Manifest>(manifestFile);
  let changelog = await fs.readFile(path.join(root, CHANGELOG_FILE), 'utf8');
  const bumps: Bump[] = [];
  for (const folder of await targetFolders(root, target)) {
    const taskFile = path.join(root, 'tasks', folder, 'task.json');
    const task = await readJson<{ name: string; version: TaskVersion }>(taskFile);
    const from = versionText(task.version);
    const to = bumped(from, level);
    const numbers = to.split('.').map(Number);
    const written = level === 'major' ? await createMajor(root, folder, manifest, numbers[0] ?? 0) : folder;
    await setTaskVersion(path.join(root, 'tasks', written, 'task.json'), numbers);
    changelog = withChangelogEntry(changelog, task.name, to, note);
    bumps.push({ folder: written, name: task.name, from, to, ...(level === 'major' ? { created: written } : {}) });
  }
  const extension = bumped(manifest.version, level === 'patch' ? 'patch' : 'minor');
  if (level === 'major') await writeJson(manifestFile, { ...manifest, version: extension });
  else {
    // Only the version moves: the rest of the manifest stays as it was written.
    const text = await fs.readFile(manifestFile, 'utf8');
    await fs.writeFile(manifestFile, text.replace(/("version"\s*:\s*")[^"]*(")/, `$1${extension}$2`));
  }
  await fs.writeFile(path.join(root, CHANGELOG_FILE), changelog);
  return { bumps, extension };
}
