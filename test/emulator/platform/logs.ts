// An app's recent log lines in Logplex's format:
// `2026-11-23T18:42:01.123456+00:00 app[web.1]: listening on 5000`.

export interface LogLine {
  time: Date;
  /** `app` (what the app's processes print) or `heroku` (router and platform lines). */
  source: 'app' | 'heroku';
  /** `web.1`, `release.4123`, `router`, `api`. */
  dyno: string;
  message: string;
}

export interface LogFilter {
  source?: string | null;
  dyno?: string | null;
  type?: string | null;
}

const KEEP = 1500; // Heroku keeps the last 1,500 lines

export function formatLogLine(line: LogLine): string {
  const iso = line.time.toISOString(); // 2026-11-23T18:42:01.123Z
  const micros = String((line.time.getTime() % 1000) * 1000).padStart(6, '0');
  return `${iso.slice(0, 19)}.${micros}+00:00 ${line.source}[${line.dyno}]: ${line.message}`;
}

function accepts(filter: LogFilter, line: LogLine): boolean {
  if (filter.source && filter.source !== line.source) return false;
  if (filter.dyno && line.dyno !== filter.dyno && !line.dyno.startsWith(`${filter.dyno}.`)) return false;
  if (filter.type && line.dyno.split('.')[0] !== filter.type) return false;
  return true;
}

export class AppLogs {
  private readonly lines: LogLine[] = [];
  private readonly listeners = new Set<(line: LogLine) => void>();

  add(source: LogLine['source'], dyno: string, message: string): void {
    for (const text of message.split(/\r?\n/)) {
      if (text === '') continue;
      const line: LogLine = { time: new Date(), source, dyno, message: text };
      this.lines.push(line);
      if (this.lines.length > KEEP) this.lines.shift();
      for (const listener of this.listeners) listener(line);
    }
  }

  recent(count: number, filter: LogFilter = {}): string[] {
    return this.lines
      .filter((l) => accepts(filter, l))
      .slice(-count)
      .map(formatLogLine);
  }

  /** Calls `onLine` for each new matching line until the returned function is called. */
  follow(filter: LogFilter, onLine: (formatted: string) => void): () => void {
    const listener = (line: LogLine): void => {
      if (accepts(filter, line)) onLine(formatLogLine(line));
    };
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
