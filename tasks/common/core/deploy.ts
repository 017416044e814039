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
import { basicCredentials, explainPushFailure, herokuHeads, pushToHeroku } from './push';
import { pushedRelease, releaseAgain, releaseCommit, releaseSnapshot, settleRelease, type ReleaseSnapshot } from './release';

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

function releaseFields(release: Release): DeployResult['release'] {
  return { id: String(release.id), version: release.version ?? 0, status: release.status ?? 'unknown', description: release.description ?? '' };
}

export async function deploy(request: DeployRequest, log: DeployLog): Promise<DeployResult> {
  const started = Date.now();
  const { appName: app, signal } = request;
  const cwd = request.workingDirectory;
  log.secret(basicCredentials(request.apiKey));
  if (!request.api.isDefault) log.info(`Heroku API: ${request.api.url} (from ${request.api.source}, not the default https://api.heroku.com)`);
  if (!request.git.isDefault) log.info(`Heroku git: ${request.git.url} (from ${request.git.source}, not the default https://git.heroku.com)`);

  const api = new HerokuApi({ baseUrl: request.api.url, apiKey: request.apiKey, network: request.network, userAgent: request.userAgent, debug: (l) => log.debug(l), warn: (l) => log.warn(l) });
  const context = { apiUrl: request.api.url, app };
  const call = async <T>(doing: string, body: () => Promise<T>, email?: string): Promise<T> => {
    try {
      return await body();
    } catch (error) {
      throw explainApiError(error, { ...context, doing, email });
    }
  };

  // Local facts first: a bad checkout or ref fails before anything is asked of Heroku.
  const sha = await resolveCommit(cwd, request.ref, signal);
  const subject = await commitSubject(cwd, sha, signal);

  const account = await call('checking the API key', () => api.get<Account>('/account'));
  const email = account.email ?? 'unknown account';
  log.info(`Deploying as ${email}.`);
  const appInfo = await call(`reading the app ${app}`, () => api.get<App>(`/apps/${enc(app)}`), email);
  const appUrl = appInfo.web_url ?? null;

  const branch = describeBranch(request.sourceBranch);
  log.info(`Deploying commit ${short(sha)} "${subject}"${branch ? ` (${branch})` : ''} to ${app}${appUrl ? ` (${appUrl})` : ''}.`);
  if (request.sourceVersion && request.ref === 'HEAD' && request.sourceVersion !== sha) {
    log.info(`Note: the checkout's HEAD (${short(sha)}) is not Build.SourceVersion (${short(request.sourceVersion)}); deploying HEAD, what the job checked out.`);
  }

  const before = await call(`listing the releases of ${app}`, () => releaseSnapshot(api, app), email);
  const repoUrl = `${request.git.url}/${app}.git`;
  const gitRequest = { cwd, repoUrl, apiKey: request.apiKey, network: request.network, signal };
  const heads = await herokuHeads(gitRequest);
  if (heads.outcome) throw explainPushFailure(heads.outcome, { app, sha, herokuHead: null, gitUrl: request.git.url, shallow: false });

  const finish = (outcome: DeployOutcome, release: Release, previous: Release | null, previousCommit: string | null): DeployResult => ({
    outcome,
    app,
    appUrl,
    account: email,
    release: releaseFields(release),
    previous: previous ? { id: String(previous.id), version: previous.version ?? 0, commit: previousCommit } : null,
    commit: sha,
    subject,
    branch,
    durationMs: Date.now() - started,
    apiCalls: api.requestCount,
  });

  if (heads.head === sha) {
    log.info(`Heroku's main branch of ${app} is already at ${short(sha)}: nothing to push.`);
    return alreadyOnHeroku(api, app, sha, before, log, signal, call, email, finish);
  }

  await ensureHistory({ cwd, sha, herokuHead: heads.head, force: request.force, originAccess: request.originAccess, network: request.network, signal, log });
  const outcome = await log.group(`git push ${short(sha)} to ${app} on Heroku${request.force ? ' (force)' : ''}`, () =>
    pushToHeroku({ ...gitRequest, sha, force: request.force, onLine: (line) => log.info(line) }),
  );

  if (outcome.status === 'up-to-date') return alreadyOnHeroku(api, app, sha, before, log, signal, call, email, finish);
  if (outcome.status !== 'pushed') {
    throw explainPushFailure(outcome, { app, sha, herokuHead: heads.head, gitUrl: request.git.url, shallow: await isShallow(cwd, signal) });
  }
  if (outcome.skippedBuild) {
    throw new DeployError('skipped', `Heroku accepted the push but built nothing ("skipping build"): only pushes to main or master are deployed. Nothing went live on ${app}.`);
  }

  const afterVersion = before.latest?.version ?? 0;
  let release = await call(`finding the release of ${short(sha)}`, () => pushedRelease(api, app, outcome.releasedVersion, afterVersion), email);
  release = await call(`waiting for v${release.version}`, () => settleRelease(api, app, release, { log, signal }), email);
  await verifyRelease(api, app, sha, release, before.current, null, call, email);
  return finish('released', release, before.current, null);
}

