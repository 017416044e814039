// The commits a promotion brings to an app (what `heroku pipelines:diff` lists), read from the
// checkout's history when it has both commits. A deployment job often has no checkout at all: then
// the diff is the two commits alone, and the reason is said.
import { existsSync } from 'node:fs';
import { TaskError, errorMessage } from '../base/errors';
import { gitOrFail, hasCommit, runGit } from './git';
import { short } from '../base/format';

export interface CommitLine {
  sha: string;
  /** Author date, YYYY-MM-DD. */
  date: string;
  subject: string;
  author: string;
}

export interface CommitRange {
  /** The newest commits first, at most LISTED. */
  commits: CommitLine[];
  total: number;
}

export type CommitDiff =
  /** `added`: in the new commit, not in the old; `removed`: in the old, not in the new (going back). */
  { kind: 'listed'; added: CommitRange; removed: CommitRange } | { kind: 'unavailable'; reason: string };

/** Commits listed per range; the rest are counted. */
export const LISTED = 50;

const FIELD = '\x1f';
const RECORD = '\x1e';

async function range(cwd: string, spec: string, signal?: AbortSignal): Promise<CommitRange> {
  const [count, log] = await Promise.all([
    gitOrFail(['rev-list', '--count', spec], { cwd, signal }, 'Counting the commits to promote'),
    gitOrFail(
      ['log', `--max-count=${LISTED}`, '--date=short', `--format=%H${FIELD}%ad${FIELD}%s${FIELD}%an${RECORD}`, spec],
      { cwd, signal },
      'Listing the commits to promote',
    ),
  ]);
  const commits = log
    .split(RECORD)
    .map((record) => record.trim())
    .filter(Boolean)
    .map((record) => {
      // Stryker disable next-line StringLiteral: the format prints all four fields of every record; the defaults only satisfy the type checker
      const [sha = '', date = '', subject = '', author = ''] = record.split(FIELD);
      return { sha, date, subject, author };
    });
  return { commits, total: Number.parseInt(count, 10) || commits.length };
}

/** The commits between `from` (what the app runs) and `to` (what it is about to run), from the checkout at `cwd`. */
export async function commitsBetween(cwd: string, from: string, to: string, signal?: AbortSignal): Promise<CommitDiff> {
  if (!existsSync(cwd))
    return {
      kind: 'unavailable',
      reason: `${cwd} does not exist (a deployment job checks out nothing unless it has a \`checkout: self\` step)`,
    };
  try {
    const inside = await runGit(['rev-parse', '--is-inside-work-tree'], { cwd, signal });
    // rev-parse prints true only inside a work tree (false in a .git folder, nothing when it fails).
    if (inside.stdout.trim() !== 'true')
      return {
        kind: 'unavailable',
        reason: `${cwd} is not a git checkout (a deployment job checks out nothing unless it has a \`checkout: self\` step)`,
      };
    const missing: string[] = [];
    for (const sha of [from, to]) if (!(await hasCommit(cwd, sha, signal))) missing.push(short(sha));
    if (missing.length) {
      return {
        kind: 'unavailable',
        reason: `the checkout at ${cwd} does not have ${missing.join(' and ')} (a shallow checkout has only recent history: \`fetchDepth: 0\` on the checkout step lists the commits)`,
      };
    }
    const [added, removed] = await Promise.all([range(cwd, `${from}..${to}`, signal), range(cwd, `${to}..${from}`, signal)]);
    return { kind: 'listed', added, removed };
  } catch (error) {
    if (error instanceof TaskError && error.kind === 'cancelled') throw error;
    return { kind: 'unavailable', reason: `git could not list them: ${errorMessage(error)}` };
  }
}

/** `3cced9be  2024-05-01  Fix the login redirect  (Jane Doe)` */
export function formatCommit(commit: CommitLine): string {
  return `${short(commit.sha)}  ${commit.date}  ${commit.subject}  (${commit.author})`;
}
