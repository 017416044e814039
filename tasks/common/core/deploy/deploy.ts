// HerokuDeploy: deploy the commit the pipeline built and prove what went live. The checkout and the
// ref are checked first, then the key and the app (created if asked), then the safe-release sequence
// runs with a git push as its release.
import { settled } from '../base/async';
import { TaskError, toTaskError } from '../base/errors';
import { short } from '../base/format';
import type { TaskLog } from '../base/log';
import { readCommit } from '../git/git';
import { basicCredentials } from '../git/push';
import type { Account, App } from '../heroku/api';
import { createApp } from '../heroku/app-changes';
import { clientFor, type AppClient } from '../heroku/client';
import type { Outcome } from '../workflow/report';
import { SafeRelease } from '../workflow/safe-release';
import { readsFirst } from '../workflow/safeguards';
import { Steps } from '../workflow/steps';
import type { ReleaseStrategy } from '../workflow/safe-release';
import { buildApiRelease, formatBytes, prepareSource, uploadSource, type PackedSource } from './build-api-release';
import { gitPushRelease, type Pushed } from './git-push-release';
import type { DeployProgress, DeployRequest, DeployResult, DeploySource } from './types';

/** `refs/heads/feature/login` -> `feature/login`; `refs/pull/42/merge` -> `pull request #42`. */
export function describeBranch(sourceBranch: string | undefined): string | null {
  if (!sourceBranch) return null;
  const pull = /^refs\/pull\/(\d+)\/(merge|head)$/.exec(sourceBranch);
  if (pull) return `pull request #${pull[1]}`;
  if (sourceBranch.startsWith('refs/heads/')) return sourceBranch.slice('refs/heads/'.length);
  if (sourceBranch.startsWith('refs/tags/')) return `tag ${sourceBranch.slice('refs/tags/'.length)}`;
  return sourceBranch;
}

/** Deploys; a failure comes back with the steps it got through, never thrown. */
export async function deploy(request: DeployRequest, log: TaskLog): Promise<Outcome<DeployResult, DeployProgress>> {
  const { signal, safeguards } = request;
  const app = clientFor(request, log).forApp(request.appName);
  const steps = new Steps(log, signal);
  const safeRelease = new SafeRelease({ app, safeguards, network: request.network, log, steps, signal });
  try {
    return { ok: true, result: await run(request, log, { app, steps, safeRelease }) };
  } catch (error) {
    const partial = {
      steps: steps.records,
      rolledBack: safeRelease.rolledBack,
      healthCheckStatus: safeRelease.healthCheckStatus,
    };
    return { ok: false, failure: toTaskError(error), partial };
  }
}

interface Deployment {
  app: AppClient;
  steps: Steps;
  safeRelease: SafeRelease;
}

async function run(request: DeployRequest, log: TaskLog, deployment: Deployment): Promise<DeployResult> {
  const startedAt = Date.now();
  const { signal, workingDirectory: cwd } = request;
  log.secret(basicCredentials(request.apiKey));
  if (!request.git.isDefault)
    log.info(`Heroku git: ${request.git.url} (from ${request.git.source}, not the default https://git.heroku.com)`);

  // A bad checkout or ref fails before anything is asked of Heroku.
  const { sha, subject, shallow } = await readCommit(cwd, request.ref, signal);
  const source = request.source ?? { method: 'git' };
  // A Build API deploy checks and packs its folder before anything changes (app creation included).
  const packed =
    source.method === 'build' ? await prepareSource({ cwd, sha, ...source, signal }, log, request.tempDirectory) : null;
  try {
    return await deployCommit(request, log, deployment, { sha, subject, shallow, source, packed, startedAt });
  } finally {
    await packed?.discard();
  }
}

interface Commit {
  sha: string;
  subject: string;
  shallow: boolean;
  source: DeploySource;
  packed: PackedSource | null;
  startedAt: number;
}

