// The git-push release strategy: push the commit to the app's main on Heroku (fetching the history a
// shallow checkout lacks), then find the release it made, wait out its release phase and check from
// the Platform API that it runs the commit. Heroku already having the commit is handled too.
import { settled } from '../base/async';
import { TaskError, toTaskError } from '../base/errors';
import { short } from '../base/format';
import type { TaskLog } from '../base/log';
import type { NetworkSettings } from '../base/network';
import { ensureHistory, type OriginAccess } from '../git/history';
import { explainPushFailure, herokuHeads, pushToHeroku, type PushOutcome } from '../git/push';
import type { Build, Release } from '../heroku/api';
import type { AppClient } from '../heroku/client';
import {
  deploysCommit,
  readRelease,
  releaseAgain,
  releaseCommit,
  releaseSnapshot,
  settleRelease,
  type ReleaseSnapshot,
} from '../heroku/releases';
import type { ReleaseStrategy, Released } from '../workflow/safe-release';
import type { DeployOutcome } from './types';

export interface PushTarget {
  app: AppClient;
  sha: string;
  cwd: string;
  gitUrl: string;
  apiKey: string;
  force: boolean;
  shallow: boolean;
  originAccess: OriginAccess | null;
  network: NetworkSettings;
  signal?: AbortSignal;
  log: TaskLog;
  /**
   * The deploy's own reads (the key's account, the app), at most once: sent while git pushes
   * (`startChecks`), waited for with the release's reads after it. Their failure (a wrong key, a
   * missing app) explains a failed push better than git can, so it is thrown first.
   */
  checks: () => Promise<void>;
  /** Sends the checks' requests without waiting for them. */
  startChecks: () => void;
}

export interface Pushed extends Released {
  outcome: DeployOutcome;
  /** The release live before (the same release when nothing changed). */
  previous: Release | null;
  previousCommit: string | null;
}

export function gitPushRelease(target: PushTarget): ReleaseStrategy<Pushed> {
  return {
    title: `Deploy ${short(target.sha)}`,
    release: () => pushAndRelease(target),
    describe: (p) => `${p.outcome === 'already-deployed' ? 'already live as' : 'released'} v${p.release.version}`,
  };
}

/** The release live before `release`: the newest one below it that succeeded. */
function liveBefore(snapshot: ReleaseSnapshot, release: Release): Release | null {
  return snapshot.recent.find((r) => (r.version ?? 0) < (release.version ?? 0) && r.status === 'succeeded') ?? null;
}

async function pushAndRelease(target: PushTarget): Promise<Pushed> {
  const { sha, log, shallow, force } = target;
  const app = target.app.name;
  const repoUrl = `${target.gitUrl}/${app}.git`;
  const gitRequest = { cwd: target.cwd, repoUrl, apiKey: target.apiKey, network: target.network, signal: target.signal };
  const failure = async (outcome: PushOutcome, herokuHead: string | null): Promise<Error> => {
    await target.checks();
    return explainPushFailure(outcome, { app, sha, herokuHead, gitUrl: target.gitUrl, shallow });
  };
  const headOnHeroku = async (): Promise<string | null> => {
    const heads = await herokuHeads(gitRequest);
    if (heads.outcome) throw await failure(heads.outcome, null);
    return heads.head;
  };

  // Only a shallow checkout needs Heroku's head before pushing: to fetch the history it lacks.
  let herokuHead: string | null | undefined;
  if (shallow) {
    herokuHead = await headOnHeroku();
    if (herokuHead === sha) return alreadyOnHeroku(target, await afterPush(target));
    await ensureHistory({
      cwd: target.cwd,
      sha,
      herokuHead,
      force,
      originAccess: target.originAccess,
      network: target.network,
      signal: target.signal,
      log,
    });
  }

  // Nothing is asked of the API before the push starts: its HTTP stack loads, and the checks are
  // sent, while git pushes (so that only the release's reads are left once it ends).
  target.app.prepare();
  const outcome = await log.group(`git push ${short(sha)} to ${app} on Heroku${force ? ' (force)' : ''}`, () => {
    const pushing = pushToHeroku({ ...gitRequest, sha, force, onLine: (line) => log.info(line) });
    target.startChecks();
    return pushing;
  });
  if (outcome.status === 'up-to-date') return alreadyOnHeroku(target, await afterPush(target));
  if (outcome.status !== 'pushed') {
    const diverged = outcome.reason === 'fetch first' || outcome.reason === 'non-fast-forward';
    // Stryker disable next-line ArrowFunction: the head is only passed on as `herokuHead ?? null`, so an unread head is null either way
    if (diverged && herokuHead === undefined) herokuHead = await headOnHeroku().catch(() => null);
    throw await failure(outcome, herokuHead ?? null);
  }
  if (outcome.skippedBuild) {
    throw new TaskError(
      'skipped',
      `Heroku accepted the push but built nothing ("skipping build"): only pushes to main or master are deployed. Nothing went live on ${app}.`,
    );
  }
  return released(target, await afterPush(target));
}

/** What one round trip after the push tells: the recent releases and builds. */
interface AfterPush {
  snapshot: ReleaseSnapshot;
  /** The newest succeeded build of the commit; null when none is listed. */
  build: Build | null;
}

/**
 * The reads after a push, all at once: the deploy's own checks, the recent releases and the recent
 * builds. A failed check fails the deploy as it would have before the push, saying that the push
 * went through.
 */
