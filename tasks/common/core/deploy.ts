// HerokuDeploy: deploy the commit the pipeline built and prove what went live, in this order (so
// that users are never served a half-migrated app): create the app if asked -> buildpacks ->
// maintenance on -> stop process types -> config vars -> push (the release phase migrates) ->
// restore process types -> maintenance off -> health check -> roll back if it fails.
// Temporary changes are undone on every exit path; intended ones (config vars, a created app) stay.
import { explainApiError } from './api-errors';
import { applyConfigVars, createApp, processQuantities, restoreScale, scaleDown, setBuildpacks, setMaintenance } from './app-changes';
import { showRecentLogs } from './app-logs';
import type { Endpoint } from './endpoints';
import { DeployError, errorMessage, settled } from './errors';
import { commitSubject, isShallow, resolveCommit } from './git';
import { healthCheckUrl } from './health-check';
import { checkHealthOrRollBack } from './health-rollback';
import { HerokuApi, HerokuApiError, type Account, type App, type Release } from './heroku-api';
import type { OriginAccess } from './history';
import type { DeployLog } from './log';
import type { NetworkSettings } from './network';
import { basicCredentials } from './push';
import { pushAndRelease, type PushResult } from './push-and-release';
import { releaseSnapshot, settleRelease } from './release';
import { NO_SAFEGUARDS, type Safeguards } from './safeguards';
import { Steps, type StepRecord } from './steps';
import { failureSummaryMarkdown, short } from './summary';

export interface DeployRequest {
  apiKey: string;
  api: Endpoint;
  git: Endpoint;
  appName: string;
  ref: string;
  force: boolean;
  workingDirectory: string;
  /** Build.SourceBranch (`refs/heads/feature/login`, `refs/pull/42/merge`), for the log. */
  sourceBranch?: string;
  /** Build.SourceVersion: the commit the pipeline built. */
  sourceVersion?: string;
  /** The pipeline's token for fetching history from origin (Azure Repos only), or null. */
  originAccess: OriginAccess | null;
  network: NetworkSettings;
  safeguards?: Safeguards;
  signal?: AbortSignal;
  userAgent?: string;
}

export type DeployOutcome = 'released' | 'already-deployed' | 're-released';

export interface DeployResult {
  outcome: DeployOutcome;
  app: string;
  appUrl: string | null;
  account: string;
  release: { id: string; version: number; status: string; description: string };
  /** The release that was live before this deploy (the same release when nothing changed). */
  previous: { id: string; version: number; commit: string | null } | null;
  commit: string;
  subject: string;
  branch: string | null;
  durationMs: number;
  apiCalls: number;
  steps: StepRecord[];
  /** The last status the health check saw, or null without a health check. */
  healthCheckStatus: string | null;
}

/** `refs/heads/feature/login` -> `feature/login`; `refs/pull/42/merge` -> `pull request #42`. */
export function describeBranch(sourceBranch: string | undefined): string | null {
  if (!sourceBranch) return null;
  const pull = /^refs\/pull\/(\d+)\/(merge|head)$/.exec(sourceBranch);
  if (pull) return `pull request #${pull[1]}`;
  if (sourceBranch.startsWith('refs/heads/')) return sourceBranch.slice('refs/heads/'.length);
  if (sourceBranch.startsWith('refs/tags/')) return `tag ${sourceBranch.slice('refs/tags/'.length)}`;
  return sourceBranch;
}

const enc = encodeURIComponent;


export function deploy(request: DeployRequest, log: DeployLog): Promise<DeployResult> {
  return new Deployment(request, log).run();
}

class Deployment {
  private readonly started = Date.now();
  private readonly api: HerokuApi;
  /** For undoing on the way out: short timeouts, so that a cancelled task finishes within seconds. */
  private readonly undoApi: HerokuApi;
  private readonly app: string;
  private readonly safeguards: Safeguards;
  private readonly steps: Steps;
  private email: string | undefined;
  private sha = '';
  private healthStatus: string | null = null;
  private rolledBack = false;

