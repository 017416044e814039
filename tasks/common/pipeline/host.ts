// What a task needs of the Azure Pipelines agent, as an interface: the adapter implements it with
// task-lib, test/support/fake-host.ts in memory (so that each entry is tested in milliseconds).
import type { TaskLog } from '../core/base/log';
import type { NetworkSettings } from '../core/base/network';

export interface TaskHost {
  /** An input as the agent gives it ('' when unset); task-lib's debug log may echo it. */
  input(name: string): string;
  /** An input read without echoing its value anywhere (multi-line inputs that may hold secrets). */
  quietInput(name: string): string;
  /** An input that is a secret: read without echo, and registered for masking. */
  secretInput(name: string): string;
  /** A pipeline variable, or undefined when it is not set (or empty). */
  variable(name: string): string | undefined;
  /** A service connection's URL, or undefined. */
  endpointUrl(connection: string): string | undefined;
  /** A service connection's secret parameter (`apitoken`, `AccessToken`): read without echo, registered for masking. */
  endpointSecret(connection: string, parameter: string): string | undefined;
  /** The agent's proxy and CA. */
  network(): NetworkSettings;
  /** The log: lines, warnings, groups, and masking of values derived from secrets. */
  log: TaskLog;
  /** Aborted when the agent cancels the task (SIGINT, then SIGTERM). */
  signal: AbortSignal;
  setOutput(name: string, value: string): void;
  /** Adds a markdown section to the build summary. */
  uploadSummary(name: string, markdown: string): Promise<void>;
  /** Marks the task failed with `message` (the issue the pipeline shows). */
  fail(message: string): void;
}