async function afterPush(target: PushTarget): Promise<AfterPush> {
  const { app, sha } = target;
  const [checked, snapshot, builds] = await Promise.allSettled([
    target.checks(),
    releaseSnapshot(app),
    app.list<Build>(app.path('builds'), `listing the builds of ${app.name}`, 'created_at ..; order=desc, max=10'),
  ]);
  if (checked.status === 'rejected') {
    const failure = toTaskError(checked.reason);
    throw new TaskError(
      failure.kind,
      `${failure.message} The push of ${short(sha)} had gone through before this was found: \`heroku releases -a ${app.name}\` shows whether it went live.`,
      failure.details,
    );
  }
  return {
    snapshot: await settled(snapshot),
    // Text in the push output (`Released vN`) is never trusted for this: a release command can print anything.
    build: (await settled(builds)).find((b) => b.source_blob?.version === sha && b.status === 'succeeded') ?? null,
  };
}

/**
 * The commit `release` runs. When it is the release of `build` and runs that build's slug, the build
 * says which commit (no further read); otherwise (no build listed, Fir's OCI images) its slug or image
 * is read.
 */
export function commitOf(app: AppClient, release: Release, build: Build | null): Promise<string | null> {
  const slug = build?.slug?.id;
  // Stryker disable next-line OptionalChaining: a build is taken only when its source_blob.version is the commit
  if (slug && release.slug?.id === slug) return Promise.resolve(build.source_blob?.version ?? null);
  return releaseCommit(app, release);
}

/** After a push: the release its build made, settled and verified. */
async function released(target: PushTarget, { snapshot, build }: AfterPush): Promise<Pushed> {
  const { app } = target;
  const releaseId = build?.release?.id;
  // No build listed for the commit (an API without the builds list): the newest release, if it says it deploys the commit.
  let release = releaseId
    ? snapshot.recent.find((r) => r.id === releaseId)
    : build === null && snapshot.latest && deploysCommit(snapshot.latest, target.sha)
      ? snapshot.latest
      : undefined;
  if (!release && releaseId)
    release = await readRelease(app, releaseId, `reading the release of the build of ${short(target.sha)}`);
  if (!release) {
    throw new TaskError(
      'verification',
      `The push to ${app.name} succeeded but Heroku shows no release of its build. Check \`heroku builds -a ${app.name}\` and \`heroku releases -a ${app.name}\`; re-running the job releases the pushed commit if its build succeeded.`,
    );
  }
  const previous = liveBefore(snapshot, release);
  const settledRelease = await settleRelease(app, release, { log: target.log, signal: target.signal });
  await verifyRelease(target, settledRelease, { previous, previousCommit: null, build });
  return { outcome: 'released', release: settledRelease, commit: target.sha, previous, previousCommit: null };
}

/** Fails unless `release` succeeded and runs the commit asked for (either release strategy's proof). */
export async function verifyRelease(
  target: Pick<PushTarget, 'app' | 'sha'>,
  release: Release,
  known: { previous: Release | null; previousCommit: string | null; build: Build | null },
): Promise<void> {
  const { app, sha } = target;
  const { previous, previousCommit } = known;
  if (release.status === 'failed') {
    const live = (await releaseSnapshot(app, { doing: 'checking which release is live' })).current;
    const liveText = live
      ? `Heroku kept v${live.version} live${live.id === previous?.id && previousCommit ? ` (commit ${short(previousCommit)})` : ''}`
      : 'no release is live';
    throw new TaskError(
      'release-phase',
      `The release phase of v${release.version} failed: its release command exited non-zero, so ${liveText} and ${short(sha)} is not serving traffic. The log above shows the command's output (also \`heroku releases:output ${release.version} -a ${app.name}\`); fix it and run the pipeline again (the same commit is released again).`,
    );
  }
  if (release.status !== 'succeeded') {
    throw new TaskError(
      'verification',
      `Release v${release.version} of ${app.name} ended ${release.status ?? 'in an unknown state'}, not succeeded: check \`heroku releases -a ${app.name}\`.`,
    );
  }
  const commit = await commitOf(app, release, known.build);
  if (commit !== sha) {
    throw new TaskError(
      'verification',
      `Heroku's release v${release.version} runs commit ${commit ? short(commit) : '(none)'}, not the deployed ${short(sha)}: another deploy may have raced this one. Check \`heroku releases -a ${app.name}\` and run the pipeline again.`,
    );
  }
}

/** Heroku's main already has the commit: succeed if it is live, else release it again. */
async function alreadyOnHeroku(target: PushTarget, { snapshot, build }: AfterPush): Promise<Pushed> {
  const { app, sha, log } = target;
  log.info(`Heroku's main branch of ${app.name} is already at ${short(sha)}: nothing to push.`);
  const current = snapshot.current;
  const liveCommit = current ? await commitOf(app, current, build) : null;
  if (current && liveCommit === sha) {
    log.info(`v${current.version} of ${app.name} already runs ${short(sha)}: no new release.`);
    return { outcome: 'already-deployed', release: current, commit: sha, previous: current, previousCommit: liveCommit };
  }
  log.info(
    `The live release${current ? ` (v${current.version})` : ''} runs ${liveCommit ? short(liveCommit) : 'no code'}, not ${short(sha)} (an earlier release phase failed, or the app was rolled back): releasing ${short(sha)} again.`,
  );
  const again = await releaseAgain(app, sha, snapshot.recent);
  const release = await settleRelease(app, again, { log, signal: target.signal });
  // The release made from the slug of an older release of the commit: read what it runs.
  await verifyRelease(target, release, { previous: current, previousCommit: liveCommit, build: null });
  return { outcome: 're-released', release, commit: sha, previous: current, previousCommit: liveCommit };
}