type Call = <T>(doing: string, body: () => Promise<T>, email?: string) => Promise<T>;

/** Fails unless `release` succeeded and runs `sha`. */
async function verifyRelease(api: HerokuApi, app: string, sha: string, release: Release, previous: Release | null, previousCommit: string | null, call: Call, email: string): Promise<void> {
  if (release.status === 'failed') {
    const now = await call('checking which release is live', () => releaseSnapshot(api, app), email);
    const live = now.current;
    const liveText = live
      ? `Heroku kept v${live.version} live${live.id === previous?.id && previousCommit ? ` (commit ${short(previousCommit)})` : ''}`
      : 'no release is live';
    throw new DeployError(
      'release-phase',
      `The release phase of v${release.version} failed: its release command exited non-zero, so ${liveText} and ${short(sha)} is not serving traffic. The push log above shows the command's output (also \`heroku releases:output ${release.version} -a ${app}\`); fix it and run the pipeline again (the same commit is released again).`,
    );
  }
  if (release.status !== 'succeeded') {
    throw new DeployError('verification', `Release v${release.version} of ${app} ended ${release.status ?? 'in an unknown state'}, not succeeded: check \`heroku releases -a ${app}\`.`);
  }
  const commit = await call(`reading the code of v${release.version}`, () => releaseCommit(api, app, release), email);
  if (commit !== sha) {
    throw new DeployError(
      'verification',
      `Heroku's release v${release.version} runs commit ${commit ? short(commit) : '(none)'}, not the pushed ${short(sha)}: another deploy may have raced this one. Check \`heroku releases -a ${app}\` and run the pipeline again.`,
    );
  }
}

/** Heroku's main already has `sha`: succeed if it is live, else release it again. */
async function alreadyOnHeroku(
  api: HerokuApi,
  app: string,
  sha: string,
  before: ReleaseSnapshot,
  log: DeployLog,
  signal: AbortSignal | undefined,
  call: Call,
  email: string,
  finish: (outcome: DeployOutcome, release: Release, previous: Release | null, previousCommit: string | null) => DeployResult,
): Promise<DeployResult> {
  const current = before.current;
  const liveCommit = current ? await call('reading the live release', () => releaseCommit(api, app, current), email) : null;
  if (current && liveCommit === sha) {
    log.info(`v${current.version} of ${app} already runs ${short(sha)}: no new release.`);
    return finish('already-deployed', current, current, liveCommit);
  }
  log.info(`The live release${current ? ` (v${current.version})` : ''} runs ${liveCommit ? short(liveCommit) : 'no code'}, not ${short(sha)} (an earlier release phase failed, or the app was rolled back): releasing ${short(sha)} again.`);
  let release = await call(`releasing ${short(sha)} again`, () => releaseAgain(api, app, sha, before.recent), email);
  release = await call(`waiting for v${release.version}`, () => settleRelease(api, app, release, { log, signal }), email);
  await verifyRelease(api, app, sha, release, current, liveCommit, call, email);
  return finish('re-released', release, current, liveCommit);
}
