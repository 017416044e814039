// HerokuPromote: promote the release an app of a Heroku pipeline runs — the very same slug, not a
// rebuild — to the apps downstream, in this order: find the pipeline and the targets -> check the
// source runs the expected commit -> diff each target -> create the promotion -> follow it to
// completed -> verify each target's new release -> health check each, rolling back the ones that fail.
// Everything is checked before the promotion is created; after it, every target is reported, whatever
// happened to the others.
import type * as Heroku from '@heroku-cli/schema';
import { explainApiError } from './api-errors';
import { commitsBetween, formatCommit, type CommitDiff, type CommitRange } from './commit-diff';
import type { Endpoint } from './endpoints';
import { DeployError, errorMessage, settled } from './errors';
import { healthCheckUrl } from './health-check';
import { checkHealthOrRollBack } from './health-rollback';
import { HerokuApi, type Account, type App, type Release } from './heroku-api';
import type { DeployLog } from './log';
import type { NetworkSettings } from './network';
import { couplingOf, downstreamStage, pipelineCouplings, PROMOTION_ORDER, type Coupling, type Stage } from './pipelines';
import { promotionOutputs, promotionResultLine, promotionSummaryMarkdown } from './promotion-summary';
import { artifactOf, releaseCommit, releaseSnapshot, settleRelease } from './release';
import type { HealthCheckOptions } from './safeguards';
import { Steps, type StepRecord } from './steps';
import { failureSummaryMarkdown, short } from './summary';

export interface PromoteRequest {
  apiKey: string;
  api: Endpoint;
  sourceApp: string;
  /** The apps to promote to; empty: the apps of the next stage downstream of sourceApp. */
  targetApps: string[];
  /** Refuse unless the source's current release runs this commit (a full or abbreviated SHA). */
  expectedCommit: string | null;
  healthCheck: HealthCheckOptions | null;
  rollbackOnFailure: boolean;
  /** A checkout whose history lists the commits promoted; it may be missing or not a checkout. */
  workingDirectory: string;
  network: NetworkSettings;
  signal?: AbortSignal;
  userAgent?: string;
  /** Time between reads of a running promotion. */
  pollMs?: number;
}

/**
 * - promoted: the new release is live (and healthy, with a health check);
 * - same-commit: the target already ran the source's commit, so it was not part of the promotion;
 * - failed: the promotion did not make a live release of the commit there (Heroku kept the previous);
 * - unhealthy: the new release failed its health check and stays live (no rollback asked or possible);
 * - rolled-back: it failed its health check and the release live before is back, healthy;
 * - rollback-failed: it failed its health check and the rollback did not recover the app.
 */
export type TargetOutcome = 'promoted' | 'same-commit' | 'failed' | 'unhealthy' | 'rolled-back' | 'rollback-failed';

export interface ReleaseFacts {
  id: string;
  version: number;
  status: string;
  /** The commit it runs, or null when Heroku records none (or it has no code). */
  commit: string | null;
}

export interface TargetResult {
  app: string;
  appUrl: string | null;
  stage: Stage | null;
  outcome: TargetOutcome;
  /** The release live before the promotion (null for an app that never ran code). */
  before: ReleaseFacts | null;
  /** The release the promotion made, when it made one. */
  release: ReleaseFacts | null;
  /** The release live when the task ends. */
  live: ReleaseFacts | null;
  /** The last status the health check saw, or null without one. */
  healthCheckStatus: string | null;
  /** The commits between what the target ran and the source's, or null when there is nothing to list. */
  diff: CommitDiff | null;
  /** Why this target failed, or null. */
  failure: DeployError | null;
}

export interface PromoteResult {
  source: { app: string; appUrl: string | null; stage: Stage; release: ReleaseFacts };
  pipeline: { id: string; name: string };
  /** Null when no promotion was created (every target already ran the commit). */
  promotionId: string | null;
  /** The commit promoted (the source's), or null when Heroku records none for its slug. */
  commit: string | null;
  targets: TargetResult[];
  account: string;
  durationMs: number;
  steps: StepRecord[];
}

type PipelinePromotion = Heroku.PipelinePromotion;
type PromotionTarget = Heroku.PipelinePromotionTarget;

