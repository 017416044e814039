// What the team reads after a promotion, success or failure: the result line naming every target,
// the build summary with a row per target, and the output variables. The one place HerokuPromote's
// result becomes what the pipeline sees.
import { seconds, short } from '../base/format';
import { cell, factsTable, failureSummaryMarkdown, stepsTable, type Outcome, type TaskReport } from '../workflow/report';
import type { PromoteProgress, PromoteResult, ReleaseFacts, TargetResult } from './types';

const version = (release: ReleaseFacts | null): string => (release ? `v${release.version}` : 'none');

/** `my-app v62 healthy (200)`, `my-app-eu already at this commit (v17)`, `my-app-x FAILED, v17 kept` */
function targetPhrase(target: TargetResult): string {
  const { app, release, live, before } = target;
  switch (target.outcome) {
    case 'promoted':
      return `${app} ${version(release)}${target.healthCheckStatus ? ` healthy (${target.healthCheckStatus})` : ''}`;
    case 'same-commit':
      return `${app} already at this commit (${version(before)})`;
    case 'failed':
      return `${app} FAILED${release ? ` (${version(release)} ${release.status})` : ''}${live ? `, ${version(live)} kept` : ''}`;
    case 'unhealthy':
      return `${app} ${version(release)} UNHEALTHY (${target.healthCheckStatus || 'no answer'}), still live`;
    case 'rolled-back':
      return `${app} ${version(release)} unhealthy, rolled back to ${version(before)} (now ${version(live)})`;
    case 'rollback-failed':
      return `${app} ${version(release)} unhealthy, ROLLBACK FAILED`;
  }
}

function sourcePhrase(result: PromoteResult): string {
  return `${result.source.app} v${result.source.release.version}${result.commit ? ` (commit ${short(result.commit)})` : ''}`;
}

/** `Promoted my-app-staging v12 (commit 3cced9be) · my-app v62 · my-app-eu v17 · 9s` */
function promotionResultLine(result: PromoteResult): string {
  const failed = result.targets.filter((t) => t.failure).map((t) => t.app);
  const head = failed.length
    ? `Promotion of ${sourcePhrase(result)} failed on ${failed.join(', ')}`
    : result.promotionId === null
      ? `Nothing to promote: every target already runs ${sourcePhrase(result)}`
      : `Promoted ${sourcePhrase(result)}`;
  return [head, ...result.targets.map(targetPhrase), seconds(result.durationMs)].join(' · ');
}

/** `promotionId`, `releaseVersions` (`my-app:62,my-app-eu:17`: the release live on each target) and `commit`. */
function promotionOutputs(result: PromoteResult): Record<string, string> {
  return {
    promotionId: result.promotionId ?? '',
    releaseVersions: result.targets.flatMap((t) => (t.live ? [`${t.app}:${t.live.version}`] : [])).join(','),
    commit: result.commit ?? '',
  };
}

const OUTCOME: Record<TargetResult['outcome'], string> = {
  promoted: '✅ promoted',
  'same-commit': '➖ already at this commit',
  failed: '❌ failed',
  unhealthy: '❌ unhealthy, still live',
  'rolled-back': '↩️ unhealthy, rolled back',
  'rollback-failed': '🛑 unhealthy, ROLLBACK FAILED',
};

function releaseCell(release: ReleaseFacts | null): string {
  if (!release) return '—';
  return `v${release.version}${release.commit ? ` \`${short(release.commit)}\`` : ''}${release.status !== 'succeeded' ? ` (${release.status})` : ''}`;
}

function commitsCell(target: TargetResult): string {
  const diff = target.diff;
  if (!diff) return '—';
  if (diff.kind === 'unavailable') return 'not listed (no history)';
  return [`${diff.added.total} new`, diff.removed.total ? `${diff.removed.total} taken out` : ''].filter(Boolean).join(', ');
}

function outcomeCell(target: TargetResult): string {
  const details = [target.healthCheckStatus ? `health check ${target.healthCheckStatus}` : '', target.failure?.message ?? '']
    .filter(Boolean)
    .join(': ');
  return `${OUTCOME[target.outcome]}${details ? ` — ${cell(details)}` : ''}`;
}

function promotionSummaryMarkdown(result: PromoteResult): string {
  const failed = result.targets.filter((t) => t.failure);
  const promoted = result.targets.filter((t) => t.release);
  const verdict = failed.length
    ? `**Failed** on ${failed.map((t) => t.app).join(', ')}`
    : result.promotionId === null
      ? 'Nothing to promote: every target already runs this commit (no promotion, no new release)'
      : `Promoted to ${promoted.map((t) => t.app).join(', ')}`;
  const rows: Array<[string, string]> = [
    ['Result', verdict],
    [
      'Source',
      `${result.source.appUrl ? `[${result.source.app}](${result.source.appUrl})` : result.source.app} (${result.source.stage}) ${releaseCell(result.source.release)}`,
    ],
    ['Pipeline', cell(result.pipeline.name)],
  ];
  if (result.promotionId) rows.push(['Promotion', `\`${result.promotionId}\``]);
  rows.push(['Promoted by', cell(result.account)], ['Duration', seconds(result.durationMs)]);
  const targets = result.targets.map(
    (t) =>
      `| ${t.appUrl ? `[${t.app}](${t.appUrl})` : t.app} | ${t.stage ?? '—'} | ${releaseCell(t.before)} | ${releaseCell(t.live)} | ${commitsCell(t)} | ${outcomeCell(t)} |`,
  );
  return [
    `### Heroku promote: ${result.source.app}`,
    '',
    ...factsTable(rows),
    '',
    '| Target | Stage | Before | Now live | Commits | Outcome |',
    '|---|---|---|---|---|---|',
    ...targets,
    ...stepsTable(result.steps),
    '',
  ].join('\n');
}

function resultReport(result: PromoteResult): TaskReport {
  return {
    line: promotionResultLine(result),
    outputs: promotionOutputs(result),
    summary: { name: `heroku-promote-${result.source.app}`, markdown: promotionSummaryMarkdown(result) },
  };
}

/** The promotion's report. `source` is null when even the sourceApp input was unusable (no summary then). */
export function promoteReport(source: string | null, outcome: Outcome<PromoteResult, PromoteProgress>): TaskReport {
  if (outcome.ok) return resultReport(outcome.result);
  if (outcome.partial?.result) return resultReport(outcome.partial.result);
  const summary = source
    ? {
        name: `heroku-promote-${source}`,
        markdown: failureSummaryMarkdown(`Heroku promote: ${source}`, outcome.failure, outcome.partial?.steps),
      }
    : null;
  return { line: null, outputs: {}, summary };
}
