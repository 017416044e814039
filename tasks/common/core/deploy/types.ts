// HerokuDeploy's request and result: what the entry builds from the inputs, what the report reads.
import type { Endpoint } from '../base/endpoints';
import type { NetworkSettings } from '../base/network';
import type { OriginAccess } from '../git/history';
import type { Safeguards } from '../workflow/safeguards';
import type { StepRecord } from '../workflow/steps';

/**
 * How the commit reaches Heroku: a git push of it (today's default), or a Build API build of one
 * folder of it (`appDirectory`, '' for the checkout), packed from the commit or from disk.
 */
export type DeploySource = { method: 'git' } | { method: 'build'; appDirectory: string; packageFrom: 'commit' | 'directory' };

export interface DeployRequest {
  /** The git push when omitted. */
  source?: DeploySource;
  /** Where the Build API's tarball is written (the agent's temp folder, emptied after each job); default the OS's. */
  tempDirectory?: string;
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
  safeguards: Safeguards;
  signal?: AbortSignal;
  userAgent?: string;
}

/** released: a new release of the commit; already-deployed: it was live; re-released: its build released again. */
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
  steps: StepRecord[];
  /** The last status the health check saw, or null without a health check. */
  healthCheckStatus: string | null;
  /** How it was deployed (for the summary); absent in results made before deployMethod existed. */
  source?: DeploySource;
}

/** What a failed deploy had got to, for its outputs and summary. */
export interface DeployProgress {
  steps: StepRecord[];
  rolledBack: boolean;
  /** The last status the health check saw, or null when none ran. */
  healthCheckStatus: string | null;
}
