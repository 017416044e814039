// What every task hands back at the end, success or failure alike, and the pieces of its build
// summary that all tasks share (markdown cells, the steps table, the failure summary).
import type { TaskError } from '../base/errors';
import type { StepRecord } from './steps';

/** How a task's operation ended: its result, or its failure with what it had got to (null: nothing yet). */
export type Outcome<Result, Partial> = { ok: true; result: Result } | { ok: false; failure: TaskError; partial: Partial | null };

/** What a task prints and sets when it ends: built in one place per task, for success and failure alike. */
export interface TaskReport {
  /** The one line that says what went live (or what every part ended as), or null. */
  line: string | null;
  /** Output variables. */
  outputs: Record<string, string>;
  /** The build summary: a file name stem and its markdown, or null. */
  summary: { name: string; markdown: string } | null;
}

/** Text made safe for one markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

const OUTCOME: Record<StepRecord['outcome'], string> = {
  done: '✅ done',
  skipped: '➖ skipped',
  failed: '❌ failed',
  restored: '↩️ restored',
  'not restored': '🛑 NOT restored',
};

export function stepsTable(steps: StepRecord[]): string[] {
  if (steps.length === 0) return [];
  return [
    '',
    '| Step | Outcome | |',
    '|---|---|---|',
    ...steps.map((s) => `| ${cell(s.name)} | ${OUTCOME[s.outcome]} | ${cell(s.detail)} |`),
  ];
}

/** `| Key | Value |` rows under an empty header, the shape of every summary's first table. */
export function factsTable(rows: Array<[string, string]>): string[] {
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)];
}

/** The summary of a failed run: the message, the steps it got through, the lines that explain it. */
export function failureSummaryMarkdown(heading: string, failure: TaskError, steps: StepRecord[] = []): string {
  return [
    `### ${heading}`,
    '',
    `**Failed:** ${cell(failure.message)}`,
    ...stepsTable(steps),
    '',
    ...(failure.details.length ? ['```', ...failure.details, '```', ''] : []),
  ].join('\n');
}
