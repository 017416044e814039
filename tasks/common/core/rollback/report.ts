// What the team reads after a rollback, success or failure: the line from -> to with both commits,
// the output variables and the build summary. The one place HerokuRollback's result becomes what
// the pipeline sees.
import { seconds, short } from '../base/format';
import { cell, factsTable, failureSummaryMarkdown, stepsTable, type Outcome, type TaskReport } from '../workflow/report';
import type { ReleaseFacts, RollbackProgress, RollbackResult } from './types';

const named = (release: ReleaseFacts): string =>
  `v${release.version} (${release.commit ? `commit ${short(release.commit)}` : 'no commit recorded'})`;

/** `Rolled back my-app from v63 (commit 3cced9be) to v60 (commit 1a2b3c4d), live as v64 · https://… · healthy (200) · 9s` */
function resultLine(result: RollbackResult, healthy: boolean): string {
  const head = `Rolled back ${result.app} from ${named(result.from)} to ${named(result.to)}, live as v${result.release.version}`;
  const health =
    result.healthCheckStatus !== null
      ? `${healthy ? 'healthy' : 'UNHEALTHY'} (${result.healthCheckStatus || 'no answer'})`
      : null;
  return [head, result.appUrl, health, seconds(result.durationMs)].filter(Boolean).join(' · ');
}

function releaseCell(release: ReleaseFacts): string {
  return `v${release.version}${release.commit ? ` \`${short(release.commit)}\`` : ''}${release.description ? ` ${cell(release.description)}` : ''}`;
}

function summaryMarkdown(result: RollbackResult, failure: string | null): string {
  const rows: Array<[string, string]> = [
    ['Result', failure ? `**Failed after the rollback:** ${cell(failure)}` : `Rolled back to v${result.to.version}`],
    ['App', result.appUrl ? `[${result.app}](${result.appUrl})` : result.app],
    ['From', releaseCell(result.from)],
    ['To', releaseCell(result.to)],
    ['Now live', releaseCell(result.release)],
  ];
  if (result.healthCheckStatus !== null)
    rows.push(['Health check', `${failure ? 'unhealthy' : 'healthy'} (${result.healthCheckStatus || 'no answer'})`]);
  rows.push(['Rolled back by', cell(result.account)], ['Duration', seconds(result.durationMs)]);
  return [
    `### Heroku rollback: ${result.app}`,
    '',
    ...factsTable(rows),
    ...stepsTable(result.steps),
    '',
    `Config vars are those of v${result.to.version} again; database migrations and add-ons were not rolled back.`,
    '',
  ].join('\n');
}

/** `releaseVersion` (the rollback release, live), `commit` (the code it runs), `rolledBackFrom` (the release live before). */
function outputs(result: RollbackResult): Record<string, string> {
  return {
    releaseVersion: String(result.release.version),
    commit: result.release.commit ?? '',
    rolledBackFrom: String(result.from.version),
  };
}

/**
 * The rollback's report. `app` is null when even the appName input was unusable (no summary then).
 * Once the rollback release is live, its outputs are set even when the task fails after it (an
 * unhealthy check, a cancel during it): they name what is live.
 */
export function rollbackReport(app: string | null, outcome: Outcome<RollbackResult, RollbackProgress>): TaskReport {
  if (outcome.ok) return resultReport(outcome.result, null);
  if (outcome.partial?.result) return resultReport(outcome.partial.result, outcome.failure.message);
  const summary = app
    ? {
        name: `heroku-rollback-${app}`,
        markdown: failureSummaryMarkdown(`Heroku rollback: ${app}`, outcome.failure, outcome.partial?.steps),
      }
    : null;
  return { line: null, outputs: {}, summary };
}

function resultReport(result: RollbackResult, failure: string | null): TaskReport {
  return {
    line: resultLine(result, failure === null),
    outputs: outputs(result),
    summary: { name: `heroku-rollback-${result.app}`, markdown: summaryMarkdown(result, failure) },
  };
}
