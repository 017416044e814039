// Releases, from the Platform API: which one a push made, its status after the release phase, the
// commit it runs (slug, or OCI image on Fir), and releasing an already-built commit again.
import { DeployError } from './errors';
import type { HerokuApi, OciImage, Release, Slug } from './heroku-api';
import type { DeployLog } from './log';

export interface ReleaseSnapshot {
  /** The newest release, whatever its status. */
  latest: Release | null;
  /** The release serving traffic. */
  current: Release | null;
  recent: Release[];
}

const enc = encodeURIComponent;

export async function releaseSnapshot(api: HerokuApi, app: string, count = 10): Promise<ReleaseSnapshot> {
  const recent = await api.get<Release[]>(`/apps/${enc(app)}/releases`, `version ..; order=desc, max=${count}`);
  return { recent, latest: recent[0] ?? null, current: recent.find((r) => r.current) ?? null };
}

export function artifactOf(release: Release): { type: 'slug' | 'oci-image'; id: string } | null {
  if (release.slug?.id) return { type: 'slug', id: release.slug.id };
  const image = release.artifacts?.find((a) => a.type === 'oci-image' && a.id);
  return image?.id ? { type: 'oci-image', id: image.id } : null;
}

/** The commit a release runs: its slug's, or on Fir its OCI image's. Null for a release without code. */
export async function releaseCommit(api: HerokuApi, app: string, release: Release): Promise<string | null> {
  const artifact = artifactOf(release);
  if (!artifact) return null;
  if (artifact.type === 'slug') return (await api.get<Slug>(`/apps/${enc(app)}/slugs/${enc(artifact.id)}`)).commit ?? null;
  const images = await api.get<OciImage[]>(`/apps/${enc(app)}/oci-images/${enc(artifact.id)}`);
  return images[0]?.commit ?? null;
}

export interface SettleOptions {
  log: DeployLog;
  signal?: AbortSignal;
  /** How long a release phase may run. */
  timeoutMs?: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Waits while the release phase runs (status `pending`). */
export async function settleRelease(api: HerokuApi, app: string, release: Release, options: SettleOptions): Promise<Release> {
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const pollMs = options.pollMs ?? 2000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + timeoutMs;
  let current = release;
  let announced = false;
  if (current.status === 'pending' && current.output_stream_url) {
    const url = current.output_stream_url;
    await options.log
      .group(`Release phase of v${current.version}`, () => api.followOutput(url, (line) => options.log.info(line), options.signal))
      .catch((error: unknown) => options.log.debug(`could not follow the release phase output: ${error instanceof Error ? error.message : String(error)}`));
  }
  while (current.status === 'pending') {
    if (options.signal?.aborted) throw new DeployError('cancelled', `The task was cancelled while v${current.version} was in its release phase.`);
    if (Date.now() > deadline) {
      throw new DeployError('release-phase', `The release phase of v${current.version} was still running after ${Math.round(timeoutMs / 60_000)} minutes. Check it with \`heroku releases:output ${current.version} -a ${app}\`; the previous release stays live until it ends.`);
    }
    if (!announced) options.log.info(`Waiting for the release phase of v${current.version}...`);
    announced = true;
    await sleep(pollMs);
    current = await api.get<Release>(`/apps/${enc(app)}/releases/${enc(String(current.id))}`);
  }
  return current;
}

/**
 * Releases `sha` again from the slug Heroku already built for it, as `heroku releases:retry` does:
 * for when Heroku's main has the commit but the live release runs another.
 */
export async function releaseAgain(api: HerokuApi, app: string, sha: string, recent: Release[]): Promise<Release> {
  const candidates = recent.filter((r) => artifactOf(r));
  // Releases of a git push are described `Deploy <sha>`: look at those first.
  candidates.sort((a, b) => Number(!(a.description ?? '').includes(sha.slice(0, 7))) - Number(!(b.description ?? '').includes(sha.slice(0, 7))));
  for (const release of candidates) {
    if ((await releaseCommit(api, app, release)) !== sha) continue;
    const artifact = artifactOf(release);
    if (artifact?.type !== 'slug') {
      throw new DeployError(
        'verification',
        `Heroku already has ${sha.slice(0, 8)} (v${release.version}) but runs another release, and releasing an OCI image again is not possible through the API. Push a new commit, or roll back with \`heroku releases:rollback v${release.version} -a ${app}\` (which also restores that release's config vars).`,
      );
    }
    return api.post<Release>(`/apps/${enc(app)}/releases`, { slug: artifact.id, description: `Deploy ${sha.slice(0, 8)} (released again from v${release.version})` });
  }
  throw new DeployError(
    'verification',
    `Heroku's main branch of ${app} is already at ${sha.slice(0, 8)}, but the live release runs another commit and none of the last ${recent.length} releases ran ${sha.slice(0, 8)}. Push a new commit (e.g. an empty one), or set \`force: true\` after pushing another commit, to build it again.`,
  );
}

/**
 * Rolls back to `target` (a new release with its slug and its config vars, as `heroku rollback`
 * does) and waits until that release is live.
 */
export async function rollBack(api: HerokuApi, app: string, target: Release, options: SettleOptions): Promise<Release> {
  const created = await api.post<Release>(`/apps/${enc(app)}/releases`, { release: target.id });
  const settled = await settleRelease(api, app, created, options);
  if (settled.status !== 'succeeded') throw new DeployError('rollback', `the rollback release v${settled.version} ended ${settled.status ?? 'in an unknown state'}`);
  return settled;
}
