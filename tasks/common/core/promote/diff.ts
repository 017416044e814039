// What `heroku pipelines:diff` shows for one target, in the log: the commits the promotion brings
// (or takes out), read from the checkout when it has both commits.
import { plural, short } from '../base/format';
import type { TaskLog } from '../base/log';
import { commitsBetween, formatCommit, type CommitDiff, type CommitRange } from '../git/commit-diff';
import type { Release } from '../heroku/api';
import { artifactOf } from '../heroku/releases';
import type { Target } from './types';

export interface DiffContext {
  source: string;
  sourceRelease: Release;
  /** The commit promoted, or null when Heroku records none. */
  commit: string | null;
  workingDirectory: string;
  log: TaskLog;
  signal?: AbortSignal;
}

/** Logs what the promotion changes on `target`; the listed commits, or null when there is nothing to list. */
export async function diffTarget(target: Target, context: DiffContext): Promise<CommitDiff | null> {
  const { log, source, commit, sourceRelease } = context;
  const before = target.before;
  const hasCode = target.current !== null && artifactOf(target.current) !== null;
  const runs = !before
    ? 'no release'
    : `v${before.version}, ${hasCode ? `commit ${before.commit ? short(before.commit) : '(none recorded)'}` : 'no code yet'}`;
  log.info(
    `${target.name}${target.stage ? ` (${target.stage})` : ''} runs ${runs}; ${source} runs v${sourceRelease.version}, commit ${commit ? short(commit) : '(none recorded)'}.`,
  );
  if (commit && before?.commit === commit) {
    log.info(`${target.name} is already at ${short(commit)}, the same commit: it is left out of the promotion (no new release).`);
    return null;
  }
  if (!before || !hasCode) {
    log.info(`${target.name} has never run code: the promotion gives it its first release of code.`);
    return null;
  }
  if (!commit || !before.commit) {
    log.info('Heroku records no commit for one of the two slugs: the commits in between cannot be listed.');
    return null;
  }
  const diff = await commitsBetween(context.workingDirectory, before.commit, commit, context.signal);
  if (diff.kind === 'unavailable') {
    log.info(`The commits in between are not listed: ${diff.reason}. Promoting ${short(before.commit)} -> ${short(commit)}.`);
    return diff;
  }
  const list = (range: CommitRange): void => {
    for (const c of range.commits) log.info(`  ${formatCommit(c)}`);
    if (range.total > range.commits.length) log.info(`  ... and ${range.total - range.commits.length} more`);
  };
  if (diff.added.total) {
    log.info(`${plural(diff.added.total, 'commit')} to promote to ${target.name} (${short(before.commit)}..${short(commit)}):`);
    list(diff.added);
  }
  if (diff.removed.total) {
    log.warn(
      `${target.name} runs ${plural(diff.removed.total, 'commit')} that ${source}'s ${short(commit)} does not have: the promotion takes ${diff.removed.total === 1 ? 'it' : 'them'} out of ${target.name}.`,
    );
    list(diff.removed);
  }
  return diff;
}

/** The diff step's line in the summary: `3cced9be -> 5478677a: 3 commits to promote`. */
export function describeDiff(target: Target, commit: string | null, diff: CommitDiff | null): string {
  if (commit && target.before?.commit === commit) return `already at ${short(commit)}`;
  const from = target.before?.commit ? short(target.before.commit) : 'no code';
  const to = commit ? short(commit) : '?';
  if (diff?.kind !== 'listed') return `${from} -> ${to}`;
  return `${from} -> ${to}: ${plural(diff.added.total, 'commit')} to promote${diff.removed.total ? `, ${diff.removed.total} taken out` : ''}`;
}
