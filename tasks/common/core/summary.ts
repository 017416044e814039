// What the team reads after a deploy: the result line and the build summary (markdown).
import type { DeployResult } from './deploy';
import type { StepRecord } from './steps';

export const short = (sha: string): string => sha.slice(0, 8);

/** `9s`, `1m05s` */
export function seconds(ms: number): string {
  return ms < 60_000 ? `${Math.max(1, Math.round(ms / 1000))}s` : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/** `Released v61 of my-app · commit 3cced9be · https://my-app-1a2b3c4d5e6f.herokuapp.com/ · 48s` */
export function resultLine(result: DeployResult): string {
  const head =
    result.outcome === 'released'
      ? `Released v${result.release.version} of ${result.app}`
      : result.outcome === 're-released'
        ? `Released v${result.release.version} of ${result.app} again from the existing build`
        : `Already deployed: v${result.release.version} of ${result.app} runs this commit, no new release`;
  const health = result.healthCheckStatus ? `healthy (${result.healthCheckStatus})` : null;
  return [head, `commit ${short(result.commit)}`, result.appUrl, health, seconds(result.durationMs)].filter(Boolean).join(' · ');
}

/** Text made safe for one markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

const OUTCOME: Record<StepRecord['outcome'], string> = { done: '✅ done', skipped: '➖ skipped', failed: '❌ failed', restored: '↩️ restored', 'not restored': '🛑 NOT restored' };

export function stepsTable(steps: StepRecord[]): string[] {
  if (steps.length === 0) return [];
  return ['', '| Step | Outcome | |', '|---|---|---|', ...steps.map((s) => `| ${cell(s.name)} | ${OUTCOME[s.outcome]} | ${cell(s.detail)} |`)];
}

export function summaryMarkdown(result: DeployResult): string {
  const rows: Array<[string, string]> = [
    ['Result', result.outcome === 'already-deployed' ? `Already live as v${result.release.version} (no new release)` : `Released v${result.release.version} (${result.release.status})`],
    ['App', result.appUrl ? `[${result.app}](${result.appUrl})` : result.app],
    ['Commit', `\`${short(result.commit)}\` ${cell(result.subject)}`],
  ];
  if (result.branch) rows.push(['Branch', cell(result.branch)]);
  if (result.previous && result.previous.id !== result.release.id) rows.push(['Previous release', `v${result.previous.version}${result.previous.commit ? ` (\`${short(result.previous.commit)}\`)` : ''}`]);
  if (result.healthCheckStatus) rows.push(['Health check', `healthy (${result.healthCheckStatus})`]);
  rows.push(['Deployed by', cell(result.account)], ['Duration', seconds(result.durationMs)]);
  return [`### Heroku deploy: ${result.app}`, '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), ...stepsTable(result.steps), ''].join('\n');
}

export function failureSummaryMarkdown(app: string, message: string, details: string[], steps: StepRecord[] = [], heading = 'Heroku deploy'): string {
  return [`### ${heading}: ${app}`, '', `**Failed:** ${cell(message)}`, ...stepsTable(steps), '', ...(details.length ? ['```', ...details, '```', ''] : [])].join('\n');
}
