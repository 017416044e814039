// Each target after the promotion: its new release verified (or why it has none), then its health
// checked and, if it fails, rolled back. A failure there fails that target only; the others are
// still reported.
import { TaskError, errorMessage } from '../base/errors';
import { short } from '../base/format';
import type { TaskLog } from '../base/log';
import type { NetworkSettings } from '../base/network';
import type { Release } from '../heroku/api';
import { readRelease, releaseCommit, releaseSnapshot } from '../heroku/releases';
import { checkHealthOrRollBack } from '../workflow/health-rollback';
import type { HealthCheckOptions } from '../workflow/safeguards';
import type { Steps } from '../workflow/steps';
import type { PromotionTarget } from './follow';
import { facts, targetResult, type Target, type TargetOutcome, type TargetResult } from './types';

/** Runs one target's part: an error fails that target (cancel still stops the task). */
export async function forTarget(
  target: Target,
  base: TargetResult | null,
  body: () => Promise<TargetResult>,
): Promise<TargetResult> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof TaskError && error.kind === 'cancelled') throw error;
    const failure = new TaskError(
      error instanceof TaskError ? error.kind : 'unexpected',
      `${target.name}: ${errorMessage(error)} Check it with \`heroku releases -a ${target.name}\`.`,
    );
    return { ...(base ?? targetResult(target, 'failed')), outcome: 'failed', failure };
  }
}

/** A target once the promotion completed: its new release, verified, or why it has none. */
export async function verifyTarget(
  target: Target,
  entry: PromotionTarget | null,
  release: Release | null,
  commit: string | null,
  log: TaskLog,
): Promise<TargetResult> {
  const { name, client } = target;
  if (!release && entry?.release?.id) release = await readRelease(client, entry.release.id, `reading the new release of ${name}`);
  if (entry?.status !== 'succeeded' || release?.status !== 'succeeded') {
    const live = (await releaseSnapshot(client, { doing: `checking which release of ${name} is live` })).current;
    const kept = live ? `Heroku kept v${live.version} live on ${name}` : `No release of ${name} is live`;
    const reported = `Heroku reports the target ${entry?.status ?? 'missing'}`;
    const reason =
      entry?.error_message ||
      (!release
        ? `${reported} without a release`
        : release.status === 'succeeded'
          ? `${reported} although its release v${release.version} succeeded`
          : `v${release.version} ended ${release.status ?? 'in an unknown state'}`);
    const output = release
      ? ` Its release phase output is above (\`heroku releases:output ${release.version} -a ${name}\`).`
      : '';
    const failure = new TaskError(
      'promotion',
      `The promotion to ${name} failed: ${reason}. ${kept}.${output} Fix the cause and run the promotion again.`,
    );
    const liveFacts = live ? facts(live, live.id === target.current?.id ? (target.before?.commit ?? null) : null) : null;
    return targetResult(target, 'failed', { release: release ? facts(release, null) : null, live: liveFacts, failure });
  }
  const runs = await releaseCommit(client, release);
  const made = facts(release, runs);
  if (commit && runs !== commit) {
    const failure = new TaskError(
      'verification',
      `${name}'s new release v${release.version} runs commit ${runs ? short(runs) : '(none)'}, not the promoted ${short(commit)}: something else changed ${name} meanwhile. Check \`heroku releases -a ${name}\`.`,
    );
    return targetResult(target, 'failed', { release: made, live: made, failure });
  }
  log.info(`${name}: v${release.version} is live${runs ? `, running ${short(runs)}` : ''}.`);
  return targetResult(target, 'promoted', { release: made, live: made });
}

export interface TargetHealthCheck {
  options: HealthCheckOptions;
  rollbackOnFailure: boolean;
  network: NetworkSettings;
  log: TaskLog;
  steps: Steps;
  signal?: AbortSignal;
}

/** A promoted target's health check, rolling back to what it ran before when it fails (and rollback is on). */
export async function checkTarget(target: Target, promoted: TargetResult, check: TargetHealthCheck): Promise<TargetResult> {
  const release: Release = { id: promoted.release?.id, version: promoted.release?.version };
  const guard = await checkHealthOrRollBack({
    app: target.client,
    // Stryker disable next-line StringLiteral: unreachable fallback: with a health check every target has its URL (resolveHealthUrls)
    url: target.healthUrl ?? '',
    options: check.options,
    release,
    commit: promoted.release?.commit ?? '',
    rollbackTarget: check.rollbackOnFailure ? target.current : null,
    rollbackOnFailure: check.rollbackOnFailure,
    network: check.network,
    log: check.log,
    steps: check.steps,
    signal: check.signal,
    nameApp: true,
    retry: 'promote again',
  });
  const checked = { ...promoted, healthCheckStatus: guard.status };
  if (!guard.failure) return checked;
  const outcome: TargetOutcome =
    guard.failure.kind === 'rollback' ? 'rollback-failed' : guard.rolledBack ? 'rolled-back' : 'unhealthy';
  const live = guard.rolledBack ? facts(guard.rolledBack, target.before?.commit ?? null) : promoted.live;
  return { ...checked, outcome, live, failure: guard.failure };
}
