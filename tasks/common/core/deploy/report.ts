// What the team reads after a deploy, success or failure: the result line, the output variables and
// the build summary. The one place HerokuDeploy's result becomes what the pipeline sees.
import { seconds, short } from '../base/format';
import { cell, factsTable, failureSummaryMarkdown, stepsTable, type Outcome, type TaskReport } from '../workflow/report';
import { describeSource } from './build-api-release';
import type { DeployProgress, DeployResult } from './types';

/** `Released v61 of my-app · commit 3cced9be · https://my-app-1a2b3c4d5e6f.herokuapp.com/ · 48s` */
function resultLine(result: DeployResult): string {
  const head =
    result.outcome === 'released'
      ? `Released v${result.release.version} of ${result.app}`
      : result.outcome === 're-released'
        ? `Released v${result.release.version} of ${result.app} again from the existing build`
        : `Already deployed: v${result.release.version} of ${result.app} runs this commit, no new release`;
  const health = result.healthCheckStatus ? `healthy (${result.healthCheckStatus})` : null;
  return [head, `commit ${short(result.commit)}`, result.appUrl, health, seconds(result.durationMs)].filter(Boolean).join(' · ');
}

function summaryMarkdown(result: DeployResult): string {
  const rows: Array<[string, string]> = [
    [
      'Result',
      result.outcome === 'already-deployed'
        ? `Already live as v${result.release.version} (no new release)`
        : `Released v${result.release.version} (${result.release.status})`,
    ],
    ['App', result.appUrl ? `[${result.app}](${result.appUrl})` : result.app],
    ['Commit', `\`${short(result.commit)}\` ${cell(result.subject)}`],
  ];
  if (result.branch) rows.push(['Branch', cell(result.branch)]);
  if (result.source) {
    const { source } = result;
    rows.push(['Method', source.method === 'git' ? 'git push' : `Build API: ${cell(describeSource(source))}`]);
  }
  if (result.previous && result.previous.id !== result.release.id) {
    rows.push([
      'Previous release',
      `v${result.previous.version}${result.previous.commit ? ` (\`${short(result.previous.commit)}\`)` : ''}`,
    ]);
  }
  if (result.healthCheckStatus) rows.push(['Health check', `healthy (${result.healthCheckStatus})`]);
  rows.push(['Deployed by', cell(result.account)], ['Duration', seconds(result.durationMs)]);
  return [`### Heroku deploy: ${result.app}`, '', ...factsTable(rows), ...stepsTable(result.steps), ''].join('\n');
}

/** The deploy's report. `app` is null when even the appName input was unusable (no summary then). */
export function deployReport(app: string | null, outcome: Outcome<DeployResult, DeployProgress>): TaskReport {
  if (outcome.ok) {
    const { result } = outcome;
    return {
      line: resultLine(result),
      outputs: {
        releaseVersion: String(result.release.version),
        releaseId: result.release.id,
        commit: result.commit,
        appUrl: result.appUrl ?? '',
        previousReleaseVersion: result.previous ? String(result.previous.version) : '',
        rolledBack: 'false',
        healthCheckStatus: result.healthCheckStatus ?? '',
      },
      summary: { name: `heroku-deploy-${result.app}`, markdown: summaryMarkdown(result) },
    };
  }
  const { failure, partial } = outcome;
  return {
    line: null,
    outputs: partial ? { rolledBack: String(partial.rolledBack), healthCheckStatus: partial.healthCheckStatus ?? '' } : {},
    summary: app
      ? { name: `heroku-deploy-${app}`, markdown: failureSummaryMarkdown(`Heroku deploy: ${app}`, failure, partial?.steps) }
      : null,
  };
}
