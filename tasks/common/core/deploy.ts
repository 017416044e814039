// HerokuDeploy: push the commit the pipeline built to the app's main on Heroku, follow its build and
// release phase, and prove from the Platform API what went live.
import { explainApiError } from './api-errors';
import type { Endpoint } from './endpoints';
import { DeployError } from './errors';
import { commitSubject, isShallow, resolveCommit } from './git';
import { HerokuApi, type Account, type App, type Release } from './heroku-api';
import { ensureHistory, type OriginAccess } from './history';
import type { DeployLog } from './log';
import type { NetworkSettings } from './network';
import { basicCredentials, explainPushFailure, herokuHeads, pushToHeroku, type PushOutcome } from './push';
import { releaseAgain, releaseCommit, releaseSnapshot, settleRelease, type ReleaseSnapshot } from './release';

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

const short = (sha: string): string => sha.slice(0, 8);
const enc = encodeURIComponent;

/** The value of a settled read, or its error thrown (for the caller to explain). */
function settled<T>(result: PromiseSettledResult<T>): Promise<T> {
  return result.status === 'fulfilled' ? Promise.resolve(result.value) : Promise.reject(result.reason as Error);
}

/** The release live before `release`: the newest one below it that succeeded. */
function liveBefore(snapshot: ReleaseSnapshot, release: Release): Release | null {
  return snapshot.recent.find((r) => (r.version ?? 0) < (release.version ?? 0) && r.status === 'succeeded') ?? null;
}

export function deploy(request: DeployRequest, log: DeployLog): Promise<DeployResult> {
  return new Deployment(request, log).run();
}

class Deployment {
  private readonly started = Date.now();
  private readonly api: HerokuApi;
  private readonly app: string;
  private readonly repoUrl: string;
  private email = 'this account';
  private sha = '';
  private subject = '';
  private appUrl: string | null = null;

  constructor(
    private readonly request: DeployRequest,
    private readonly log: DeployLog,
  ) {
    this.app = request.appName;
    this.repoUrl = `${request.git.url}/${request.appName}.git`;
    this.api = new HerokuApi({ baseUrl: request.api.url, apiKey: request.apiKey, network: request.network, userAgent: request.userAgent, debug: (l) => log.debug(l), warn: (l) => log.warn(l) });
  }

