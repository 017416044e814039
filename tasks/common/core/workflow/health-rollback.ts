// After a new release goes live: ask the app whether it works and, when it does not, show its logs,
// roll back to the release live before and prove by HTTP that the rollback answers. Shared by every
// task that releases (a deploy's one app, each target of a promotion).
import { TaskError, errorMessage } from '../base/errors';
import { short } from '../base/format';
import type { TaskLog } from '../base/log';
import type { NetworkSettings } from '../base/network';
import type { Release } from '../heroku/api';
import { showRecentLogs } from '../heroku/app-logs';
import type { AppClient } from '../heroku/client';
import { artifactOf, rollBack } from '../heroku/releases';
import { checkHealth, describeAttempt, type HealthResult } from './health-check';
import type { HealthCheckOptions } from './safeguards';
import type { Steps } from './steps';

export interface GuardedRelease {
  app: AppClient;
  /** The URL to check (healthCheckUrl resolved against the app's web_url). */
  url: string;
  options: HealthCheckOptions;
  /** The release just made live, and the commit it runs. */
  release: Release;
  commit: string;
  /** The release live before it (read before the change), or null when there is none to go back to. */
  rollbackTarget: Release | null;
  rollbackOnFailure: boolean;
  network: NetworkSettings;
  log: TaskLog;
  steps: Steps;
  signal?: AbortSignal;
  /** Names the app in step titles (`Health check of my-app v62`), for tasks that touch several apps. */
  nameApp?: boolean;
  /** What the user does after fixing the failure, e.g. `deploy again`. */
  retry?: string;
}

export interface GuardResult {
  /** Whether the new release answered as expected. */
  healthy: boolean;
  /** The last HTTP status the health check saw ('' when no answer came). */
  status: string;
  /** The rollback release, when one was made. */
  rolledBack: Release | null;
  /** Why the task must fail (unhealthy, rolled back or not, or the rollback failed), or null. */
  failure: TaskError | null;
}

const statusOf = (result: HealthResult): string => (result.last?.status ? String(result.last.status) : '');

export async function checkHealthOrRollBack(guarded: GuardedRelease): Promise<GuardResult> {
  const { url, options, release, rollbackTarget, log, steps } = guarded;
  const app = guarded.app.name;
  const of = guarded.nameApp ? `${app} ` : '';
  const retry = guarded.retry ?? 'deploy again';
  // A cancel is never a verdict: it stops the check, rolls nothing back and says what is live.
  const check = async (title: string, live: Release): Promise<HealthResult> => {
    try {
      return await steps.run(
        title,
        () => checkHealth({ url, options, network: guarded.network, log, signal: guarded.signal }),
        // Stryker disable next-line StringLiteral: a healthy verdict always comes from an answer, so its status is never missing
        (r) => (r.healthy ? `healthy (${r.last?.status ?? ''})` : `unhealthy: ${describeAttempt(r.last)}`),
      );
    } catch (error) {
      // Stryker disable next-line ConditionalExpression: an error that is no TaskError has no kind, so the kind test rethrows it too
      if (!(error instanceof TaskError) || error.kind !== 'cancelled') throw error;
      throw new TaskError(
        'cancelled',
        `The task was cancelled during the health check of ${app}: v${live.version} is live and was not checked to the end. Nothing was rolled back (a cancel never rolls back): check the app, and if it is broken roll back by hand (\`heroku rollback -a ${app}\`).`,
      );
    }
  };

  const result = await check(`Health check of ${of}v${release.version}`, release);
  if (result.healthy) return { healthy: true, status: statusOf(result), rolledBack: null, failure: null };
  const unhealthy = (failure: TaskError, rolledBack: Release | null = null, status = statusOf(result)): GuardResult => ({
    healthy: false,
    status,
    rolledBack,
    failure,
  });

  await showRecentLogs(guarded.app, log);
  const commit = guarded.commit ? ` (commit ${short(guarded.commit)})` : '';
  const failed = `v${release.version} of ${app}${commit} failed its health check: ${url} last answered ${describeAttempt(result.last)} within ${options.timeoutMs / 1000} s.`;
  if (!guarded.rollbackOnFailure)
    return unhealthy(new TaskError('health-check', `${failed} rollbackOnFailure is false, so v${release.version} stays live.`));
  if (!rollbackTarget || !artifactOf(rollbackTarget) || rollbackTarget.id === release.id) {
    const already = rollbackTarget?.id === release.id ? ` (v${release.version} was already live when the task started)` : '';
    return unhealthy(
      new TaskError(
        'health-check',
        `${failed} There is no earlier release with code to roll back to${already}, so v${release.version} stays live.`,
      ),
    );
  }

  let rolled: Release;
  try {
    rolled = await steps.run(`Roll back ${of}to v${rollbackTarget.version}`, async () => {
      log.info(
        `Rolling back ${of}to v${rollbackTarget.version}, the release live when this task started (with its config vars, as a Heroku rollback does).`,
      );
      return rollBack(guarded.app, rollbackTarget, { log, signal: guarded.signal });
    });
  } catch (error) {
    return unhealthy(
      new TaskError(
        'rollback',
        `ROLLBACK FAILED — ACT NOW: ${failed} The rollback to v${rollbackTarget.version} failed (${errorMessage(error)}), so the failing v${release.version} is still live. Roll back by hand: \`heroku rollback v${rollbackTarget.version} -a ${app}\`.`,
      ),
    );
  }
  const after = await check(`Health check of ${of}v${rolled.version} (rollback to v${rollbackTarget.version})`, rolled);
  if (!after.healthy) {
    return unhealthy(
      new TaskError(
        'rollback',
        `ROLLBACK DID NOT RECOVER THE APP — ACT NOW: ${failed} It was rolled back to v${rollbackTarget.version} (as v${rolled.version}), which is not healthy either: ${url} answered ${describeAttempt(after.last)}. Check \`heroku logs -a ${app}\` and \`heroku releases -a ${app}\`.`,
      ),
      rolled,
      statusOf(after),
    );
  }
  return unhealthy(
    new TaskError(
      'health-check',
      `${failed} Rolled back to v${rollbackTarget.version} (now live as v${rolled.version}), which answers healthy. Fix the failure (the app's logs are above) and ${retry}.`,
    ),
    rolled,
    statusOf(after),
  );
}
