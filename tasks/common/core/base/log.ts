// How the core reports progress. The pipeline adapter implements it (log groups, secrets, warnings).

export interface TaskLog {
  info(line: string): void;
  warn(line: string): void;
  debug(line: string): void;
  /** Runs `body` with its output in a collapsible group titled `title`. */
  group<T>(title: string, body: () => Promise<T>): Promise<T>;
  /** Registers a value derived from a secret so that it is masked wherever it is printed. */
  secret(value: string): void;
}
