// HerokuRollback's request and result: what the entry builds from the inputs, what the report reads.
import type { Sleep } from '../base/async';
import type { Endpoint } from '../base/endpoints';
import type { NetworkSettings } from '../base/network';
import type { Release } from '../heroku/api';
import type { HealthCheckOptions } from '../workflow/safeguards';
import type { StepRecord } from '../workflow/steps';

export interface RollbackRequest {
  apiKey: string;
  api: Endpoint;
  appName: string;
  /** The release to roll back to, by version; null: the one `heroku rollback` picks (see target.ts). */
  toVersion: number | null;
  /** Refuse unless the target release runs this commit (a full SHA, or at least 7 hex digits of one), lowercase. */
  expectedCommit: string | null;
  healthCheck: HealthCheckOptions | null;
  network: NetworkSettings;
  signal?: AbortSignal;
  userAgent?: string;
  /** Time between reads of a release in its release phase. */
  pollMs?: number;
  sleep?: Sleep;
}

/** A release as the report names it: `v60` and the commit it runs (null when Heroku records none). */
export interface ReleaseFacts {
  id: string;
  version: number;
  description: string;
  commit: string | null;
}

export function releaseFacts(release: Release, commit: string | null): ReleaseFacts {
  return { id: String(release.id), version: release.version ?? 0, description: release.description ?? '', commit };
}

export interface RollbackResult {
  app: string;
  appUrl: string | null;
  account: string;
  /** The release live when the task started. */
  from: ReleaseFacts;
  /** The release rolled back to. */
  to: ReleaseFacts;
  /** The new release the rollback made (`Rollback to v60`), live now, running the target's code. */
  release: ReleaseFacts;
  /** The last status the health check saw, or null without a health check. */
  healthCheckStatus: string | null;
  durationMs: number;
  steps: StepRecord[];
}

/**
 * What a failed rollback had got to: its steps, and once the rollback release is live and verified,
 * the result (a failed health check after it, or a cancel during that check: the release stays live).
 */
export interface RollbackProgress {
  steps: StepRecord[];
  result: RollbackResult | null;
}