/** A target as resolved before anything changes. */
interface Target {
  name: string;
  /** The app's id (promotions and couplings name apps by id). */
  id: string;
  app: App;
  stage: Stage | null;
  /** The health check URL for this app, or null without a health check. */
  healthUrl: string | null;
  current: Release | null;
  before: ReleaseFacts | null;
  diff: CommitDiff | null;
}

const enc = encodeURIComponent;
const PROMOTION_TIMEOUT_MS = 30 * 60_000;
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;


function facts(release: Release, commit: string | null): ReleaseFacts {
  return { id: String(release.id), version: release.version ?? 0, status: release.status ?? 'unknown', commit };
}

export function promote(request: PromoteRequest, log: DeployLog): Promise<PromoteResult> {
  return new Promotion(request, log).run();
}

class Promotion {
  private readonly started = Date.now();
  private readonly api: HerokuApi;
  private readonly steps: Steps;
  private readonly source: string;
  private email: string | undefined;

  constructor(
    private readonly request: PromoteRequest,
    private readonly log: DeployLog,
  ) {
    this.source = request.sourceApp;
    this.steps = new Steps(log);
    this.api = new HerokuApi({ baseUrl: request.api.url, apiKey: request.apiKey, network: request.network, userAgent: request.userAgent, debug: (l) => log.debug(l), warn: (l) => log.warn(l) });
  }

  /** Runs a Platform API step about `app` (named by the input `input`), explaining its failure. */
  private async call<T>(doing: string, body: () => Promise<T>, app = this.source, input = 'sourceApp'): Promise<T> {
    try {
      return await body();
    } catch (error) {
      throw explainApiError(error, { apiUrl: this.request.api.url, app, input, doing, email: this.email });
    }
  }

  async run(): Promise<PromoteResult> {
    try {
      return await this.promote();
    } catch (error) {
      const failure = error instanceof DeployError ? error : new DeployError('api', `Unexpected error: ${errorMessage(error)}`);
      failure.summary ??= failureSummaryMarkdown(this.source, failure.message, failure.details, this.steps.records, 'Heroku promote');
      throw failure;
    }
  }

