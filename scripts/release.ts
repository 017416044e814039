// `npm run release -- record`: on the commit to be tagged, builds the tasks and records this release
// in releases.json (the extension's version, and each task folder's version and bundle hash): the
// "last tagged build" that npm test compares every later build with, on any clone, tags or not.
// `npm run release -- check --tag v1.2.0` (the pipeline's publish stage): the tag names the
// extension's version, and the build is the one recorded for it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { main as buildTasks } from './build';
import {
  builtTasks,
  CHANGELOG_FILE,
  changelogProblems,
  extensionVersion,
  readReleases,
  releaseProblems,
  RELEASES_FILE,
  type Release,
} from './versions';

const ROOT = path.resolve(__dirname, '..');

async function record(): Promise<string> {
  await buildTasks();
  const [tasks, extension, releases] = await Promise.all([builtTasks(ROOT), extensionVersion(ROOT), readReleases(ROOT)]);
  const problems = [
    ...changelogProblems(await fs.readFile(path.join(ROOT, CHANGELOG_FILE), 'utf8'), tasks),
    ...releaseProblems(tasks, extension, releases.at(-1)),
  ];
  if (releases.some((r) => r.extension === extension))
    problems.push(`v${extension} is recorded already: raise the versions first (npm run version).`);
  if (problems.length) throw new Error(`Nothing recorded:\n- ${problems.join('\n- ')}`);
  const release: Release = {
    extension,
    tasks: Object.fromEntries(tasks.map((t) => [t.folder, { name: t.name, version: t.version, bundle: t.bundle }])),
  };
  const file = path.join(ROOT, RELEASES_FILE);
  const json = JSON.parse(await fs.readFile(file, 'utf8')) as { releases: Release[] };
  await fs.writeFile(file, `${JSON.stringify({ ...json, releases: [...json.releases, release] }, null, 2)}\n`);
  return `Recorded v${extension} in ${RELEASES_FILE}. Now: git commit -am "Release v${extension}" && git tag v${extension} && git push --follow-tags`;
}

async function check(tag: string | undefined): Promise<string> {
  await buildTasks();
  const [tasks, extension, releases] = await Promise.all([builtTasks(ROOT), extensionVersion(ROOT), readReleases(ROOT)]);
  if (tag !== `v${extension}`)
    throw new Error(`The tag ${tag ?? '(none)'} does not name vss-extension.json's version ${extension}: tag v${extension}.`);
  const recorded = releases.find((r) => r.extension === extension);
  if (!recorded) throw new Error(`v${extension} is not in ${RELEASES_FILE}: run npm run release -- record on the commit to tag.`);
  const differ = tasks.filter(
    (t) => recorded.tasks[t.folder]?.bundle !== t.bundle || recorded.tasks[t.folder]?.version !== t.version,
  );
  if (differ.length || tasks.length !== Object.keys(recorded.tasks).length)
    throw new Error(
      `The build differs from v${extension} as recorded in ${RELEASES_FILE} (${differ.map((t) => t.folder).join(', ') || 'task folders added or removed'}): record the release again on this commit.`,
    );
  return `v${extension}: the build is the one recorded (${tasks.map((t) => `${t.name} ${t.version}`).join(', ')}).`;
}

async function main(argv: string[]): Promise<string> {
  const [command, ...rest] = argv;
  if (command === 'record' && !rest.length) return record();
  if (command === 'check' && rest[0] === '--tag' && rest.length === 2) return check(rest[1]);
  throw new Error('Usage: npm run release -- record | npm run release -- check --tag v<version>');
}

main(process.argv.slice(2))
  .then((message) => console.log(message))
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
