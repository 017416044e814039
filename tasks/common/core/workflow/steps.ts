// A task as named steps, each in its own log group, each with its outcome for the summary; and
// the undo of every temporary change, run on every exit path, whose failure is reported.
import { TaskError, cancelled, errorMessage, toTaskError } from '../base/errors';
import type { TaskLog } from '../base/log';

export type StepOutcome = 'done' | 'skipped' | 'failed' | 'restored' | 'not restored';

export interface StepRecord {
  name: string;
  outcome: StepOutcome;
  detail: string;
}

/** A registered undo: what undoLater returns and undoNow takes. */
export interface Undo {
  readonly name: string;
  readonly run: () => Promise<string>;
  /** The command that does it by hand, for when it is left undone. */
  readonly byHand: string;
}

export class Steps {
  readonly records: StepRecord[] = [];
  private undos: Undo[] = [];

  /** `signal`: the task's cancel; once it aborts no step starts (undos still run, at once). */
  constructor(
    private readonly log: TaskLog,
    private readonly signal?: AbortSignal,
  ) {}

  /**
   * Runs a step in a log group (unless it makes its own groups: `group: false`); `describe` says
   * what it did, for the summary.
   */
  async run<T>(
    name: string,
    body: () => Promise<T>,
    describe: (value: T) => string = () => '',
    options: { group?: boolean } = {},
  ): Promise<T> {
    if (this.signal?.aborted) throw cancelled(`starting the step "${name}": it was not started`);
    try {
      const value = options.group === false ? await body() : await this.log.group(name, body);
      this.records.push({ name, outcome: 'done', detail: describe(value) });
      return value;
    } catch (error) {
      this.records.push({ name, outcome: 'failed', detail: errorMessage(error) });
      throw error;
    }
  }

  skip(name: string, why: string): void {
    this.records.push({ name, outcome: 'skipped', detail: why });
  }

  /** Registers the undo of a temporary change, to run on every exit path; the handle runs it sooner. */
  undoLater(name: string, run: () => Promise<string>, byHand: string): Undo {
    const undo = { name, run, byHand };
    this.undos.push(undo);
    return undo;
  }

  /** Runs a registered undo now (in the task's order), unless it already ran; it will not run again. */
  async undoNow(undo: Undo | null): Promise<void> {
    if (!undo || !this.undos.includes(undo)) return;
    this.undos = this.undos.filter((u) => u !== undo);
    const failure = await this.runUndo(undo);
    if (failure) throw failure;
  }

  /**
   * Drops every pending undo without running it, each with a warning: for when the changes are no
   * longer this run's own (another deploy of the app made the same ones and will undo them).
   */
  leaveUndone(why: string): void {
    for (const undo of this.undos) {
      this.records.push({ name: undo.name, outcome: 'not restored', detail: `left as it is: ${why}` });
      this.log.warn(`${undo.name}: not done, ${why}. If it stays so, run \`${undo.byHand}\`.`);
    }
    this.undos = [];
  }

  /**
   * Runs `body`, then every undo still pending, on every exit path. An undo that fails fails the
   * task, and its message says what had failed before (`noun`: what the task was doing, e.g. deploy).
   */
  async undoingOnExit<T>(noun: string, body: () => Promise<T>): Promise<T> {
    let value: T;
    try {
      value = await body();
    } catch (error) {
      const failure = toTaskError(error);
      const undoFailure = await this.unwind();
      if (!undoFailure) throw failure;
      throw new TaskError('undo', `${undoFailure.message} (The ${noun} had failed: ${failure.message})`, [
        ...failure.details,
        ...undoFailure.details,
      ]);
    }
    const undoFailure = await this.unwind();
    if (undoFailure) throw undoFailure;
    return value;
  }

  /**
   * Runs every undo still pending, newest first, each attempted even if another fails. Returns the
   * failures as one error (never swallowed: the caller reports it), or null.
   */
  private async unwind(): Promise<TaskError | null> {
    const pending = this.undos.reverse();
    this.undos = [];
    let failures: Array<TaskError | null>;
    if (this.signal?.aborted) {
      // Cancelled: the agent kills the task seconds later, so every undo starts now, side by side.
      failures = await Promise.all(pending.map((undo) => this.runUndo(undo, false)));
    } else {
      failures = [];
      for (const undo of pending) failures.push(await this.runUndo(undo));
    }
    const failed = failures.filter((f): f is TaskError => f !== null);
    if (failed.length === 0) return null;
    return new TaskError(
      'undo',
      failed.map((f) => f.message).join(' '),
      failed.flatMap((f) => f.details),
    );
  }

  private async runUndo(undo: Undo, grouped = true): Promise<TaskError | null> {
    try {
      const detail = grouped ? await this.log.group(undo.name, undo.run) : await undo.run();
      if (!grouped) this.log.info(`${undo.name}: ${detail}`);
      this.records.push({ name: undo.name, outcome: 'restored', detail });
      return null;
    } catch (error) {
      const message = errorMessage(error);
      this.records.push({ name: undo.name, outcome: 'not restored', detail: message });
      this.log.warn(`${undo.name} FAILED: ${message}`);
      return new TaskError('undo', `${undo.name} failed: ${message}`);
    }
  }
}
