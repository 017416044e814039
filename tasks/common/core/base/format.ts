// How the tasks write commits, durations and counts, in the log and in summaries alike.

/** A commit as people read it: its first 8 hex digits (empty for none). */
export const short = (sha: string | null): string => (sha ? sha.slice(0, 8) : '');

/** `9s`, `1m05s` */
export function seconds(ms: number): string {
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))}s`;
  return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/** `1 commit`, `3 commits` */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
