// The order every new release of an app follows, so that users are never served a half-migrated
// app: buildpacks -> maintenance on -> stop process types -> config vars -> RELEASE (the release
// phase migrates) -> restore process types -> maintenance off -> health check -> roll back if it
// fails. RELEASE is a strategy: a git push today, the Build API next. Temporary changes are undone on
// every exit path; intended ones (buildpacks, config vars) stay.
import { TaskError, errorMessage } from '../base/errors';
import type { TaskLog } from '../base/log';
import type { NetworkSettings } from '../base/network';
import type { App, Release } from '../heroku/api';
import {
  applyConfigVars,
  processQuantities,
  restoreScale,
  scaleDown,
  setBuildpacks,
  setMaintenance,
  type ConfigChange,
} from '../heroku/app-changes';
import { showRecentLogs } from '../heroku/app-logs';
import { UNDO_DEADLINES, type AppClient } from '../heroku/client';
import { releaseSnapshot, settleRelease } from '../heroku/releases';
import { healthCheckUrl } from './health-check';
import { checkHealthOrRollBack } from './health-rollback';
import type { Safeguards } from './safeguards';
import type { Steps, Undo } from './steps';

/** What a strategy made live: the release, verified to run `commit`. */
export interface Released {
  release: Release;
  commit: string;
}

/** One way to make the new release (git push, Build API), verified before it returns. */
export interface ReleaseStrategy<R extends Released> {
  /** The step's title in the log and summary, e.g. `Deploy 3cced9be`. */
  title: string;
  /** Makes the release and proves it runs the commit; writes its own log groups. */
  release(): Promise<R>;
  /** What the summary says it did, e.g. `released v62`. */
  describe(released: R): string;
}

export interface SafeReleaseTarget {
  app: AppClient;
  safeguards: Safeguards;
  network: NetworkSettings;
  log: TaskLog;
  steps: Steps;
  signal?: AbortSignal;
}

export class SafeRelease {
  /** The last status the health check saw (null without a health check, '' when nothing answered). */
  healthCheckStatus: string | null = null;
  /** Whether a rollback release was made. */
  rolledBack = false;
  private readonly undoApp: AppClient;

  constructor(private readonly target: SafeReleaseTarget) {
    this.undoApp = target.app.withDeadlines(UNDO_DEADLINES);
  }

  /**
   * Runs the sequence around `strategy`; temporary changes are undone whatever happens. `appInfo` is
   * the app as read before any change (its maintenance state and web_url; null when no safeguard
   * needs it: see readsFirst); `created`: this task created it, so it runs nothing yet and there is
   * nothing to stop.
   */
  run<R extends Released>(strategy: ReleaseStrategy<R>, appInfo: App | null, created: boolean): Promise<R> {
    return this.target.steps.undoingOnExit('deploy', () => this.sequence(strategy, appInfo, created));
  }

  private async sequence<R extends Released>(strategy: ReleaseStrategy<R>, appInfo: App | null, created: boolean): Promise<R> {
    const { app, safeguards, steps } = this.target;
    // Last reads before changing anything: where to check, what to restore, what to roll back to
    // (the release live when the task started, before any config change).
    const healthUrl = safeguards.healthCheck ? healthCheckUrl(safeguards.healthCheck, appInfo?.web_url ?? null, app.name) : null;
    if (created && safeguards.stopProcessTypes.length)
      steps.skip(`Stop ${safeguards.stopProcessTypes.join(', ')}`, 'a new app runs nothing yet');
    const quantities =
      safeguards.stopProcessTypes.length && !created ? await processQuantities(app, safeguards.stopProcessTypes) : {};
    const rollbackTarget = healthUrl && safeguards.rollbackOnFailure ? (await releaseSnapshot(app)).current : null;

    if (safeguards.buildpacks.length) {
      const set = safeguards.buildpacks.join(', ');
      await steps.run(
        'Buildpacks',
        () => setBuildpacks(app, safeguards.buildpacks),
        (changed) => (changed ? `set to ${set}` : 'already set'),
      );
    }
    const maintenanceOff = await this.maintenanceOn(appInfo?.maintenance === true);
    const restore = await this.stopProcessTypes(quantities);
    await this.changeConfigVars();

    const released = await this.release(strategy);
    await steps.undoNow(restore);
    await steps.undoNow(maintenanceOff);

    if (healthUrl) await this.healthCheck(healthUrl, released, rollbackTarget);
    else steps.skip('Health check', 'no healthCheckUrl');
    return released;
  }