  /** Runs a Platform API step, turning its failure into a message that says what to do. */
  private async call<T>(doing: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      throw explainApiError(error, { apiUrl: this.request.api.url, app: this.app, doing, email: this.email === 'this account' ? undefined : this.email });
    }
  }

  private get gitRequest() {
    const { apiKey, network, signal, workingDirectory: cwd } = this.request;
    return { cwd, repoUrl: this.repoUrl, apiKey, network, signal };
  }

  async run(): Promise<DeployResult> {
    const { request, log, app } = this;
    const { signal, workingDirectory: cwd } = request;
    log.secret(basicCredentials(request.apiKey));
    if (!request.api.isDefault) log.info(`Heroku API: ${request.api.url} (from ${request.api.source}, not the default https://api.heroku.com)`);
    if (!request.git.isDefault) log.info(`Heroku git: ${request.git.url} (from ${request.git.source}, not the default https://git.heroku.com)`);

    // A bad checkout or ref fails before anything is asked of Heroku.
    this.sha = await resolveCommit(cwd, request.ref, signal);
    // Then every read at once; failures are reported in this order.
    const [accountRead, appRead, subjectRead, shallowRead] = await Promise.allSettled([
      this.api.get<Account>('/account'),
      this.api.get<App>(`/apps/${enc(app)}`),
      commitSubject(cwd, this.sha, signal),
      isShallow(cwd, signal),
    ]);
    const account = await this.call('checking the API key', () => settled(accountRead));
    this.email = account.email ?? 'unknown account';
    log.info(`Deploying as ${this.email}.`);
    this.appUrl = (await this.call(`reading the app ${app}`, () => settled(appRead))).web_url ?? null;
    this.subject = await settled(subjectRead);
    const shallow = await settled(shallowRead);

    const branch = describeBranch(request.sourceBranch);
    log.info(`Deploying commit ${short(this.sha)} "${this.subject}"${branch ? ` (${branch})` : ''} to ${app}${this.appUrl ? ` (${this.appUrl})` : ''}.`);
    if (request.sourceVersion && request.ref === 'HEAD' && request.sourceVersion !== this.sha) {
      log.info(`Note: the checkout's HEAD (${short(this.sha)}) is not Build.SourceVersion (${short(request.sourceVersion)}); deploying HEAD, what the job checked out.`);
    }

    // Only a shallow checkout needs Heroku's head before pushing: to fetch the history it lacks.
    let herokuHead: string | null | undefined;
    if (shallow) {
      herokuHead = await this.headOnHeroku(shallow);
      if (herokuHead === this.sha) return this.alreadyOnHeroku();
      await ensureHistory({ cwd, sha: this.sha, herokuHead, force: request.force, originAccess: request.originAccess, network: request.network, signal, log });
    }

    const outcome = await log.group(`git push ${short(this.sha)} to ${app} on Heroku${request.force ? ' (force)' : ''}`, () =>
      pushToHeroku({ ...this.gitRequest, sha: this.sha, force: request.force, onLine: (line) => log.info(line) }),
    );
    if (outcome.status === 'up-to-date') return this.alreadyOnHeroku();
    if (outcome.status !== 'pushed') {
      const diverged = outcome.reason === 'fetch first' || outcome.reason === 'non-fast-forward';
      if (diverged && herokuHead === undefined) herokuHead = await this.headOnHeroku(shallow).catch(() => null);
      throw explainPushFailure(outcome, { app, sha: this.sha, herokuHead: herokuHead ?? null, gitUrl: request.git.url, shallow });
    }
    if (outcome.skippedBuild) {
      throw new DeployError('skipped', `Heroku accepted the push but built nothing ("skipping build"): only pushes to main or master are deployed. Nothing went live on ${app}.`);
    }
    return this.released(outcome);
  }

  private async headOnHeroku(shallow: boolean): Promise<string | null> {
    const heads = await herokuHeads(this.gitRequest);
    if (heads.outcome) throw explainPushFailure(heads.outcome, { app: this.app, sha: this.sha, herokuHead: null, gitUrl: this.request.git.url, shallow });
    return heads.head;
  }

  /** After a push: the release it made (Heroku printed `Released vN`), settled and verified. */
  private async released(outcome: PushOutcome): Promise<DeployResult> {
    const { app } = this;
    const snapshot = await this.call(`listing the releases of ${app}`, () => releaseSnapshot(this.api, app));
    const printed = outcome.releasedVersion;
    let release = printed === null ? snapshot.latest : snapshot.recent.find((r) => r.version === printed);
    if (!release && printed !== null) release = await this.call(`reading v${printed}`, () => this.api.get<Release>(`/apps/${enc(app)}/releases/${printed}`));
    if (!release) {
      throw new DeployError('verification', `The push to ${app} succeeded but Heroku shows no release of it. Check \`heroku builds -a ${app}\` and \`heroku releases -a ${app}\`; re-running the job releases the pushed commit if its build succeeded.`);
    }
    const previous = liveBefore(snapshot, release);
    const settledRelease = await this.settle(release);
    await this.verify(settledRelease, previous, null);
    return this.result('released', settledRelease, previous, null);
  }

  private settle(release: Release): Promise<Release> {
    return this.call(`waiting for v${release.version}`, () => settleRelease(this.api, this.app, release, { log: this.log, signal: this.request.signal }));
  }

  /** Fails unless `release` succeeded and runs the commit asked for. */
  private async verify(release: Release, previous: Release | null, previousCommit: string | null): Promise<void> {
    const { app, sha } = this;
    if (release.status === 'failed') {
      const live = (await this.call('checking which release is live', () => releaseSnapshot(this.api, app))).current;
      const liveText = live ? `Heroku kept v${live.version} live${live.id === previous?.id && previousCommit ? ` (commit ${short(previousCommit)})` : ''}` : 'no release is live';
      throw new DeployError(
        'release-phase',
        `The release phase of v${release.version} failed: its release command exited non-zero, so ${liveText} and ${short(sha)} is not serving traffic. The log above shows the command's output (also \`heroku releases:output ${release.version} -a ${app}\`); fix it and run the pipeline again (the same commit is released again).`,
      );
    }
    if (release.status !== 'succeeded') {
      throw new DeployError('verification', `Release v${release.version} of ${app} ended ${release.status ?? 'in an unknown state'}, not succeeded: check \`heroku releases -a ${app}\`.`);
    }
    const commit = await this.call(`reading the code of v${release.version}`, () => releaseCommit(this.api, app, release));
    if (commit !== sha) {
      throw new DeployError(
        'verification',
        `Heroku's release v${release.version} runs commit ${commit ? short(commit) : '(none)'}, not the pushed ${short(sha)}: another deploy may have raced this one. Check \`heroku releases -a ${app}\` and run the pipeline again.`,
      );
    }
  }

  /** Heroku's main already has the commit: succeed if it is live, else release it again. */
  private async alreadyOnHeroku(): Promise<DeployResult> {
    const { app, sha, log } = this;
    log.info(`Heroku's main branch of ${app} is already at ${short(sha)}: nothing to push.`);
    const snapshot = await this.call(`listing the releases of ${app}`, () => releaseSnapshot(this.api, app));
    const current = snapshot.current;
    const liveCommit = current ? await this.call('reading the live release', () => releaseCommit(this.api, app, current)) : null;
    if (current && liveCommit === sha) {
      log.info(`v${current.version} of ${app} already runs ${short(sha)}: no new release.`);
      return this.result('already-deployed', current, current, liveCommit);
    }
    log.info(
      `The live release${current ? ` (v${current.version})` : ''} runs ${liveCommit ? short(liveCommit) : 'no code'}, not ${short(sha)} (an earlier release phase failed, or the app was rolled back): releasing ${short(sha)} again.`,
    );
    const release = await this.settle(await this.call(`releasing ${short(sha)} again`, () => releaseAgain(this.api, app, sha, snapshot.recent)));
    await this.verify(release, current, liveCommit);
    return this.result('re-released', release, current, liveCommit);
  }

  private result(outcome: DeployOutcome, release: Release, previous: Release | null, previousCommit: string | null): DeployResult {
    return {
      outcome,
      app: this.app,
      appUrl: this.appUrl,
      account: this.email,
      release: { id: String(release.id), version: release.version ?? 0, status: release.status ?? 'unknown', description: release.description ?? '' },
      previous: previous ? { id: String(previous.id), version: previous.version ?? 0, commit: previousCommit } : null,
      commit: this.sha,
      subject: this.subject,
      branch: describeBranch(this.request.sourceBranch),
      durationMs: Date.now() - this.started,
      apiCalls: this.api.requestCount,
    };
  }
}
