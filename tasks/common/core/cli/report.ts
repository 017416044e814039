// What the pipeline sees after HerokuCli@1: one line naming the CLI and the script's exit code. The
// script's own output is the log; there are no output variables and no build summary.
import { seconds } from '../base/format';
import type { Outcome, TaskReport } from '../workflow/report';
import type { CliProgress, CliResult, InstalledCli } from './types';

const SOURCE: Record<InstalledCli['source'], string> = { path: "the agent's", cache: 'tool cache', download: 'downloaded' };

/** `The script exited 0 · heroku/11.10.0 linux-x64 node-v22.14.0 (tool cache) · 4s` */
export function cliReport(_subject: string | null, outcome: Outcome<CliResult, CliProgress>): TaskReport {
  if (!outcome.ok) return { line: null, outputs: {}, summary: null };
  const { cli, exitCode, durationMs } = outcome.result;
  return {
    line: `The script exited ${exitCode} · ${cli.versionLine} (${SOURCE[cli.source]}) · ${seconds(durationMs)}`,
    outputs: {},
    summary: null,
  };
}
