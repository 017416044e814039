// How every task runs, whatever it does: inputs -> request -> operation -> report. The report is
// made in one place per task (its feature's report), for success and failure alike, and printed,
// set and uploaded here; a failure nobody expected is reported once, here.
import { errorMessage, toTaskError } from '../core/base/errors';
import type { TaskLog } from '../core/base/log';
import type { Outcome, TaskReport } from '../core/workflow/report';
import type { TaskHost } from './host';

export interface TaskDefinition<Request, Result, Progress> {
  /** The app the run is about (its summary is named for it), read first so that a later bad input still names it. */
  subject(host: TaskHost): string;
  /** Every other input, checked, as the operation's request. */
  read(host: TaskHost, subject: string): Request;
  run(request: Request, log: TaskLog): Promise<Outcome<Result, Progress>>;
  /** `subject` is null when even that input was unusable. */
  report(subject: string | null, outcome: Outcome<Result, Progress>): TaskReport;
}

export async function runTask<Request, Result, Progress>(
  host: TaskHost,
  task: TaskDefinition<Request, Result, Progress>,
): Promise<void> {
  const { log } = host;
  let subject: string | null = null;
  let outcome: Outcome<Result, Progress>;
  try {
    subject = task.subject(host);
    outcome = await task.run(task.read(host, subject), log);
  } catch (error) {
    outcome = { ok: false, failure: toTaskError(error), partial: null };
  }
  if (!outcome.ok) {
    if (outcome.failure.kind === 'unexpected') log.debug(outcome.failure.stack ?? '');
    for (const line of outcome.failure.details) log.info(line);
  }
  const report = task.report(subject, outcome);
  if (report.line) log.info(report.line);
  for (const [name, value] of Object.entries(report.outputs)) host.setOutput(name, value);
  if (report.summary)
    await host
      .uploadSummary(report.summary.name, report.summary.markdown)
      .catch((e: unknown) => log.debug(`could not write the build summary: ${errorMessage(e)}`));
  if (!outcome.ok) host.fail(outcome.failure.message);
}
