// Releases, from the Platform API: which one is live, its status after the release phase, the
// commit it runs (slug, or OCI image on Fir), releasing an already-built commit again, rolling back.
import { sleep as realSleep, type Sleep } from '../base/async';
import { TaskError, errorMessage } from '../base/errors';
import { short } from '../base/format';
import type { TaskLog } from '../base/log';
import type { OciImage, Release, Slug } from './api';
import type { AppClient } from './client';

export interface ReleaseSnapshot {
  /** The newest release, whatever its status. */
  latest: Release | null;
  /** The release serving traffic. */
  current: Release | null;
  recent: Release[];
}

/** The newest `count` releases of the app; `doing` names the read in a failure's message. */
export async function releaseSnapshot(
  app: AppClient,
  options: { count?: number; doing?: string } = {},
): Promise<ReleaseSnapshot> {
  const range = `version ..; order=desc, max=${options.count ?? 10}`;
  const recent = await app.list<Release>(app.path('releases'), options.doing ?? `listing the releases of ${app.name}`, range);
  return { recent, latest: recent[0] ?? null, current: recent.find((r) => r.current) ?? null };
}

/** Whether `release` says it deploys `sha` (a git push's release is described `Deploy <sha7>`): a hint, never proof. */
export function deploysCommit(release: Release, sha: string): boolean {
  // Stryker disable next-line StringLiteral: any fallback without 7 hex digits in a row (no sha prefix) answers false, as ''
  return (release.description ?? '').includes(sha.slice(0, 7));
}

/** One release, by id or version. */
export function readRelease(app: AppClient, idOrVersion: string | number, doing: string): Promise<Release> {
  return app.get<Release>(app.path('releases', String(idOrVersion)), doing);
}

export function artifactOf(release: Release): { type: 'slug' | 'oci-image'; id: string } | null {
  if (release.slug?.id) return { type: 'slug', id: release.slug.id };
  const image = release.artifacts?.find((a) => a.type === 'oci-image' && a.id);
  return image?.id ? { type: 'oci-image', id: image.id } : null;
}

/** The commit a release runs: its slug's, or on Fir its OCI image's. Null for a release without code. */
export async function releaseCommit(app: AppClient, release: Release): Promise<string | null> {
  const artifact = artifactOf(release);
  if (!artifact) return null;
  const doing = `reading the code of v${release.version} of ${app.name}`;
  if (artifact.type === 'slug') return (await app.get<Slug>(app.path('slugs', artifact.id), doing)).commit ?? null;
  const images = await app.list<OciImage>(app.path('oci-images', artifact.id), doing);
  return images[0]?.commit ?? null;
}

export interface SettleOptions {
  log: TaskLog;
  signal?: AbortSignal;
  /** How long a release phase may run. */
  timeoutMs?: number;
  pollMs?: number;
  sleep?: Sleep;
}

/** Prints a release phase's output (Heroku's output_stream_url) in a group; never fails the task. */
export async function showReleaseOutput(
  app: AppClient,
  release: Release,
  options: Pick<SettleOptions, 'log' | 'signal'>,
  title = `Release phase of v${release.version}`,
): Promise<void> {
  const url = release.output_stream_url;
  if (!url) return;
  const { log } = options;
  await log
    .group(title, () => app.followOutput(url, (line) => log.info(line), options.signal))
    .catch((error: unknown) => log.debug(`could not read the release phase output: ${errorMessage(error)}`));
}

/** Waits while the release phase runs (status `pending`), following its output. */
export async function settleRelease(app: AppClient, release: Release, options: SettleOptions): Promise<Release> {
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const pollMs = options.pollMs ?? 2000;
  const sleep = options.sleep ?? realSleep;
  const deadline = Date.now() + timeoutMs;
  let current = release;
  let announced = false;
  if (current.status === 'pending') await showReleaseOutput(app, current, options);
  while (current.status === 'pending') {
    if (options.signal?.aborted)
      throw new TaskError('cancelled', `The task was cancelled while v${current.version} was in its release phase.`);
    if (Date.now() > deadline) {
      throw new TaskError(
        'release-phase',
        `The release phase of v${current.version} was still running after ${Math.round(timeoutMs / 60_000)} minutes. Check it with \`heroku releases:output ${current.version} -a ${app.name}\`; the previous release stays live until it ends.`,
      );
    }
    if (!announced) options.log.info(`Waiting for the release phase of v${current.version}...`);
    announced = true;
    await sleep(pollMs, options.signal);
    current = await readRelease(app, String(current.id), `waiting for v${current.version} of ${app.name}`);
  }
  return current;
}

/**
 * Releases `sha` again from the slug Heroku already built for it, as `heroku releases:retry` does:
 * for when Heroku's main has the commit but the live release runs another.
 */
export async function releaseAgain(app: AppClient, sha: string, recent: Release[]): Promise<Release> {
  const candidates = recent.filter((r) => artifactOf(r));
  // Releases of a git push are described `Deploy <sha>`: look at those first.
  candidates.sort((a, b) => Number(!deploysCommit(a, sha)) - Number(!deploysCommit(b, sha)));
  for (const release of candidates) {
    if ((await releaseCommit(app, release)) !== sha) continue;
    const artifact = artifactOf(release);
    if (artifact?.type !== 'slug') {
      throw new TaskError(
        'verification',
        `Heroku already has ${short(sha)} (v${release.version}) but runs another release, and releasing an OCI image again is not possible through the API. Push a new commit, or roll back with \`heroku releases:rollback v${release.version} -a ${app.name}\` (which also restores that release's config vars).`,
      );
    }
    const body = { slug: artifact.id, description: `Deploy ${short(sha)} (released again from v${release.version})` };
    return app.post<Release>(app.path('releases'), body, `releasing ${short(sha)} again`);
  }
  throw new TaskError(
    'verification',
    `Heroku's main branch of ${app.name} is already at ${short(sha)}, but the live release runs another commit and none of the last ${recent.length} releases ran ${short(sha)}. Push a new commit (e.g. an empty one), or set \`force: true\` after pushing another commit, to build it again.`,
  );
}

/**
 * Rolls back to `target` (a new release with its slug and its config vars, as `heroku rollback`
 * does) and waits until that release is live.
 */
export async function rollBack(app: AppClient, target: Release, options: SettleOptions): Promise<Release> {
  const created = await app.post<Release>(app.path('releases'), { release: target.id }, `rolling back to v${target.version}`);
  const settled = await settleRelease(app, created, options);
  if (settled.status !== 'succeeded')
    throw new TaskError('rollback', `the rollback release v${settled.version} ended ${settled.status ?? 'in an unknown state'}`);
  return settled;
}