async function deployCommit(
  request: DeployRequest,
  log: TaskLog,
  { app, steps, safeRelease }: Deployment,
  { sha, subject, shallow, source, packed, startedAt }: Commit,
): Promise<DeployResult> {
  const { signal, workingDirectory: cwd, safeguards } = request;
  const { known, start: startChecks } = accountAndApp(app, request, log);

  // Safeguards read and change the app before the release, so they need it first; a plain deploy
  // pushes at once, reading the account and the app while git pushes (nothing waits for them before
  // the push ends; their connection is then open for the release's reads).
  let appInfo: App | null = null;
  // Stryker disable next-line BooleanLiteral: read only with stopProcessTypes, a safeguard that sets it below (readsFirst)
  let created = false;
  if (readsFirst(safeguards)) {
    const found = (await known()).app;
    created = !found;
    appInfo = found ?? (await create(app, request, steps));
  }
  const branch = describeBranch(request.sourceBranch);
  const urlText = appInfo?.web_url ? ` (${appInfo.web_url})` : '';
  log.info(`Deploying commit ${short(sha)} "${subject}"${branch ? ` (${branch})` : ''} to ${app.name}${urlText}.`);
  if (request.sourceVersion && request.ref === 'HEAD' && request.sourceVersion !== sha) {
    log.info(
      `Note: the checkout's HEAD (${short(sha)}) is not Build.SourceVersion (${short(request.sourceVersion)}); deploying HEAD, what the job checked out.`,
    );
  }

  let pushed;
  if (packed) {
    pushed = await buildDeploy({
      request,
      app,
      sha,
      subject,
      source,
      packed,
      log,
      checks: known,
      run: (s) => safeRelease.run(s, appInfo, created),
    });
  } else {
    const strategy = gitPushRelease({
      app,
      sha,
      cwd,
      gitUrl: request.git.url,
      apiKey: request.apiKey,
      force: request.force,
      shallow,
      originAccess: request.originAccess,
      network: request.network,
      signal,
      log,
      checks: async () => void (await known()),
      startChecks,
    });
    pushed = await safeRelease.run(strategy, appInfo, created);
  }
  // Read by now (before the push or the upload, or while git pushed), and a failed read has already
  // failed the deploy; the catch only guards against a path that skipped them.
  // Stryker disable next-line ArrowFunction: undefined and null read the same through `after?.`
  const after = await known().catch(() => null);

  const { release, previous } = pushed;
  return {
    outcome: pushed.outcome,
    app: app.name,
    appUrl: (appInfo ?? after?.app)?.web_url ?? null,
    // Stryker disable next-line StringLiteral: unreachable: every release path awaited known() first (afterPush, buildDeploy, readsFirst), so `after` is set and its email already falls back to 'unknown account'
    account: after?.email ?? 'unknown account',
    release: {
      id: String(release.id),
      version: release.version ?? 0,
      // Stryker disable next-line StringLiteral: a release reported here succeeded (verified), so it has a status
      status: release.status ?? 'unknown',
      description: release.description ?? '',
    },
    previous: previous ? { id: String(previous.id), version: previous.version ?? 0, commit: pushed.previousCommit } : null,
    commit: sha,
    subject,
    branch,
    durationMs: Date.now() - startedAt,
    steps: steps.records,
    healthCheckStatus: safeRelease.healthCheckStatus,
    source,
  };
}

interface BuildDeploy {
  request: DeployRequest;
  app: AppClient;
  sha: string;
  subject: string;
  source: DeploySource;
  packed: PackedSource;
  log: TaskLog;
  checks: () => Promise<AccountAndApp>;
  run: (strategy: ReleaseStrategy<Pushed>) => Promise<Pushed>;
}

/**
 * deployMethod: build. The tarball (packed before anything changed) is uploaded before the
 * safe-release sequence starts, so maintenance mode lasts only the build.
 */
async function buildDeploy(d: BuildDeploy): Promise<Pushed> {
  const { request, app, sha, log, packed } = d;
  const { signal } = request;
  // Stryker disable next-line StringLiteral: unreachable: run() packs a source (packed is set) only when its method is build; the guard narrows the type
  if (d.source.method !== 'build') throw new TaskError('unexpected', 'a Build API deploy without its folder');
  // The app and the key are checked before the upload: a wrong app name fails before any transfer.
  await d.checks();
  const getUrl = await log.group(`Upload the source (${formatBytes(packed.bytes)})`, () => uploadSource(app, packed, signal));
  const strategy = buildApiRelease({
    app,
    sha,
    subject: d.subject,
    source: d.source,
    getUrl,
    sha256: packed.sha256,
    log,
    signal,
  });
  return d.run(strategy);
}

interface AccountAndApp {
  email: string;
  /** Null when it does not exist and `createApp` is set (else its absence is an error). */
  app: App | null;
}

/**
 * The key's account and the app, read together and at most once. `start()` sends the requests;
 * `known()` (sending them too, if not yet) waits for them, says which account deploys, and reports a
 * failure in that order: a wrong key explains a missing app.
 */
function accountAndApp(
  app: AppClient,
  request: DeployRequest,
  log: TaskLog,
): { start: () => void; known: () => Promise<AccountAndApp> } {
  let requests: Promise<[PromiseSettledResult<Account>, PromiseSettledResult<App | null>]> | undefined;
  // Settled results: started early, a failure waits unhandled-free for `known()` to report it.
  const send = () =>
    (requests ??= Promise.allSettled([
      app.account(),
      request.safeguards.createApp
        ? app.find<App>(app.path(), `reading the app ${app.name}`)
        : app.get<App>(app.path(), `reading the app ${app.name}`),
    ]));
  let reads: Promise<AccountAndApp> | undefined;
  const read = async (): Promise<AccountAndApp> => {
    const [account, found] = await send();
    const email = (await settled(account)).email ?? 'unknown account';
    log.info(`Deploying as ${email}.`);
    return { email, app: await settled(found) };
  };
  return { start: () => void send(), known: () => (reads ??= read()) };
}

/** Creates the app (createApp: true and it does not exist); its creation stays, whatever follows. */
function create(app: AppClient, request: DeployRequest, steps: Steps): Promise<App> {
  const creation = request.safeguards.createApp!;
  const describe = (created: App): string =>
    [
      created.region?.name && `region ${created.region.name}`,
      created.stack?.name && `stack ${created.stack.name}`,
      created.team?.name && `team ${created.team.name}`,
    ]
      .filter(Boolean)
      .join(', ');
  return steps.run(`Create the app ${app.name}`, () => createApp(app, app.name, creation), describe);
}
