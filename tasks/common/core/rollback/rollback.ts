// HerokuRollback: roll an app back to an earlier release, in this order: read the live release and
// the target (and their commits) -> refuse what cannot or should not be rolled back to -> create the
// rollback release (once: never repeated, it may have taken effect) -> follow it through its release
// phase -> verify it runs the target's code -> health check it. A failed check is reported, never
// "rolled forward"; a cancel or a failure after the request says what state the app is in.
import { settled } from '../base/async';
import { TaskError, errorMessage, toTaskError } from '../base/errors';
import { short } from '../base/format';
import type { TaskLog } from '../base/log';
import type { App, Release } from '../heroku/api';
import { showRecentLogs } from '../heroku/app-logs';
import { UNDO_DEADLINES, clientFor, type AppClient } from '../heroku/client';
import { artifactOf, releaseCommit, releaseSnapshot, rollBack } from '../heroku/releases';
import { checkHealth, describeAttempt, healthCheckUrl, type HealthResult } from '../workflow/health-check';
import type { Outcome } from '../workflow/report';
import type { HealthCheckOptions } from '../workflow/safeguards';
import { Steps } from '../workflow/steps';
import { describeRelease, oneReleaseBack, refusal, runsCommit } from './target';
import { releaseFacts, type ReleaseFacts, type RollbackProgress, type RollbackRequest, type RollbackResult } from './types';

/** Rolls back; a failure comes back with what it had got to, never thrown. */
export async function rollback(request: RollbackRequest, log: TaskLog): Promise<Outcome<RollbackResult, RollbackProgress>> {
  const steps = new Steps(log, request.signal);
  const progress: RollbackProgress = { steps: steps.records, result: null };
  try {
    return { ok: true, result: await run(request, log, steps, progress) };
  } catch (error) {
    return { ok: false, failure: toTaskError(error), partial: progress };
  }
}

const commitOf = (facts: ReleaseFacts): string => (facts.commit ? `commit ${short(facts.commit)}` : 'no commit recorded');