  private async promote(): Promise<PromoteResult> {
    const { request, log, api, source } = this;
    if (!request.api.isDefault) log.info(`Heroku API: ${request.api.url} (from ${request.api.source}, not the default https://api.heroku.com)`);

    const [accountRead, appRead, couplingRead] = await Promise.allSettled([api.get<Account>('/account'), api.get<App>(`/apps/${enc(source)}`), couplingOf(api, source)]);
    const account = await this.call('checking the API key', () => settled(accountRead));
    this.email = account.email ?? 'unknown account';
    const sourceApp = await this.call(`reading the app ${source}`, () => settled(appRead));
    const coupling = await this.call(`reading the pipeline of ${source}`, () => settled(couplingRead));
    if (!coupling?.pipeline?.id || !coupling.stage) {
      throw new DeployError(
        'input',
        `${source} is not in a Heroku pipeline, so there is no pipeline to promote it along. Add it to one (\`heroku pipelines:add <pipeline> -a ${source} --stage staging\`, or in the Heroku dashboard), or check the sourceApp input.`,
      );
    }
    const pipeline = { id: coupling.pipeline.id, name: coupling.pipeline.name ?? coupling.pipeline.id };
    log.info(`Promoting as ${this.email}: ${source} is in the ${coupling.stage} stage of the pipeline ${pipeline.name}.`);
    const couplings = await this.call(`listing the apps of the pipeline ${pipeline.name}`, () => pipelineCouplings(api, pipeline.id));
    const targets = await this.resolveTargets(coupling.stage, couplings, pipeline.name);
    this.resolveHealthUrls(targets);

    // What the source runs: the release promoted, pinned by id so that nothing deployed meanwhile slips in.
    const sourceRelease = (await this.call(`listing the releases of ${source}`, () => releaseSnapshot(api, source))).current;
    if (!sourceRelease || !artifactOf(sourceRelease)) {
      throw new DeployError(
        'input',
        `${source} has no release with code to promote (${sourceRelease ? `its live v${sourceRelease.version} has no slug` : 'no release is live'}): deploy to it first, e.g. with HerokuDeploy@1 in an earlier stage.`,
      );
    }
    const commit = await this.call(`reading the code of v${sourceRelease.version} of ${source}`, () => releaseCommit(api, source, sourceRelease));
    this.checkExpectedCommit(sourceRelease, commit);
    log.info(`${source} runs v${sourceRelease.version}${commit ? `, commit ${short(commit)}` : ' (Heroku records no commit for its slug)'}.`);

    await Promise.all(targets.map((t) => this.readCurrent(t)));
    for (const target of targets) target.diff = await this.steps.run(`Diff ${source} -> ${target.name}`, () => this.diff(target, sourceRelease, commit), (d) => describeDiff(target, commit, d));

    const result: PromoteResult = {
      source: { app: source, appUrl: sourceApp.web_url ?? null, stage: coupling.stage, release: facts(sourceRelease, commit) },
      pipeline,
      promotionId: null,
      commit,
      targets: [],
      account: this.email,
      durationMs: 0,
      steps: this.steps.records,
    };
    const same = (t: Target): boolean => commit !== null && t.before?.commit === commit;
    const pending = targets.filter((t) => !same(t));
    const results = new Map<Target, TargetResult>();
    for (const t of targets.filter(same)) {
      results.set(t, this.targetResult(t, 'same-commit', { live: t.before }));
      if (request.healthCheck) this.steps.skip(`Health check of ${t.name}`, 'not promoted: it already runs this commit');
    }

    if (pending.length === 0) {
      log.info(`Every target already runs ${commit ? short(commit) : 'this commit'}: nothing to promote, so no promotion was created and no release was made.`);
      this.steps.skip('Promote', 'every target already runs this commit');
    } else {
      const { promotion, final } = await this.steps.run(
        `Promote ${commit ? short(commit) : `v${sourceRelease.version}`} to ${pending.map((t) => t.name).join(', ')}`,
        () => this.createAndFollow(pipeline.id, sourceApp, sourceRelease, pending),
        ({ final }) => final.targets.map((t) => `${pending.find((p) => p.id === t.app?.id)?.name ?? t.app?.id ?? '?'}: ${t.status ?? 'unknown'}`).join(', '),
        { group: false },
      );
      result.promotionId = String(promotion.id);
      for (const target of pending) {
        const entry = final.targets.find((t) => t.app?.id === target.id) ?? null;
        results.set(target, await this.forTarget(target, null, () => this.promoted(target, entry, final.releases.get(target.id) ?? null, commit)));
      }
      if (request.healthCheck) {
        for (const target of pending) {
          const promoted = results.get(target);
          if (promoted?.outcome === 'promoted') results.set(target, await this.forTarget(target, promoted, () => this.healthCheck(target, promoted)));
          else this.steps.skip(`Health check of ${target.name}`, 'the promotion failed there');
        }
      }
    }

    result.targets = targets.map((t) => results.get(t)).filter((r): r is TargetResult => r !== undefined);
    result.durationMs = Date.now() - this.started;
    const failed = result.targets.filter((t) => t.failure);
    if (failed.length === 0) return result;
    throw this.failure(result, failed);
  }