  constructor(
    private readonly request: DeployRequest,
    private readonly log: DeployLog,
  ) {
    this.app = request.appName;
    this.safeguards = request.safeguards ?? NO_SAFEGUARDS;
    this.steps = new Steps(log);
    const client = { baseUrl: request.api.url, apiKey: request.apiKey, network: request.network, userAgent: request.userAgent, debug: (l: string) => log.debug(l), warn: (l: string) => log.warn(l) };
    this.api = new HerokuApi(client);
    this.undoApi = new HerokuApi({ ...client, timeoutMs: 3000, budgetMs: 4500, maxRetries: 2 });
  }

  /** Runs a Platform API step, turning its failure into a message that says what to do. */
  private async call<T>(doing: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      throw explainApiError(error, { apiUrl: this.request.api.url, app: this.app, doing, email: this.email });
    }
  }

  async run(): Promise<DeployResult> {
    try {
      const result = await this.deploy();
      const undoFailure = await this.steps.unwind();
      if (undoFailure) throw undoFailure;
      return result;
    } catch (error) {
      const failure = error instanceof DeployError ? error : new DeployError('api', `Unexpected error: ${errorMessage(error)}`);
      const undoFailure = await this.steps.unwind();
      const reported = undoFailure && undoFailure !== failure ? new DeployError('undo', `${undoFailure.message} (The deploy had failed: ${failure.message})`, [...failure.details, ...undoFailure.details]) : failure;
      reported.outputs = { rolledBack: String(this.rolledBack), healthCheckStatus: this.healthStatus ?? '', ...reported.outputs };
      reported.summary = failureSummaryMarkdown(this.app, reported.message, reported.details, this.steps.records);
      throw reported;
    }
  }

  private async deploy(): Promise<DeployResult> {
    const { request, log, app, safeguards } = this;
    const { signal, workingDirectory: cwd } = request;
    log.secret(basicCredentials(request.apiKey));
    if (!request.api.isDefault) log.info(`Heroku API: ${request.api.url} (from ${request.api.source}, not the default https://api.heroku.com)`);
    if (!request.git.isDefault) log.info(`Heroku git: ${request.git.url} (from ${request.git.source}, not the default https://git.heroku.com)`);

    // A bad checkout or ref fails before anything is asked of Heroku.
    this.sha = await resolveCommit(cwd, request.ref, signal);
    const sha = this.sha;
    // Then every read at once; failures are reported in this order.
    const [accountRead, appRead, subjectRead, shallowRead] = await Promise.allSettled([
      this.api.get<Account>('/account'),
      this.api.get<App>(`/apps/${enc(app)}`),
      commitSubject(cwd, sha, signal),
      isShallow(cwd, signal),
    ]);
    const account = await this.call('checking the API key', () => settled(accountRead));
    this.email = account.email ?? 'unknown account';
    log.info(`Deploying as ${this.email}.`);
    let appInfo = await this.call(`reading the app ${app}`, () => settled(appRead)).catch((error: unknown) => {
      if (safeguards.createApp && appRead.status === 'rejected' && appRead.reason instanceof HerokuApiError && appRead.reason.status === 404) return null;
      throw error;
    });
    const subject = await settled(subjectRead);
    const shallow = await settled(shallowRead);

    const created = !appInfo;
    if (!appInfo) appInfo = await this.steps.run(`Create the app ${app}`, () => this.call(`creating the app ${app}`, () => createApp(this.api, app, safeguards.createApp!)), (a) => this.describeCreated(a));
    const appUrl = appInfo.web_url ?? null;
    const branch = describeBranch(request.sourceBranch);
    log.info(`Deploying commit ${short(sha)} "${subject}"${branch ? ` (${branch})` : ''} to ${app}${appUrl ? ` (${appUrl})` : ''}.`);
    if (request.sourceVersion && request.ref === 'HEAD' && request.sourceVersion !== sha) {
      log.info(`Note: the checkout's HEAD (${short(sha)}) is not Build.SourceVersion (${short(request.sourceVersion)}); deploying HEAD, what the job checked out.`);
    }

    // Last reads before changing anything: what to restore, where to check, what to roll back to
    // (the release live when the task started, before any config change).
    const healthUrl = safeguards.healthCheck ? this.checkedUrl(appUrl) : null;
    const stopping = safeguards.stopProcessTypes.length > 0 && !created;
    if (created && safeguards.stopProcessTypes.length) this.steps.skip(`Stop ${safeguards.stopProcessTypes.join(', ')}`, 'a new app runs nothing yet');
    const quantities = stopping ? await this.call('reading the formation', () => processQuantities(this.api, app, safeguards.stopProcessTypes)) : {};
    const rollbackTarget = healthUrl && safeguards.rollbackOnFailure ? (await this.call(`listing the releases of ${app}`, () => releaseSnapshot(this.api, app))).current : null;

    if (safeguards.buildpacks.length) {
      await this.steps.run('Buildpacks', () => this.call('setting the buildpacks', () => setBuildpacks(this.api, app, safeguards.buildpacks)), (changed) => (changed ? `set to ${safeguards.buildpacks.join(', ')}` : 'already set'));
    }
    await this.maintenanceOn(appInfo.maintenance === true);
    await this.stopProcessTypes(quantities);
    await this.changeConfigVars();

    let pushed: PushResult;
    try {
      pushed = await this.steps.run(
        `Deploy ${short(sha)}`,
        () => pushAndRelease({ api: this.api, app, sha, cwd, gitUrl: request.git.url, apiKey: request.apiKey, force: request.force, shallow, originAccess: request.originAccess, network: request.network, signal, log, call: (doing, body) => this.call(doing, body) }),
        (p) => `${p.outcome === 'already-deployed' ? 'already live as' : 'released'} v${p.release.version}`,
        { group: false },
      );
    } catch (error) {
      if (error instanceof DeployError && error.kind === 'release-phase') {
        await showRecentLogs(this.api, app, log);
        error.details.push('No rollback was made: Heroku never put the failed release live, so the previous release still serves traffic.');
      }
      throw error;
    }

    await this.steps.undoNow(this.restoreStep);
    await this.steps.undoNow('Maintenance mode off');

    if (healthUrl) await this.healthCheck(healthUrl, pushed, rollbackTarget);
    else this.steps.skip('Health check', 'no healthCheckUrl');

    return {
      outcome: pushed.outcome,
      app,
      appUrl,
      account: this.email,
      release: { id: String(pushed.release.id), version: pushed.release.version ?? 0, status: pushed.release.status ?? 'unknown', description: pushed.release.description ?? '' },
      previous: pushed.previous ? { id: String(pushed.previous.id), version: pushed.previous.version ?? 0, commit: pushed.previousCommit } : null,
      commit: sha,
      subject,
      branch,
      durationMs: Date.now() - this.started,
      apiCalls: this.api.requestCount + this.undoApi.requestCount,
      steps: this.steps.records,
      healthCheckStatus: this.healthStatus,
    };
  }

  private describeCreated(app: App): string {
    return [app.region?.name && `region ${app.region.name}`, app.stack?.name && `stack ${app.stack.name}`, app.team?.name && `team ${app.team.name}`].filter(Boolean).join(', ');
  }

  private async maintenanceOn(alreadyOn: boolean): Promise<void> {
    if (!this.safeguards.maintenanceMode) return;
    if (alreadyOn) {
      this.steps.skip('Maintenance mode on', 'it was already on: left on at the end, as it was');
      return;
    }
    await this.steps.run('Maintenance mode on', async () => {
      this.log.info(`Turning maintenance mode on for ${this.app}: users get Heroku's maintenance page until the deploy is done.`);
      await this.call('turning maintenance mode on', () => setMaintenance(this.api, this.app, true));
    });
    this.steps.undoLater('Maintenance mode off', async () => {
      await this.call('turning maintenance mode off', () => setMaintenance(this.undoApi, this.app, false)).catch((error: unknown) => {
        throw new DeployError('undo', `${errorMessage(error)} ${this.app} is STILL IN MAINTENANCE MODE: run \`heroku maintenance:off -a ${this.app}\`.`);
      });
      return 'off';
    });
  }

  private get restoreStep(): string {
    return `Restore ${this.safeguards.stopProcessTypes.join(', ')}`;
  }

  private async stopProcessTypes(previous: Record<string, number>): Promise<void> {
    const types = Object.keys(previous);
    if (types.length === 0) return;
    await this.steps.run(
      `Stop ${types.join(', ')}`,
      () => this.call(`scaling ${types.join(', ')} to 0`, () => scaleDown(this.api, this.app, previous)),
      () => Object.entries(previous).map(([type, quantity]) => `${type}: ${quantity} -> 0`).join(', '),
    );
    const restored = Object.entries(previous).map(([type, quantity]) => `${type}=${quantity}`).join(' ');
    this.steps.undoLater(this.restoreStep, async () => {
      await this.call('restoring the process types', () => restoreScale(this.undoApi, this.app, previous)).catch((error: unknown) => {
        throw new DeployError('undo', `${errorMessage(error)} ${this.app}'s ${types.join(', ')} dynos are STILL STOPPED: run \`heroku ps:scale ${restored} -a ${this.app}\`.`);
      });
      return `back to ${restored}`;
    });
  }

  private async changeConfigVars(): Promise<void> {
    const wanted = this.safeguards.configVars;
    if (Object.keys(wanted).length === 0) return;
    await this.steps.run(
      'Config vars',
      async () => {
        const change = await this.call('setting config vars', () => applyConfigVars(this.api, this.app, wanted));
        if (change.set.length + change.removed.length === 0) {
          this.log.info('The config vars already have these values: nothing to change, no new release.');
          return change;
        }
        this.log.info(`Set: ${change.set.join(', ') || '-'}; removed: ${change.removed.join(', ') || '-'} (values are not shown).`);
        // The change is a release of its own, with a release phase when the current slug has one.
        const { latest } = await this.call('reading the config release', () => releaseSnapshot(this.api, this.app, 1));
        if (latest?.status === 'pending') {
          const done = await this.call(`waiting for v${latest.version}`, () => settleRelease(this.api, this.app, latest, { log: this.log, signal: this.request.signal }));
          if (done.status === 'failed') {
            throw new DeployError('release-phase', `The release phase of v${done.version} (the config var change) failed: the config vars are set, but the release did not go live. See its output above (\`heroku releases:output ${done.version} -a ${this.app}\`).`);
          }
        }
        return change;
      },
      (change) => (change.set.length + change.removed.length ? `set ${change.set.join(', ') || '-'}; removed ${change.removed.join(', ') || '-'}` : 'unchanged'),
    );
  }

  private checkedUrl(appUrl: string | null): string {
    try {
      return healthCheckUrl(this.safeguards.healthCheck!, appUrl, this.app);
    } catch (error) {
      throw new DeployError('input', errorMessage(error));
    }
  }

  private async healthCheck(url: string, pushed: PushResult, rollbackTarget: Release | null): Promise<void> {
    const guard = await checkHealthOrRollBack({
      api: this.api,
      app: this.app,
      url,
      options: this.safeguards.healthCheck!,
      release: pushed.release,
      commit: this.sha,
      rollbackTarget,
      rollbackOnFailure: this.safeguards.rollbackOnFailure,
      network: this.request.network,
      log: this.log,
      steps: this.steps,
      signal: this.request.signal,
      call: (doing, body) => this.call(doing, body),
    });
    this.healthStatus = guard.status;
    this.rolledBack = guard.rolledBack !== null;
    if (guard.failure) throw guard.failure;
  }
}
