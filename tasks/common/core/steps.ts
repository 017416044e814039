// A deploy as named steps, each in its own log group, each with its outcome for the summary; and
// the undo of every temporary change, run on every exit path, whose failure is reported.
import { DeployError, errorMessage } from './errors';
import type { DeployLog } from './log';

export type StepOutcome = 'done' | 'skipped' | 'failed' | 'restored' | 'not restored';

export interface StepRecord {
  name: string;
  outcome: StepOutcome;
  detail: string;
}

interface Undo {
  name: string;
  run: () => Promise<string>;
}

export class Steps {
  readonly records: StepRecord[] = [];
  private undos: Undo[] = [];

  constructor(private readonly log: DeployLog) {}

  /**
   * Runs a step in a log group (unless it makes its own groups: `group: false`); `describe` says
   * what it did, for the summary.
   */
  async run<T>(name: string, body: () => Promise<T>, describe: (value: T) => string = () => '', options: { group?: boolean } = {}): Promise<T> {
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

  /** Registers the undo of a temporary change, to run on every exit path. */
  undoLater(name: string, run: () => Promise<string>): void {
    this.undos.push({ name, run });
  }

  /** Runs one registered undo now (in the deploy's order); it will not run again. */
  async undoNow(name: string): Promise<void> {
    const undo = this.undos.find((u) => u.name === name);
    if (!undo) return;
    this.undos = this.undos.filter((u) => u !== undo);
    const failure = await this.runUndo(undo);
    if (failure) throw failure;
  }

  /**
   * Runs every undo still pending, newest first, each attempted even if another fails. Returns the
   * failures as one error (never swallowed: the caller reports it), or null.
   */
  async unwind(): Promise<DeployError | null> {
    const pending = this.undos.reverse();
    this.undos = [];
    const failures: DeployError[] = [];
    for (const undo of pending) {
      const failure = await this.runUndo(undo);
      if (failure) failures.push(failure);
    }
    if (failures.length === 0) return null;
    return new DeployError('undo', failures.map((f) => f.message).join(' '), failures.flatMap((f) => f.details));
  }

  private async runUndo(undo: Undo): Promise<DeployError | null> {
    try {
      const detail = await this.log.group(undo.name, undo.run);
      this.records.push({ name: undo.name, outcome: 'restored', detail });
      return null;
    } catch (error) {
      const message = errorMessage(error);
      this.records.push({ name: undo.name, outcome: 'not restored', detail: message });
      this.log.warn(`${undo.name} FAILED: ${message}`);
      return new DeployError('undo', `${undo.name} failed: ${message}`);
    }
  }
}
