// HerokuCli@1's request, result and progress: the Heroku CLI, installed and signed in, for one script.
import type { Endpoint } from '../base/endpoints';
import type { NetworkSettings } from '../base/network';

export type ScriptType = 'bash' | 'pscore' | 'ps' | 'batch';

/** Which CLI: the one on PATH if any (else the latest stable), the latest stable, or an exact version. */
export type CliVersion = { kind: 'path-or-stable' } | { kind: 'stable' } | { kind: 'exact'; version: string };

/**
 * The agent's tool cache (azure-pipelines-tool-lib on the agent; a folder in tests): the core never
 * imports the agent's libraries.
 */
export interface ToolCache {
  /** The cached folder of this version, or undefined. */
  find(version: string): string | undefined;
  /** Copies `folder` into the cache as this version; returns the cached folder. */
  add(folder: string, version: string): Promise<string>;
  /** Puts `dir` first on PATH, for this task and the job's later steps. */
  prependPath(dir: string): void;
}

/** The script, as the inputs give it. */
export type ScriptSource = { kind: 'inline'; text: string } | { kind: 'file'; path: string };

export interface ScriptRequest {
  type: ScriptType;
  source: ScriptSource;
  /** The arguments, as typed (each shell's own rules split them, as in AzureCLI@2). */
  arguments: string;
  workingDirectory: string;
  failOnStandardError: boolean;
}

/** Where the CLI's files come from: Heroku's standalone tarballs, or a mirror of the same layout. */
export interface Assets {
  /** Base URL without a trailing slash (default https://cli-assets.heroku.com). */
  url: string;
  isDefault: boolean;
}

export interface CliRequest {
  apiKey: string;
  api: Endpoint;
  network: NetworkSettings;
  cliVersion: CliVersion;
  assets: Assets;
  tools: ToolCache;
  script: ScriptRequest;
  /** The agent's temp directory: the script and the CLI's config live in a folder made there, removed after. */
  tempDirectory: string;
  /** The agent's environment (what the script inherits). */
  environment: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  arch: string;
  signal: AbortSignal;
}

export interface InstalledCli {
  /** The folder holding the `heroku` executable. */
  binDir: string;
  /** As `heroku --version` printed it, e.g. `heroku/11.10.0 linux-x64 node-v22.14.0`. */
  versionLine: string;
  source: 'path' | 'cache' | 'download';
}

export interface CliResult {
  cli: InstalledCli;
  exitCode: number;
  durationMs: number;
}

export interface CliProgress {
  cli: InstalledCli | null;
}