  /** The targets named in targetApps, each in the pipeline; or the apps of the next stage downstream. */
  private async resolveTargets(stage: Stage, couplings: Coupling[], pipeline: string): Promise<Target[]> {
    const { request, source } = this;
    const stageOf = (app: App): Stage | null => couplings.find((c) => c.app?.id === app.id)?.stage ?? null;
    const target = (app: App): Target => ({ name: app.name ?? '', id: app.id ?? '', app, stage: stageOf(app), healthUrl: null, current: null, before: null, diff: null });

    if (request.targetApps.length) {
      if (request.targetApps.includes(source)) {
        throw new DeployError('input', `targetApps includes ${source}, the source app: an app cannot be promoted to itself. List only the apps to promote to, or leave targetApps empty for the next stage of ${pipeline}.`);
      }
      const reads = await Promise.allSettled(request.targetApps.map((name) => this.api.get<App>(`/apps/${enc(name)}`)));
      const apps: App[] = [];
      for (const [i, read] of reads.entries()) {
        const name = request.targetApps[i] ?? '';
        apps.push(await this.call(`reading the app ${name}`, () => settled(read), name, 'targetApps'));
      }
      const outside = apps.filter((app) => stageOf(app) === null).map((app) => app.name ?? '');
      if (outside.length) {
        throw new DeployError(
          'input',
          `${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} not in the pipeline ${pipeline}, so ${source} cannot be promoted to ${outside.length === 1 ? 'it' : 'them'}: a promotion only goes to apps of the source's pipeline. The pipeline has ${await this.describeStages(couplings)}. Add ${outside.length === 1 ? 'it' : 'them'} (\`heroku pipelines:add ${pipeline} -a ${outside[0]} --stage production\`), or fix targetApps.`,
        );
      }
      return apps.map(target);
    }

    const next = downstreamStage(stage, couplings);
    if (!next) {
      const why =
        stage === 'production'
          ? `${source} is in the production stage of ${pipeline}, the last stage: nothing is downstream of it.`
          : stage === 'test'
            ? `${source} is in the test stage of ${pipeline}, which promotes nowhere by default.`
            : `No stage after ${stage} in the pipeline ${pipeline} has apps (${PROMOTION_ORDER.slice(PROMOTION_ORDER.indexOf(stage) + 1).join(', ')}).`;
      throw new DeployError(
        'input',
        `${why} The pipeline has ${await this.describeStages(couplings)}. Name the apps to promote to in targetApps, or add the next stage's app to the pipeline (\`heroku pipelines:add ${pipeline} -a <app> --stage production\`).`,
      );
    }
    const reads = await Promise.allSettled(next.appIds.map((id) => this.api.get<App>(`/apps/${enc(id)}`)));
    const apps: App[] = [];
    for (const [i, read] of reads.entries()) apps.push(await this.call(`reading the ${next.stage} app ${next.appIds[i] ?? ''}`, () => settled(read), next.appIds[i] ?? '', 'targetApps'));
    this.log.info(`No targetApps given: promoting to the next stage downstream, ${next.stage}: ${apps.map((a) => a.name).join(', ')}.`);
    return apps.map(target);
  }

  /** `development: none; staging: my-app-staging; production: my-app, my-app-eu` (for messages). */
  private async describeStages(couplings: Coupling[]): Promise<string> {
    const names = await Promise.all(
      couplings.map(async (c) => {
        const id = c.app?.id ?? '';
        return this.api
          .get<App>(`/apps/${enc(id)}`)
          .then((a) => a.name ?? id)
          .catch(() => id);
      }),
    );
    const stages: Stage[] = ['review', 'development', 'staging', 'production', 'test'];
    return stages
      .map((stage) => [stage, couplings.flatMap((c, i) => (c.stage === stage ? [names[i] ?? ''] : []))] as const)
      .filter(([stage, apps]) => apps.length > 0 || PROMOTION_ORDER.includes(stage))
      .map(([stage, apps]) => `${stage}: ${apps.join(', ') || 'none'}`)
      .join('; ');
  }

  /** Each target's health check URL, checked before anything changes: one full URL cannot check several apps. */
  private resolveHealthUrls(targets: Target[]): void {
    const options = this.request.healthCheck;
    if (!options) return;
    if (!options.url.startsWith('/') && targets.length > 1) {
      throw new DeployError(
        'input',
        `healthCheckUrl is a full URL (${options.url}), but there are ${targets.length} targets (${targets.map((t) => t.name).join(', ')}): one URL cannot check them all. Give a path such as /health, which is resolved against each target's web URL.`,
      );
    }
    for (const target of targets) {
      try {
        target.healthUrl = healthCheckUrl(options, target.app.web_url ?? null, target.name);
      } catch (error) {
        throw new DeployError('input', errorMessage(error));
      }
    }
  }

  private checkExpectedCommit(release: Release, commit: string | null): void {
    const expected = this.request.expectedCommit;
    if (!expected) return;
    if (commit?.toLowerCase().startsWith(expected)) {
      this.log.info(`${this.source} v${release.version} runs the expected commit ${short(expected)}.`);
      return;
    }
    throw new DeployError(
      'verification',
      `Refusing to promote: ${this.source} runs v${release.version} with commit ${commit ? short(commit) : '(none recorded)'}, not the expected ${short(expected)} (expectedCommit). Something else was deployed to ${this.source} after the build this pipeline tested, or its deploy did not go live. Nothing was promoted. Re-run the pipeline to deploy and test ${short(expected)} again, or set expectedCommit to what ${this.source} runs if that is what you mean to promote.`,
    );
  }