async function run(request: RollbackRequest, log: TaskLog, steps: Steps, progress: RollbackProgress): Promise<RollbackResult> {
  const started = Date.now();
  const app = clientFor(request, log).forApp(request.appName);
  const name = app.name;

  // Everything is read before anything changes: the key, the app, its newest releases, the target.
  const reads = await Promise.allSettled([
    app.account(),
    app.get<App>(app.path(), `reading the app ${name}`),
    // Stryker disable next-line ObjectLiteral: releaseSnapshot's defaults are the same 10 releases and the same words for what it was doing
    releaseSnapshot(app, { doing: `listing the releases of ${name}` }),
    request.toVersion === null
      ? Promise.resolve(null)
      : app.find<Release>(app.path('releases', String(request.toVersion)), `reading v${request.toVersion} of ${name}`),
  ]);
  const account = (await settled(reads[0])).email ?? 'unknown account';
  const appInfo = await settled(reads[1]);
  const snapshot = await settled(reads[2]);
  const named = await settled(reads[3]);
  const live = snapshot.current;
  if (!live)
    throw new TaskError(
      'verification',
      `${name} has no live release (none of its ${snapshot.recent.length} newest releases is current): there is nothing to roll back from. Check \`heroku releases -a ${name}\`.`,
    );
  const target = request.toVersion === null ? oneReleaseBack(snapshot.recent) : named;
  if (!target) {
    throw new TaskError(
      'input',
      request.toVersion === null
        ? `${name} has no release to roll back to: of its ${snapshot.recent.length} newest releases, fewer than two can be rolled back to (as \`heroku rollback\` counts them: \`eligible_for_rollback\`). Give toVersion a release from \`heroku releases -a ${name}\`.`
        : `${name} has no release v${request.toVersion} (its newest is v${snapshot.latest?.version ?? live.version}): give toVersion a release from \`heroku releases -a ${name}\`.`,
    );
  }
  const refused = refusal(name, target, live);
  if (refused) throw refused;
  const url = request.healthCheck ? healthCheckUrl(request.healthCheck, appInfo.web_url ?? null, name) : null;

  const [liveCommit, targetCommit] = await Promise.all([releaseCommit(app, live), releaseCommit(app, target)]);
  const from = releaseFacts(live, liveCommit);
  const to = releaseFacts(target, targetCommit);
  if (request.expectedCommit && !runsCommit(targetCommit, request.expectedCommit)) {
    throw new TaskError(
      'verification',
      `Refusing to roll back: ${describeRelease(target)} of ${name} runs ${targetCommit ? `commit ${short(targetCommit)}` : 'no recorded commit'}, not the expected ${short(request.expectedCommit)} (expectedCommit). Nothing was changed. Give toVersion the release that runs ${short(request.expectedCommit)} (\`heroku releases -a ${name}\`), or fix expectedCommit.`,
    );
  }
  if (request.expectedCommit) log.info(`v${to.version} runs the expected commit ${short(request.expectedCommit)}.`);
  log.info(
    `${name} runs v${from.version} (${commitOf(from)}), as ${account} sees it; rolling back to v${to.version} (${commitOf(to)}${to.description ? `: "${to.description}"` : ''}).`,
  );
  log.warn(
    `A rollback restores the config vars of v${to.version} as well as its code: config vars changed since v${to.version} go back to its values. It does not undo database migrations, data changes or add-ons: if a release after v${to.version} migrated the database, make sure v${to.version}'s code works with the migrated schema.`,
  );

  const release = await steps.run(
    `Roll back ${name} to v${to.version}`,
    () => createRollback(app, target, from, request, log),
    // Stryker disable next-line MethodExpression,StringLiteral: rollBack returns only a release whose status is 'succeeded', so the status fallback is never used and there is never a trailing space to trim (this also skips the emptied template, which rollback.test.ts kills)
    (r) => `v${r.version} ${r.status ?? ''}`.trim(),
  );
  const made = releaseFacts(release, await releaseCommit(app, release));
  const sameCode = artifactOf(release)?.id === artifactOf(target)?.id && made.commit === to.commit;
  if (!sameCode) {
    throw new TaskError(
      'verification',
      `The rollback release v${made.version} of ${name} is live but runs ${commitOf(made)}, not v${to.version}'s ${commitOf(to)}: something else changed ${name} meanwhile. Check \`heroku releases -a ${name}\` before doing anything else.`,
    );
  }
  log.info(`v${made.version} is live: ${name} runs v${to.version}'s code again (${commitOf(made)}).`);
  const result: RollbackResult = {
    app: name,
    appUrl: appInfo.web_url ?? null,
    account,
    from,
    to,
    release: made,
    healthCheckStatus: null,
    durationMs: 0,
    steps: steps.records,
  };
  progress.result = result;
  result.durationMs = Date.now() - started;

  if (request.healthCheck && url) {
    const health = await checkRollback(url, request.healthCheck, result, request, log, steps);
    result.healthCheckStatus = health.last?.status ? String(health.last.status) : '';
    if (!health.healthy) {
      await showRecentLogs(app, log);
      result.durationMs = Date.now() - started;
      throw new TaskError(
        'health-check',
        `${name} was rolled back to v${to.version} (live as v${made.version}, ${commitOf(made)}), but it failed its health check: ${url} last answered ${describeAttempt(health.last)} within ${request.healthCheck.timeoutMs / 1000} s. v${made.version} stays live (a rollback is never rolled forward): the app's logs are above. Roll back further with toVersion, or deploy a fix.`,
      );
    }
  }
  result.durationMs = Date.now() - started;
  return result;
}

/**
 * The rollback request, made once, followed through its release phase. Whatever stops it (a cancel,
 * a lost connection, a failed release phase, a deadline), the app's releases are read again, without
 * the cancel, to say what state the app is in; nothing is retried and no other rollback started.
 */
