// The exit status of a one-off command, the way Heroku's CLI gets it (`heroku run --exit-code`,
// src/lib/run/dyno.ts in heroku/cli 11.10.0): the command is sent as
// `<command> ; echo "\uFFFF heroku-command-exit-status: $?"` (the space before `;` keeps the first
// word a bare process type the runtime can resolve) and the dyno's output is searched for that line.

const MARKER = '\uFFFF heroku-command-exit-status: ';
/** The rendezvous server's greeting, the first thing a client reads (the CLI discards the first chunk). */
const GREETING = 'rendezvous';
/** The longest line passed on; longer ones are cut. */
const MAX_LINE_CHARS = 64 * 1024;

/** The command as sent to Heroku: the user's, then an echo of its status after a marker. */
export function withExitStatus(command: string): string {
  return `${command} ; echo "${MARKER}$?"`;
}

/**
 * Reads a dyno's output as it arrives: complete lines go to `onLine` (carriage returns dropped, the
 * greeting and the marker line left out), and the status after the marker is kept. The last marker
 * wins: the echo the task added runs after everything the command printed.
 */
export class DynoOutput {
  private partial = '';
  private greeted = false;
  private cutting = false;
  /** The command's exit status, once the marker line has been read. */
  status: number | null = null;

  constructor(private readonly onLine: (line: string) => void) {}

  push(text: string): void {
    if (this.cutting) {
      // The rest of a line that was cut: dropped up to its end.
      const end = text.indexOf('\n');
      if (end < 0) return;
      this.cutting = false;
      text = text.slice(end + 1);
    }
    const lines = (this.partial + text).split('\n');
    // Stryker disable next-line StringLiteral: split() always returns at least one element; the default only satisfies the type checker
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
    if (this.partial.length > MAX_LINE_CHARS) {
      this.line(`${this.partial.slice(0, MAX_LINE_CHARS)} [line cut at 64 KB]`);
      this.partial = '';
      this.cutting = true;
    }
  }

  /** The connection ended: what is left is the last line. */
  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
  }

  private line(raw: string): void {
    const line = raw.replace(/\r+$/, '');
    if (!this.greeted) {
      this.greeted = true;
      if (line === GREETING) return;
    }
    const at = line.lastIndexOf(MARKER);
    const status = at >= 0 ? /^(\d+)$/.exec(line.slice(at + MARKER.length)) : null;
    if (status) {
      this.status = Number(status[1]);
      // A command whose last line has no newline: its text is before the marker, on the same line.
      if (at > 0) this.onLine(line.slice(0, at));
      return;
    }
    this.onLine(line);
  }
}
