// An in-memory TaskHost: what the agent would give a task (inputs, variables, service connections)
// and what the task gave back (log lines, secrets, outputs, summaries, its result), so that each
// entry's "inputs -> request" and "result -> outputs" are tested in-process in milliseconds.
import type { TaskLog } from '../../tasks/common/core/base/log';
import { DIRECT, type NetworkSettings } from '../../tasks/common/core/base/network';
import type { TaskHost } from '../../tasks/common/pipeline/host';

export interface FakeAgent {
  inputs?: Record<string, string>;
  variables?: Record<string, string>;
  /** Service connections by id: their URL and authorization parameters. */
  connections?: Record<string, { url?: string; parameters: Record<string, string> }>;
  network?: NetworkSettings;
}

export class FakeHost implements TaskHost {
  /** Everything printed, in order: `info`, `warn: …`, `[group]` / `[endgroup]`. */
  readonly lines: string[] = [];
  readonly debugLines: string[] = [];
  readonly secrets: string[] = [];
  readonly outputs: Record<string, string> = {};
  readonly summaries: Array<{ name: string; markdown: string }> = [];
  /** Inputs read through input(), the path task-lib echoes to the debug log. */
  readonly echoedInputs: string[] = [];
  failure: string | null = null;
  readonly controller = new AbortController();
  readonly signal = this.controller.signal;

  readonly log: TaskLog = {
    info: (line) => this.lines.push(line),
    warn: (line) => this.lines.push(`warn: ${line}`),
    debug: (line) => this.debugLines.push(line),
    group: async (title, body) => {
      this.lines.push(`[group] ${title}`);
      try {
        return await body();
      } finally {
        this.lines.push('[endgroup]');
      }
    },
    secret: (value) => this.secrets.push(value),
  };

  constructor(private readonly agent: FakeAgent = {}) {}

  input(name: string): string {
    this.echoedInputs.push(name);
    return this.agent.inputs?.[name] ?? '';
  }

  quietInput(name: string): string {
    return this.agent.inputs?.[name] ?? '';
  }

  secretInput(name: string): string {
    const value = this.agent.inputs?.[name] ?? '';
    if (value.trim()) this.secrets.push(value.trim());
    return value;
  }

  variable(name: string): string | undefined {
    return this.agent.variables?.[name] || undefined;
  }

  endpointUrl(connection: string): string | undefined {
    return this.agent.connections?.[connection]?.url;
  }

  endpointSecret(connection: string, parameter: string): string | undefined {
    const value = this.agent.connections?.[connection]?.parameters[parameter];
    if (value?.trim()) this.secrets.push(value.trim());
    return value;
  }

  network(): NetworkSettings {
    return this.agent.network ?? DIRECT;
  }

  setOutput(name: string, value: string): void {
    this.outputs[name] = value;
  }

  uploadSummary(name: string, markdown: string): Promise<void> {
    this.summaries.push({ name, markdown });
    return Promise.resolve();
  }

  fail(message: string): void {
    this.failure = message;
  }
}