  private async readCurrent(target: Target): Promise<void> {
    const { name } = target;
    const current = (await this.call(`listing the releases of ${name}`, () => releaseSnapshot(this.api, name), name, 'targetApps')).current;
    target.current = current;
    if (current) target.before = facts(current, await this.call(`reading the code of v${current.version} of ${name}`, () => releaseCommit(this.api, name, current), name, 'targetApps'));
  }

  /** What `heroku pipelines:diff` shows for one target, in the log. */
  private async diff(target: Target, sourceRelease: Release, commit: string | null): Promise<CommitDiff | null> {
    const { log, source } = this;
    const before = target.before;
    const hasCode = target.current !== null && artifactOf(target.current) !== null;
    const runs = !before ? 'no release' : `v${before.version}, ${hasCode ? `commit ${before.commit ? short(before.commit) : '(none recorded)'}` : 'no code yet'}`;
    log.info(`${target.name}${target.stage ? ` (${target.stage})` : ''} runs ${runs}; ${source} runs v${sourceRelease.version}, commit ${commit ? short(commit) : '(none recorded)'}.`);
    if (commit && before?.commit === commit) {
      log.info(`${target.name} is already at ${short(commit)}, the same commit: it is left out of the promotion (no new release).`);
      return null;
    }
    if (!before || !hasCode) {
      log.info(`${target.name} has never run code: the promotion gives it its first release of code.`);
      return null;
    }
    if (!commit || !before.commit) {
      log.info('Heroku records no commit for one of the two slugs: the commits in between cannot be listed.');
      return null;
    }
    const diff = await commitsBetween(this.request.workingDirectory, before.commit, commit, this.request.signal);
    if (diff.kind === 'unavailable') {
      log.info(`The commits in between are not listed: ${diff.reason}. Promoting ${short(before.commit)} -> ${short(commit)}.`);
      return diff;
    }
    const list = (range: CommitRange): void => {
      for (const c of range.commits) log.info(`  ${formatCommit(c)}`);
      if (range.total > range.commits.length) log.info(`  ... and ${range.total - range.commits.length} more`);
    };
    if (diff.added.total) {
      log.info(`${plural(diff.added.total, 'commit')} to promote to ${target.name} (${short(before.commit)}..${short(commit)}):`);
      list(diff.added);
    }
    if (diff.removed.total) {
      log.warn(`${target.name} runs ${plural(diff.removed.total, 'commit')} that ${source}'s ${short(commit)} does not have: the promotion takes ${diff.removed.total === 1 ? 'it' : 'them'} out of ${target.name}.`);
      list(diff.removed);
    }
    return diff;
  }

  private async createAndFollow(pipelineId: string, sourceApp: App, sourceRelease: Release, targets: Target[]): Promise<{ promotion: PipelinePromotion; final: FollowedPromotion }> {
    const names = targets.map((t) => t.name).join(', ');
    // Not idempotent: never repeated (the client retries a POST only when Heroku certainly did not act on it).
    const promotion = await this.call(`creating the promotion to ${names}`, () =>
      this.api.post<PipelinePromotion>('/pipeline-promotions', {
        pipeline: { id: pipelineId },
        source: { app: { id: sourceApp.id }, release: { id: sourceRelease.id } },
        targets: targets.map((t) => ({ app: { id: t.id } })),
      }),
    );
    this.log.info(`Promotion ${promotion.id} created: Heroku copies the slug of ${this.source} v${sourceRelease.version} to ${names}.`);
    return { promotion, final: await this.follow(String(promotion.id), targets) };
  }

