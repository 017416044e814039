// The heart of a deploy: push the commit to the app's main on Heroku (fetching the history a
// shallow checkout lacks), then find the release it made, wait out its release phase and check
// from the Platform API that it runs the commit. Heroku already having the commit is handled too.
import type { DeployOutcome } from './deploy';
import { DeployError } from './errors';
import type { HerokuApi, Release } from './heroku-api';
import { ensureHistory, type OriginAccess } from './history';
import type { DeployLog } from './log';
import type { NetworkSettings } from './network';
import { explainPushFailure, herokuHeads, pushToHeroku, type PushOutcome } from './push';
import { releaseAgain, releaseCommit, releaseSnapshot, settleRelease, type ReleaseSnapshot } from './release';
import { short } from './summary';

export interface PushTarget {
  api: HerokuApi;
  app: string;
  sha: string;
  cwd: string;
  gitUrl: string;
  apiKey: string;
  force: boolean;
  shallow: boolean;
  originAccess: OriginAccess | null;
  network: NetworkSettings;
  signal?: AbortSignal;
  log: DeployLog;
  /** Runs a Platform API step, turning its failure into a message that says what to do. */
  call<T>(doing: string, body: () => Promise<T>): Promise<T>;
}

export interface PushResult {
  outcome: DeployOutcome;
  release: Release;
  /** The release live before (the same release when nothing changed). */
  previous: Release | null;
  previousCommit: string | null;
}


/** The release live before `release`: the newest one below it that succeeded. */
function liveBefore(snapshot: ReleaseSnapshot, release: Release): Release | null {
  return snapshot.recent.find((r) => (r.version ?? 0) < (release.version ?? 0) && r.status === 'succeeded') ?? null;
}

export async function pushAndRelease(target: PushTarget): Promise<PushResult> {
  const { app, sha, log, shallow, force } = target;
  const repoUrl = `${target.gitUrl}/${app}.git`;
  const gitRequest = { cwd: target.cwd, repoUrl, apiKey: target.apiKey, network: target.network, signal: target.signal };
  const headOnHeroku = async (): Promise<string | null> => {
    const heads = await herokuHeads(gitRequest);
    if (heads.outcome) throw explainPushFailure(heads.outcome, { app, sha, herokuHead: null, gitUrl: target.gitUrl, shallow });
    return heads.head;
  };

  // Only a shallow checkout needs Heroku's head before pushing: to fetch the history it lacks.
  let herokuHead: string | null | undefined;
  if (shallow) {
    herokuHead = await headOnHeroku();
    if (herokuHead === sha) return alreadyOnHeroku(target);
    await ensureHistory({ cwd: target.cwd, sha, herokuHead, force, originAccess: target.originAccess, network: target.network, signal: target.signal, log });
  }

  const outcome = await log.group(`git push ${short(sha)} to ${app} on Heroku${force ? ' (force)' : ''}`, () =>
    pushToHeroku({ ...gitRequest, sha, force, onLine: (line) => log.info(line) }),
  );
  if (outcome.status === 'up-to-date') return alreadyOnHeroku(target);
  if (outcome.status !== 'pushed') {
    const diverged = outcome.reason === 'fetch first' || outcome.reason === 'non-fast-forward';
    if (diverged && herokuHead === undefined) herokuHead = await headOnHeroku().catch(() => null);
    throw explainPushFailure(outcome, { app, sha, herokuHead: herokuHead ?? null, gitUrl: target.gitUrl, shallow });
  }
  if (outcome.skippedBuild) {
    throw new DeployError('skipped', `Heroku accepted the push but built nothing ("skipping build"): only pushes to main or master are deployed. Nothing went live on ${app}.`);
  }
  return released(target, outcome);
}

