// HerokuPromote's request and result, and the shape of a target while it is promoted.
import type { Sleep } from '../base/async';
import type { TaskError } from '../base/errors';
import type { Endpoint } from '../base/endpoints';
import type { NetworkSettings } from '../base/network';
import type { CommitDiff } from '../git/commit-diff';
import type { App, Release } from '../heroku/api';
import type { AppClient } from '../heroku/client';
import type { Stage } from '../heroku/pipelines';
import type { HealthCheckOptions } from '../workflow/safeguards';
import type { StepRecord } from '../workflow/steps';

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
  sleep?: Sleep;
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

export function facts(release: Release, commit: string | null): ReleaseFacts {
  return { id: String(release.id), version: release.version ?? 0, status: release.status ?? 'unknown', commit };
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
  failure: TaskError | null;
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

/** What a failed promotion had got to: every target's result once the promotion ran, else the steps. */
export interface PromoteProgress {
  steps: StepRecord[];
  result: PromoteResult | null;
}

/** A target as resolved before anything changes. */
export interface Target {
  name: string;
  /** The app's id (promotions and couplings name apps by id). */
  id: string;
  app: App;
  /** Calls about this app (the targetApps input named it). */
  client: AppClient;
  stage: Stage | null;
  /** The health check URL for this app, or null without a health check. */
  healthUrl: string | null;
  current: Release | null;
  before: ReleaseFacts | null;
  diff: CommitDiff | null;
}

export function targetResult(target: Target, outcome: TargetOutcome, more: Partial<TargetResult> = {}): TargetResult {
  return {
    app: target.name,
    appUrl: target.app.web_url ?? null,
    stage: target.stage,
    outcome,
    before: target.before,
    release: null,
    live: null,
    healthCheckStatus: null,
    diff: target.diff,
    failure: null,
    ...more,
  };
}