async function createRollback(
  app: AppClient,
  target: Release,
  from: ReleaseFacts,
  request: RollbackRequest,
  log: TaskLog,
): Promise<Release> {
  log.info(`Rolling back ${app.name} to v${target.version} (POST /apps/${app.name}/releases, sent once).`);
  try {
    return await rollBack(app, target, { log, signal: request.signal, pollMs: request.pollMs, sleep: request.sleep });
  } catch (error) {
    const failure = toTaskError(error);
    const state = await stateAfter(app, target, from);
    const check = `Check \`heroku releases -a ${app.name}\` before running a rollback again.`;
    if (failure.kind === 'cancelled')
      throw new TaskError(
        'cancelled',
        `The task was cancelled during the rollback of ${app.name} to v${target.version}. ${state} The task started nothing else (a cancel never starts another rollback). ${check}`,
      );
    throw new TaskError(
      'rollback',
      `The rollback of ${app.name} to v${target.version} did not complete: ${errorMessage(failure).replace(/\.?$/, '.')} ${state} ${check}`,
      failure.details,
    );
  }
}

/** What the app runs after an interrupted rollback, read with short deadlines and no cancel (it runs after one). */
async function stateAfter(app: AppClient, target: Release, from: ReleaseFacts): Promise<string> {
  let recent: Release[];
  try {
    recent = (
      await releaseSnapshot(app.withDeadlines(UNDO_DEADLINES), {
        count: 5,
        doing: `checking which release of ${app.name} is live`,
      })
    ).recent;
  } catch (error) {
    return `Whether the rollback took effect is unknown: its request may have reached Heroku, and the releases could not be read (${errorMessage(error)}).`;
  }
  const made = recent.filter((r) => (r.version ?? 0) > from.version);
  const live = recent.find((r) => r.current);
  const newest = made[0];
  if (!newest)
    return live?.id === from.id
      ? `No new release was made: v${from.version} is still live.`
      : `No new release was made, and ${live ? `v${live.version}` : 'no release'} is live.`;
  const what = `${describeRelease(newest)}, the release the request made${made.length > 1 ? ` (of ${made.length} new ones)` : ''}`;
  if (live?.id === newest.id) return `The rollback took effect: ${what}, is live with v${target.version}'s code and config vars.`;
  if (newest.status === 'pending')
    return `The rollback may still take effect: ${what}, is in its release phase; v${live?.version ?? from.version} stays live until it ends, and v${newest.version} goes live if it succeeds (\`heroku releases:output ${newest.version} -a ${app.name}\`).`;
  return `The rollback did not take effect: ${what}, ended ${newest.status ?? 'in an unknown state'}, and ${live ? `v${live.version}` : 'no release'} is live.`;
}

/** The health check of the rollback release; a cancel stops it and says the rollback itself is done. */
async function checkRollback(
  url: string,
  options: HealthCheckOptions,
  result: RollbackResult,
  request: RollbackRequest,
  log: TaskLog,
  steps: Steps,
): Promise<HealthResult> {
  try {
    return await steps.run(
      `Health check of ${result.app} v${result.release.version}`,
      () => checkHealth({ url, options, network: request.network, log, signal: request.signal }),
      // Stryker disable next-line StringLiteral: a healthy check always has a last answer with a status, so the '' fallback is never read (the two details themselves are asserted by the rollback tests)
      (r) => (r.healthy ? `healthy (${r.last?.status ?? ''})` : `unhealthy: ${describeAttempt(r.last)}`),
    );
  } catch (error) {
    // Stryker disable next-line ConditionalExpression: checkHealth and Steps.run throw no TaskError but a cancel, and anything else has no kind 'cancelled'; the always-rethrow variant is killed by the cancel-during-the-health-check test
    if (!(error instanceof TaskError) || error.kind !== 'cancelled') throw error;
    throw new TaskError(
      'cancelled',
      `The task was cancelled during the health check of ${result.app}: the rollback is done, v${result.release.version} (v${result.to.version}'s code, ${commitOf(result.release)}) is live and was not checked to the end.`,
    );
  }
}
