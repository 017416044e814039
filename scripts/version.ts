// `npm run version -- <task|all> <major|minor|patch> [note]`: raises what changed (scripts/versions.ts):
// the task's version in its task.json (a major version in a new tasks/<Name>V<N+1> folder beside the
// old one), the extension's version in vss-extension.json, and an entry in CHANGELOG.md.
import path from 'node:path';
import { bumpVersions, LEVELS, type Level } from './versions';

const ROOT = path.resolve(__dirname, '..');
const USAGE =
  'npm run version -- <task|all> <major|minor|patch> ["what changed"], e.g. npm run version -- HerokuDeploy patch "Retries a dropped push"';

async function main(argv: string[]): Promise<void> {
  const [target, level, note, ...rest] = argv;
  if (!target || !level || rest.length || !LEVELS.includes(level as Level)) throw new Error(`Usage: ${USAGE}`);
  const { bumps, extension } = await bumpVersions(ROOT, target, level as Level, note);
  for (const bump of bumps)
    console.log(
      bump.created
        ? `${bump.name} ${bump.to}: new folder tasks/${bump.created} beside the old one (the same task id; YAML that pins @${bump.from.split('.')[0]} keeps the old one)`
        : `${bump.name} ${bump.from} -> ${bump.to} (tasks/${bump.folder}/task.json)`,
    );
  console.log(`extension ${extension} (vss-extension.json)`);
  console.log(
    note ? 'CHANGELOG.md: entry added.' : 'CHANGELOG.md: say what changed in the new entry (npm test refuses the placeholder).',
  );
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
