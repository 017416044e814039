// Creating a pipeline promotion and following it to completed: each target's new release is read as
// it appears and its release phase followed, so that every target's fate is known when it ends.
import type * as Heroku from '@heroku-cli/schema';
import { sleep as realSleep, type Sleep } from '../base/async';
import { TaskError } from '../base/errors';
import type { TaskLog } from '../base/log';
import type { App, Release } from '../heroku/api';
import type { HerokuClient } from '../heroku/client';
import { readRelease, settleRelease, showReleaseOutput } from '../heroku/releases';
import type { Target } from './types';

export type PipelinePromotion = Heroku.PipelinePromotion;
export type PromotionTarget = Heroku.PipelinePromotionTarget;

export interface FollowedPromotion {
  promotion: PipelinePromotion;
  /** The targets as Heroku reports them once the promotion is completed. */
  targets: PromotionTarget[];
  /** Each target's new release after its release phase, by app id. */
  releases: Map<string, Release>;
}

export interface Follow {
  client: HerokuClient;
  log: TaskLog;
  signal?: AbortSignal;
  /** Time between reads of the running promotion. */
  pollMs?: number;
  /** How long the promotion may run. */
  timeoutMs?: number;
  sleep?: Sleep;
  /** The clock the timeout is measured on. */
  now?: () => number;
}

const PROMOTION_TIMEOUT_MS = 30 * 60_000;
const enc = encodeURIComponent;

/** Creates the promotion of `sourceRelease` to `targets` and follows it until it is completed. */
export async function promoteAndFollow(
  pipelineId: string,
  source: { app: App; release: Release },
  targets: Target[],
  follow: Follow,
): Promise<FollowedPromotion> {
  const names = targets.map((t) => t.name).join(', ');
  // Not idempotent: never repeated (the client retries a POST only when Heroku certainly did not act on it).
  const body = {
    pipeline: { id: pipelineId },
    source: { app: { id: source.app.id }, release: { id: source.release.id } },
    targets: targets.map((t) => ({ app: { id: t.id } })),
  };
  const promotion = await follow.client.post<PipelinePromotion>(
    '/pipeline-promotions',
    body,
    `creating the promotion to ${names}`,
  );
  follow.log.info(
    `Promotion ${promotion.id} created: Heroku copies the slug of ${source.app.name} v${source.release.version} to ${names}.`,
  );
  try {
    return { promotion, ...(await followPromotion(String(promotion.id), targets, follow)) };
  } catch (error) {
    // However the cancel reached it (a read, a release phase, the wait), name the promotion.
    if (error instanceof TaskError && error.kind === 'cancelled') throw cancelledDuring(String(promotion.id));
    throw error;
  }
}

function cancelledDuring(id: string): TaskError {
  return new TaskError(
    'cancelled',
    `The task was cancelled while the promotion ${id} was running: Heroku carries it on. Check each target with \`heroku releases -a <app>\`.`,
  );
}

/** Reads the promotion until it is completed, following each target's release phase as it appears. */
async function followPromotion(id: string, targets: Target[], follow: Follow): Promise<Omit<FollowedPromotion, 'promotion'>> {
  const { client, log, signal } = follow;
  const sleep = follow.sleep ?? realSleep;
  const timeoutMs = follow.timeoutMs ?? PROMOTION_TIMEOUT_MS;
  const now = follow.now ?? Date.now;
  const deadline = now() + timeoutMs;
  const releases = new Map<string, Release>();
  let waiting = false;
  for (;;) {
    const promotion = await client.get<PipelinePromotion>(`/pipeline-promotions/${enc(id)}`, `reading the promotion ${id}`);
    // Read after the promotion: once it is completed, these statuses are final.
    const list = await client.list<PromotionTarget>(
      `/pipeline-promotions/${enc(id)}/promotion-targets`,
      `reading the targets of the promotion ${id}`,
    );
    for (const entry of list) {
      const target = targets.find((t) => t.id === entry.app?.id);
      const releaseId = entry.release?.id;
      if (!target || !releaseId || releases.has(target.id)) continue;
      releases.set(target.id, await settleTarget(target, releaseId, follow));
    }
    if (promotion.status === 'completed') return { targets: list, releases };
    if (signal?.aborted) throw cancelledDuring(id);
    if (now() > deadline) {
      throw new TaskError(
        'promotion',
        `The promotion ${id} was still running after ${timeoutMs / 60_000} minutes. Check each target with \`heroku releases -a <app>\`; re-run the task once it is done (targets already at the commit are left alone).`,
      );
    }
    if (!waiting) log.info('Waiting for the promotion to complete...');
    waiting = true;
    await sleep(follow.pollMs ?? 1000, signal);
  }
}

/** A target's new release, after its release phase (whose output is shown, even when it ended before it could be followed). */
async function settleTarget(target: Target, releaseId: string, { log, signal, sleep }: Follow): Promise<Release> {
  const release = await readRelease(target.client, releaseId, `reading the new release of ${target.name}`);
  log.info(
    `${target.name}: the promotion made v${release.version}${release.status === 'pending' ? ', in its release phase' : ''}.`,
  );
  const followed = release.status === 'pending' && Boolean(release.output_stream_url);
  const done = await settleRelease(target.client, release, { log, signal, sleep });
  if (done.status === 'failed' && !followed)
    await showReleaseOutput(target.client, done, { log, signal }, `Release phase of v${done.version} of ${target.name} (failed)`);
  return done;
}