  /** Reads the promotion until it is completed, following each target's release phase as it appears. */
  private async follow(id: string, targets: Target[]): Promise<FollowedPromotion> {
    const { api, log, request } = this;
    const signal = request.signal;
    const pollMs = request.pollMs ?? 1000;
    const deadline = Date.now() + PROMOTION_TIMEOUT_MS;
    const releases = new Map<string, Release>();
    let waiting = false;
    for (;;) {
      const promotion = await this.call(`reading the promotion ${id}`, () => api.get<PipelinePromotion>(`/pipeline-promotions/${enc(id)}`));
      // Read after the promotion: once it is completed, these statuses are final.
      const list = await this.call(`reading the targets of the promotion ${id}`, () => api.get<PromotionTarget[]>(`/pipeline-promotions/${enc(id)}/promotion-targets`));
      for (const entry of list) {
        const target = targets.find((t) => t.id === entry.app?.id);
        const releaseId = entry.release?.id;
        if (!target || !releaseId || releases.has(target.id)) continue;
        const release = await this.call(`reading the new release of ${target.name}`, () => api.get<Release>(`/apps/${enc(target.name)}/releases/${enc(releaseId)}`), target.name, 'targetApps');
        log.info(`${target.name}: the promotion made v${release.version}${release.status === 'pending' ? ', in its release phase' : ''}.`);
        const followed = release.status === 'pending' && Boolean(release.output_stream_url);
        const done = await this.call(`waiting for v${release.version} of ${target.name}`, () => settleRelease(api, target.name, release, { log, signal }), target.name, 'targetApps');
        if (done.status === 'failed' && !followed) await this.showReleaseOutput(target.name, done);
        releases.set(target.id, done);
      }
      if (promotion.status === 'completed') return { targets: list, releases };
      if (signal?.aborted) {
        throw new DeployError('cancelled', `The task was cancelled while the promotion ${id} was running: Heroku carries it on. Check each target with \`heroku releases -a <app>\`.`);
      }
      if (Date.now() > deadline) {
        throw new DeployError('promotion', `The promotion ${id} was still running after ${PROMOTION_TIMEOUT_MS / 60_000} minutes. Check each target with \`heroku releases -a <app>\`; re-run the task once it is done (targets already at the commit are left alone).`);
      }
      if (!waiting) log.info('Waiting for the promotion to complete...');
      waiting = true;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** The output of a failed release phase that ended before it could be followed. */
  private async showReleaseOutput(app: string, release: Release): Promise<void> {
    const url = release.output_stream_url;
    if (!url) return;
    await this.log
      .group(`Release phase of v${release.version} of ${app} (failed)`, () => this.api.followOutput(url, (line) => this.log.info(line), this.request.signal))
      .catch((error: unknown) => this.log.debug(`could not read the release phase output: ${errorMessage(error)}`));
  }

  /** One target's part after the promotion: an error there fails that target, and the others are still reported. */
  private async forTarget(target: Target, base: TargetResult | null, body: () => Promise<TargetResult>): Promise<TargetResult> {
    try {
      return await body();
    } catch (error) {
      if (error instanceof DeployError && error.kind === 'cancelled') throw error;
      const failure = new DeployError(error instanceof DeployError ? error.kind : 'api', `${target.name}: ${errorMessage(error)} Check it with \`heroku releases -a ${target.name}\`.`);
      return { ...(base ?? this.targetResult(target, 'failed')), outcome: 'failed', failure };
    }
  }

  private targetResult(target: Target, outcome: TargetOutcome, more: Partial<TargetResult> = {}): TargetResult {
    return { app: target.name, appUrl: target.app.web_url ?? null, stage: target.stage, outcome, before: target.before, release: null, live: null, healthCheckStatus: null, diff: target.diff, failure: null, ...more };
  }

  /** A target once the promotion completed: its new release, verified, or why it has none. */
  private async promoted(target: Target, entry: PromotionTarget | null, release: Release | null, commit: string | null): Promise<TargetResult> {
    const { name } = target;
    const call = <T>(doing: string, body: () => Promise<T>): Promise<T> => this.call(doing, body, name, 'targetApps');
    if (!release && entry?.release?.id) {
      const id = entry.release.id;
      release = await call(`reading the new release of ${name}`, () => this.api.get<Release>(`/apps/${enc(name)}/releases/${enc(id)}`));
    }
    if (entry?.status !== 'succeeded' || release?.status !== 'succeeded') {
      const live = await call(`checking which release of ${name} is live`, () => releaseSnapshot(this.api, name)).then((s) => s.current);
      const kept = live ? `Heroku kept v${live.version} live on ${name}` : `no release of ${name} is live`;
      const reason = entry?.error_message || (release ? `v${release.version} ended ${release.status ?? 'in an unknown state'}` : `Heroku reports the target ${entry?.status ?? 'missing'} without a release`);
      const output = release ? ` Its release phase output is above (\`heroku releases:output ${release.version} -a ${name}\`).` : '';
      const failure = new DeployError('promotion', `The promotion to ${name} failed: ${reason}. ${kept}.${output} Fix the cause and run the promotion again.`);
      return this.targetResult(target, 'failed', { release: release ? facts(release, null) : null, live: live ? facts(live, live.id === target.current?.id ? (target.before?.commit ?? null) : null) : null, failure });
    }
    const runs = await call(`reading the code of v${release.version} of ${name}`, () => releaseCommit(this.api, name, release));
    const made = facts(release, runs);
    if (commit && runs !== commit) {
      const failure = new DeployError('verification', `${name}'s new release v${release.version} runs commit ${runs ? short(runs) : '(none)'}, not the promoted ${short(commit)}: something else changed ${name} meanwhile. Check \`heroku releases -a ${name}\`.`);
      return this.targetResult(target, 'failed', { release: made, live: made, failure });
    }
    this.log.info(`${name}: v${release.version} is live${runs ? `, running ${short(runs)}` : ''}.`);
    return this.targetResult(target, 'promoted', { release: made, live: made });
  }

  private async healthCheck(target: Target, promoted: TargetResult): Promise<TargetResult> {
    const { request } = this;
    const release: Release = { id: promoted.release?.id, version: promoted.release?.version };
    const guard = await checkHealthOrRollBack({
      api: this.api,
      app: target.name,
      url: target.healthUrl ?? '',
      options: request.healthCheck!,
      release,
      commit: promoted.release?.commit ?? '',
      rollbackTarget: request.rollbackOnFailure ? target.current : null,
      rollbackOnFailure: request.rollbackOnFailure,
      network: request.network,
      log: this.log,
      steps: this.steps,
      signal: request.signal,
      call: (doing, body) => this.call(doing, body, target.name, 'targetApps'),
      nameApp: true,
      retry: 'promote again',
    });
    const checked = { ...promoted, healthCheckStatus: guard.status };
    if (!guard.failure) return checked;
    const outcome: TargetOutcome = guard.failure.kind === 'rollback' ? 'rollback-failed' : guard.rolledBack ? 'rolled-back' : 'unhealthy';
    const live = guard.rolledBack ? facts(guard.rolledBack, target.before?.commit ?? null) : promoted.live;
    return { ...checked, outcome, live, failure: guard.failure };
  }

  /** The task's failure, naming each failed target, with every target's outcome in the result line and summary. */
  private failure(result: PromoteResult, failed: TargetResult[]): DeployError {
    const kind = failed.some((t) => t.outcome === 'rollback-failed') ? 'rollback' : failed.some((t) => t.outcome === 'failed') ? 'promotion' : 'health-check';
    const fine = result.targets.filter((t) => !t.failure);
    const others = fine.length ? ` ${fine.map((t) => (t.outcome === 'same-commit' ? `${t.app} already ran this commit` : `${t.app} was promoted (v${t.live?.version ?? '?'})`)).join('; ')}.` : '';
    const head = failed.length > 1 ? `${failed.length} of ${result.targets.length} targets failed. ` : '';
    const error = new DeployError(kind, `${head}${failed.map((t) => t.failure?.message ?? '').join(' ')}${others}`, [promotionResultLine(result)]);
    error.outputs = promotionOutputs(result);
    error.summary = promotionSummaryMarkdown(result);
    return error;
  }
}

interface FollowedPromotion {
  /** The targets as Heroku reports them once the promotion is completed. */
  targets: PromotionTarget[];
  /** Each target's new release after its release phase, by app id. */
  releases: Map<string, Release>;
}

function describeDiff(target: Target, commit: string | null, diff: CommitDiff | null): string {
  if (commit && target.before?.commit === commit) return `already at ${short(commit)}`;
  const from = target.before?.commit ? short(target.before.commit) : 'no code';
  const to = commit ? short(commit) : '?';
  if (diff?.kind !== 'listed') return `${from} -> ${to}`;
  return `${from} -> ${to}: ${plural(diff.added.total, 'commit')} to promote${diff.removed.total ? `, ${diff.removed.total} taken out` : ''}`;
}