  private async release<R extends Released>(strategy: ReleaseStrategy<R>): Promise<R> {
    const { app, steps } = this.target;
    try {
      return await this.target.steps.run(
        strategy.title,
        () => strategy.release(),
        (r) => strategy.describe(r),
        { group: false },
      );
    } catch (error) {
      // Another deploy holds the app: it made the same temporary changes (or saw this run's) and
      // undoes them when its release is done. Undoing them now would pull them from under its build.
      if (error instanceof TaskError && error.kind === 'busy')
        steps.leaveUndone(`another deploy of ${app.name} is running and puts it back when it ends`);
      if (error instanceof TaskError && error.kind === 'release-phase') {
        await showRecentLogs(this.target.app, this.target.log);
        error.details.push(
          'No rollback was made: Heroku never put the failed release live, so the previous release still serves traffic.',
        );
      }
      throw error;
    }
  }

  /**
   * Maintenance on, unless it is off in the inputs or already on; returns its undo. The undo is
   * registered before the call: a call cut short (cancel, timeout) may still have taken effect.
   */
  private async maintenanceOn(alreadyOn: boolean): Promise<Undo | null> {
    const { app, safeguards, steps, log } = this.target;
    if (!safeguards.maintenanceMode) return null;
    if (alreadyOn) {
      steps.skip('Maintenance mode on', 'it was already on: left on at the end, as it was');
      return null;
    }
    const undo = steps.undoLater(
      'Maintenance mode off',
      async () => {
        await setMaintenance(this.undoApp, false).catch((error: unknown) => {
          throw new TaskError(
            'undo',
            `${errorMessage(error)} ${app.name} is STILL IN MAINTENANCE MODE: run \`heroku maintenance:off -a ${app.name}\`.`,
          );
        });
        return 'off';
      },
      `heroku maintenance:off -a ${app.name}`,
    );
    await steps.run('Maintenance mode on', async () => {
      log.info(`Turning maintenance mode on for ${app.name}: users get Heroku's maintenance page until the deploy is done.`);
      await setMaintenance(app, true);
    });
    return undo;
  }

  /** Scales `previous`'s process types to 0; returns the undo that scales them back (registered first). */
  private async stopProcessTypes(previous: Record<string, number>): Promise<Undo | null> {
    const { app, steps } = this.target;
    const types = Object.keys(previous);
    if (types.length === 0) return null;
    const stopped = Object.entries(previous).map(([type, quantity]) => `${type}: ${quantity} -> 0`);
    const restored = Object.entries(previous)
      .map(([type, quantity]) => `${type}=${quantity}`)
      .join(' ');
    const undo = steps.undoLater(
      `Restore ${types.join(', ')}`,
      async () => {
        await restoreScale(this.undoApp, previous).catch((error: unknown) => {
          throw new TaskError(
            'undo',
            `${errorMessage(error)} ${app.name}'s ${types.join(', ')} dynos are STILL STOPPED: run \`heroku ps:scale ${restored} -a ${app.name}\`.`,
          );
        });
        return `back to ${restored}`;
      },
      `heroku ps:scale ${restored} -a ${app.name}`,
    );
    await steps.run(
      `Stop ${types.join(', ')}`,
      () => scaleDown(app, previous),
      () => stopped.join(', '),
    );
    return undo;
  }

  private async changeConfigVars(): Promise<void> {
    const { app, safeguards, steps, log, signal } = this.target;
    const wanted = safeguards.configVars;
    if (Object.keys(wanted).length === 0) return;
    const describe = (change: ConfigChange): string =>
      change.set.length + change.removed.length
        ? `set ${change.set.join(', ') || '-'}; removed ${change.removed.join(', ') || '-'}`
        : 'unchanged';
    await steps.run(
      'Config vars',
      async () => {
        const change = await applyConfigVars(app, wanted);
        if (change.set.length + change.removed.length === 0) {
          log.info('The config vars already have these values: nothing to change, no new release.');
          return change;
        }
        log.info(`Set: ${change.set.join(', ') || '-'}; removed: ${change.removed.join(', ') || '-'} (values are not shown).`);
        // The change is a release of its own, with a release phase when the current slug has one.
        const { latest } = await releaseSnapshot(app, { count: 1, doing: 'reading the config release' });
        if (latest?.status !== 'pending') return change;
        const done = await settleRelease(app, latest, { log, signal });
        if (done.status === 'failed') {
          throw new TaskError(
            'release-phase',
            `The release phase of v${done.version} (the config var change) failed: the config vars are set, but the release did not go live. See its output above (\`heroku releases:output ${done.version} -a ${app.name}\`).`,
          );
        }
        return change;
      },
      describe,
    );
  }

  private async healthCheck(url: string, released: Released, rollbackTarget: Release | null): Promise<void> {
    const { app, safeguards, network, log, steps, signal } = this.target;
    const guard = await checkHealthOrRollBack({
      app,
      url,
      options: safeguards.healthCheck!,
      release: released.release,
      commit: released.commit,
      rollbackTarget,
      rollbackOnFailure: safeguards.rollbackOnFailure,
      network,
      log,
      steps,
      signal,
    });
    this.healthCheckStatus = guard.status;
    this.rolledBack = guard.rolledBack !== null;
    if (guard.failure) throw guard.failure;
  }
}
