// `npm run package`: builds the tasks, checks that vss-extension.json ships every built task, and
// makes dist/<publisher>.<id>-<version>.vsix with tfx (no prompts, no network).
// `npm run package -- --flavor dev [--publisher <id>]`: the private test flavour (scripts/flavor.ts)
// in dist/dev/, beside the public one.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { main as buildTasks } from './build';
import { flavorManifest, flavorTaskJson, parseFlavorArgs, type Flavor } from './flavor';
import { runTool } from './run-tool';

export const ROOT = path.resolve(__dirname, '..');
export const DIST = path.join(ROOT, 'dist');
const MANIFEST = 'vss-extension.json';
const BUILD_TASKS = 'build/tasks';
const TASK_CONTRIBUTION = 'ms.vss-distributed-task.task';

interface FileEntry {
  path?: string;
  packagePath?: string;
}

interface Contribution {
  id?: string;
  type?: string;
  properties?: { name?: string };
}

export interface ExtensionManifest {
  publisher?: string;
  id?: string;
  version?: string;
  files?: FileEntry[];
  contributions?: Contribution[];
}

const slashes = (p: string): string => p.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '');

/**
 * Where a built task folder (`build/tasks/<folder>`) lands in the .vsix, per the manifest's
 * `files`: the entry holding that folder (itself or a parent), moved to its packagePath if any.
 */
export function packagedPath(manifest: ExtensionManifest, folder: string): string | undefined {
  const onDisk = `${BUILD_TASKS}/${folder}`;
  for (const entry of manifest.files ?? []) {
    if (!entry.path) continue;
    const from = slashes(entry.path);
    if (onDisk !== from && !onDisk.startsWith(`${from}/`)) continue;
    return slashes(entry.packagePath ?? from) + onDisk.slice(from.length);
  }
  return undefined;
}

/** What keeps the manifest from shipping exactly the built tasks: empty when all is well. */
export function manifestProblems(manifest: ExtensionManifest, builtFolders: string[]): string[] {
  const problems: string[] = [];
  const taskContributions = (manifest.contributions ?? []).filter((c) => c.type === TASK_CONTRIBUTION);
  const shipped = new Set<string>();
  for (const folder of builtFolders) {
    const where = packagedPath(manifest, folder);
    if (!where) {
      problems.push(
        `${BUILD_TASKS}/${folder} is built but not in ${MANIFEST}'s "files": add { "path": "${BUILD_TASKS}/${folder}" }.`,
      );
      continue;
    }
    shipped.add(where);
    if (!taskContributions.some((c) => slashes(c.properties?.name ?? '') === where)) {
      problems.push(
        `${BUILD_TASKS}/${folder} ships as ${where}/ but no "${TASK_CONTRIBUTION}" contribution in ${MANIFEST} has properties.name "${where}": add one, or Azure DevOps never sees the task.`,
      );
    }
  }
  for (const contribution of taskContributions) {
    const name = slashes(contribution.properties?.name ?? '');
    if (!shipped.has(name)) {
      problems.push(
        `The task contribution "${contribution.id ?? '(no id)'}" in ${MANIFEST} names "${name}", which is no built task folder (built: ${builtFolders.join(', ') || 'none'}).`,
      );
    }
  }
  return problems;
}