/** After a push: the release it made (Heroku printed `Released vN`), settled and verified. */
async function released(target: PushTarget, outcome: PushOutcome): Promise<PushResult> {
  const { app, api } = target;
  const snapshot = await target.call(`listing the releases of ${app}`, () => releaseSnapshot(api, app));
  const printed = outcome.releasedVersion;
  let release = printed === null ? snapshot.latest : snapshot.recent.find((r) => r.version === printed);
  if (!release && printed !== null) release = await target.call(`reading v${printed}`, () => api.get<Release>(`/apps/${encodeURIComponent(app)}/releases/${printed}`));
  if (!release) {
    throw new DeployError('verification', `The push to ${app} succeeded but Heroku shows no release of it. Check \`heroku builds -a ${app}\` and \`heroku releases -a ${app}\`; re-running the job releases the pushed commit if its build succeeded.`);
  }
  const previous = liveBefore(snapshot, release);
  const settled = await settle(target, release);
  await verifyRelease(target, settled, previous, null);
  return { outcome: 'released', release: settled, previous, previousCommit: null };
}

function settle(target: PushTarget, release: Release): Promise<Release> {
  return target.call(`waiting for v${release.version}`, () => settleRelease(target.api, target.app, release, { log: target.log, signal: target.signal }));
}

/** Fails unless `release` succeeded and runs the commit asked for. */
async function verifyRelease(target: Pick<PushTarget, 'api' | 'app' | 'sha' | 'call'>, release: Release, previous: Release | null, previousCommit: string | null): Promise<void> {
  const { app, sha, api } = target;
  if (release.status === 'failed') {
    const live = (await target.call('checking which release is live', () => releaseSnapshot(api, app))).current;
    const liveText = live ? `Heroku kept v${live.version} live${live.id === previous?.id && previousCommit ? ` (commit ${short(previousCommit)})` : ''}` : 'no release is live';
    throw new DeployError(
      'release-phase',
      `The release phase of v${release.version} failed: its release command exited non-zero, so ${liveText} and ${short(sha)} is not serving traffic. The log above shows the command's output (also \`heroku releases:output ${release.version} -a ${app}\`); fix it and run the pipeline again (the same commit is released again).`,
    );
  }
  if (release.status !== 'succeeded') {
    throw new DeployError('verification', `Release v${release.version} of ${app} ended ${release.status ?? 'in an unknown state'}, not succeeded: check \`heroku releases -a ${app}\`.`);
  }
  const commit = await target.call(`reading the code of v${release.version}`, () => releaseCommit(api, app, release));
  if (commit !== sha) {
    throw new DeployError(
      'verification',
      `Heroku's release v${release.version} runs commit ${commit ? short(commit) : '(none)'}, not the pushed ${short(sha)}: another deploy may have raced this one. Check \`heroku releases -a ${app}\` and run the pipeline again.`,
    );
  }
}

/** Heroku's main already has the commit: succeed if it is live, else release it again. */
async function alreadyOnHeroku(target: PushTarget): Promise<PushResult> {
  const { app, sha, log, api } = target;
  log.info(`Heroku's main branch of ${app} is already at ${short(sha)}: nothing to push.`);
  const snapshot = await target.call(`listing the releases of ${app}`, () => releaseSnapshot(api, app));
  const current = snapshot.current;
  const liveCommit = current ? await target.call('reading the live release', () => releaseCommit(api, app, current)) : null;
  if (current && liveCommit === sha) {
    log.info(`v${current.version} of ${app} already runs ${short(sha)}: no new release.`);
    return { outcome: 'already-deployed', release: current, previous: current, previousCommit: liveCommit };
  }
  log.info(
    `The live release${current ? ` (v${current.version})` : ''} runs ${liveCommit ? short(liveCommit) : 'no code'}, not ${short(sha)} (an earlier release phase failed, or the app was rolled back): releasing ${short(sha)} again.`,
  );
  const release = await settle(target, await target.call(`releasing ${short(sha)} again`, () => releaseAgain(api, app, sha, snapshot.recent)));
  await verifyRelease(target, release, current, liveCommit);
  return { outcome: 're-released', release, previous: current, previousCommit: liveCommit };
}
