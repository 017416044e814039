// HerokuRun@1's request, result and progress: one command in a one-off dyno, its output and exit code.
import type { ApiAccess } from '../heroku/client';

export interface RunRequest extends ApiAccess {
  signal: AbortSignal;
  appName: string;
  /** The command as the user wrote it (one line). */
  command: string;
  /** Dyno size (`standard-2x`), or null for Heroku's default for the app. */
  size: string | null;
  /** Process type of the dyno (`run` unless asked). */
  type: string;
  /** Variables for this dyno only, besides the app's config vars. Their values are never printed. */
  env: Record<string, string>;
  /** How long the command may run, in seconds: sent as time_to_live and enforced by the task too. */
  timeoutSeconds: number;
  /** Whether a non-zero exit status fails the task (else: a warning). */
  failOnExitCode: boolean;
}

export interface RunResult {
  app: string;
  command: string;
  dynoName: string;
  exitCode: number;
  durationMs: number;
}

/** What a run had got to when it failed: the dyno, once created, and the status, once reported. */
export interface RunProgress {
  dynoName: string | null;
  exitCode: number | null;
}