export async function builtTaskFolders(): Promise<string[]> {
  const entries = await fs.readdir(path.join(ROOT, BUILD_TASKS), { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

// eslint-disable-next-line no-control-regex
const plain = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, '');

/** `tfx extension create` may take this long (it takes a few seconds). */
const TFX_DEADLINE_MS = 5 * 60_000;

/** Runs `tfx extension create` offline and without prompts on the package root `root`; returns the .vsix path. */
export async function createVsix(root = ROOT, outputDir = DIST): Promise<string> {
  await fs.mkdir(outputDir, { recursive: true });
  for (const old of await fs.readdir(outputDir)) if (old.endsWith('.vsix')) await fs.rm(path.join(outputDir, old));
  const tfx = require.resolve('tfx-cli/_build/tfx-cli.js', { paths: [ROOT] });
  const args = [
    'extension',
    'create',
    '--root',
    root,
    '--manifest-globs',
    MANIFEST,
    '--output-path',
    `${path.relative(ROOT, outputDir) || '.'}/`,
    '--no-prompt',
    '--no-color',
    '--json',
  ];
  const result = await runTool(process.execPath, [tfx, ...args], {
    cwd: ROOT,
    env: { ...process.env, TFX_BYPASS_CACHE: '1', NO_COLOR: '1' },
    deadlineMs: TFX_DEADLINE_MS,
  });
  const output = plain(`${result.stderr}\n${result.stdout}`);
  // tfx validates each task contribution's task.json (here: the built one) and only warns about
  // what it finds ("In the future, this warning will be treated as an error"): treat it as one now.
  const warnings = output.split('\n').filter((line) => /^\s*warning:/i.test(line));
  if (result.code !== 0 || warnings.length) {
    // No .vsix from a failed run is left for someone to publish.
    for (const made of await fs.readdir(outputDir)) if (made.endsWith('.vsix')) await fs.rm(path.join(outputDir, made));
    throw new Error(`tfx extension create ${result.code !== 0 ? `exited ${result.code}` : 'warned'}:\n${output.trim()}`);
  }
  const json = /\{[\s\S]*\}/.exec(result.stdout)?.[0];
  const vsix = json ? (JSON.parse(json) as { path?: string }).path : undefined;
  if (!vsix) throw new Error(`tfx extension create printed no .vsix path:\n${output.trim()}`);
  return path.resolve(ROOT, vsix);
}

/**
 * The flavour as a package root of its own, build/flavors/<name>/: the same layout as the
 * repository's (so every path of the manifest holds), each built task copied with the flavour's
 * task.json, the other files the manifest names copied as they are, and the flavour's manifest.
 */
async function writeFlavor(manifest: ExtensionManifest, built: string[], flavor: Flavor): Promise<string> {
  const base = path.join(ROOT, 'build', 'flavors', flavor.name);
  await fs.rm(base, { recursive: true, force: true });
  for (const folder of built) {
    const to = path.join(base, BUILD_TASKS, folder);
    await fs.cp(path.join(ROOT, BUILD_TASKS, folder), to, { recursive: true });
    const taskJson = JSON.parse(await fs.readFile(path.join(to, 'task.json'), 'utf8')) as Record<string, unknown>;
    await fs.writeFile(path.join(to, 'task.json'), `${JSON.stringify(flavorTaskJson(taskJson, flavor), null, 2)}\n`);
  }
  const raw = manifest as {
    files?: Array<{ path?: string }>;
    icons?: Record<string, string>;
    content?: Record<string, { path?: string }>;
  };
  const others = [
    ...(raw.files ?? []).map((f) => f.path),
    ...Object.values(raw.icons ?? {}),
    ...Object.values(raw.content ?? {}).map((c) => c.path),
  ].filter((p): p is string => !!p && !slashes(p).startsWith(`${BUILD_TASKS}/`));
  for (const file of others) await fs.cp(path.join(ROOT, file), path.join(base, file), { recursive: true });
  await fs.writeFile(
    path.join(base, MANIFEST),
    `${JSON.stringify(flavorManifest(manifest as Record<string, unknown>, flavor), null, 2)}\n`,
  );
  return base;
}

export async function packageExtension(flavor?: Flavor): Promise<{ vsix: string; bytes: number }> {
  await buildTasks();
  const manifest = JSON.parse(await fs.readFile(path.join(ROOT, MANIFEST), 'utf8')) as ExtensionManifest;
  const built = await builtTaskFolders();
  if (!built.length) throw new Error(`npm run build made no task folder under ${BUILD_TASKS}/.`);
  const problems = manifestProblems(manifest, built);
  if (problems.length) throw new Error(`${MANIFEST} does not ship the built tasks:\n- ${problems.join('\n- ')}`);
  const vsix = flavor
    ? await createVsix(await writeFlavor(manifest, built, flavor), path.join(DIST, flavor.name))
    : await createVsix();
  const { size } = await fs.stat(vsix);
  return { vsix, bytes: size };
}

if (require.main === module) {
  Promise.resolve()
    .then(() => packageExtension(parseFlavorArgs(process.argv.slice(2))))
    .then(({ vsix, bytes }) =>
      console.log(`packaged ${path.relative(process.cwd(), vsix) || vsix} (${(bytes / 1024).toFixed(1)} KB, ${bytes} bytes)`),
    )
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
