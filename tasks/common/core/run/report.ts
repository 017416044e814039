// What the pipeline sees after HerokuRun@1: one line with the command's exit code, the outputs
// exitCode and dynoName (set on failure too, as far as the run got), and a build summary.
import { seconds } from '../base/format';
import { cell, factsTable, failureSummaryMarkdown, type Outcome, type TaskReport } from '../workflow/report';
import type { RunProgress, RunResult } from './types';

export function runReport(subject: string | null, outcome: Outcome<RunResult, RunProgress>): TaskReport {
  const name = `heroku-run-${subject ?? 'app'}`;
  if (!outcome.ok) {
    const outputs: Record<string, string> = {};
    if (outcome.partial?.dynoName) outputs.dynoName = outcome.partial.dynoName;
    if (outcome.partial?.exitCode !== null && outcome.partial?.exitCode !== undefined)
      outputs.exitCode = String(outcome.partial.exitCode);
    return {
      line: null,
      outputs,
      summary: { name, markdown: failureSummaryMarkdown(`HerokuRun: ${subject ?? 'no app'}`, outcome.failure) },
    };
  }
  const { app, command, dynoName, exitCode, durationMs } = outcome.result;
  return {
    line: `\`${command}\` exited ${exitCode} in ${dynoName} of ${app} · ${seconds(durationMs)}`,
    outputs: { exitCode: String(exitCode), dynoName },
    summary: {
      name,
      markdown: [
        `### HerokuRun: ${app}`,
        '',
        ...factsTable([
          ['Command', `\`${cell(command)}\``],
          ['Dyno', dynoName],
          ['Exit code', String(exitCode)],
          ['Duration', seconds(durationMs)],
        ]),
        '',
      ].join('\n'),
    },
  };
}
