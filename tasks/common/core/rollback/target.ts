// Which release a rollback goes to, and whether it may: the toVersion input (`v60`, `60`, or empty
// for the release `heroku rollback` picks), and the refusals made before anything changes — a
// release that does not exist, is the live one, never went live, or has no code to roll back to.
import { TaskError } from '../base/errors';
import { requireDefined } from '../base/inputs';
import type { Release } from '../heroku/api';
import { artifactOf } from '../heroku/releases';

/** The toVersion input: `v60`, `V60` or `60` -> 60; empty -> null (one release back). */
export function parseToVersion(value: string): number | null {
  const text = value.trim();
  if (!text) return null;
  requireDefined('toVersion', text);
  const match = /^v?(\d{1,9})$/i.exec(text);
  const version = match ? Number(match[1]) : NaN;
  if (!(version >= 1)) {
    throw new TaskError(
      'input',
      `The input toVersion is "${text}", which is not a release version: give one as \`heroku releases\` lists it (v60, or 60), or leave it empty to roll back one release, as \`heroku rollback\` does.`,
    );
  }
  return version;
}

/**
 * The release `heroku rollback` goes to when none is named: of the app's 10 newest releases, the
 * second newest that Heroku marks `eligible_for_rollback` (heroku/cli, src/lib/releases/releases.ts,
 * `findByPreviousOrId`: `releases.filter(r => r.eligible_for_rollback)[1]` over `Range: version ..;
 * max=10, order=desc`). `recent` is that list, newest first. Null when there is no such release.
 */
export function oneReleaseBack(recent: Release[]): Release | null {
  return recent.filter((r) => r.eligible_for_rollback)[1] ?? null;
}

/** `v60 ("Deploy 3cced9be")`, for messages. */
export function describeRelease(release: Release): string {
  return `v${release.version}${release.description ? ` ("${release.description}")` : ''}`;
}

/** Why the app cannot be rolled back to `target` (with what to do instead), or null when it can. */
export function refusal(app: string, target: Release, live: Release | null): TaskError | null {
  const named = describeRelease(target);
  const pick = `\`heroku releases -a ${app}\` lists the releases: give toVersion one that went live with code`;
  const refuse = (why: string): TaskError => new TaskError('input', `Not rolling back ${app}: ${named} ${why} ${pick}.`);
  if (live && target.id === live.id) return refuse('is the live release, so there is nothing to roll back to.');
  if (target.status === 'failed')
    return refuse(
      'is a failed release: its release phase failed, so it never went live, and rolling back to it would run that release command again.',
    );
  if (target.status === 'pending')
    return refuse(
      `is still in its release phase, not live yet (\`heroku releases:output ${target.version} -a ${app}\` shows it).`,
    );
  if (!artifactOf(target))
    return refuse(
      'is a config-only release: it has no slug or image (it changed config vars or add-ons before any code was deployed), so there is no code to roll back to.',
    );
  if (target.eligible_for_rollback === false)
    return refuse('is not eligible for rollback, Heroku says (its slug may have expired).');
  return null;
}

/** Whether `commit` is `expected` (a full SHA, or at least 7 hex digits of one, lowercase). */
export function runsCommit(commit: string | null, expected: string): boolean {
  return commit?.toLowerCase().startsWith(expected) ?? false;
}
