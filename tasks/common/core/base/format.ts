// How the tasks write commits, durations and counts, in the log and in summaries alike.

/** A commit as people read it: its first 8 hex digits (empty for none). */
export const short = (sha: string | null): string => (sha ? sha.slice(0, 8) : '');

/** `9s`, `1m05s` */
export function seconds(ms: number): string {
  // Whole seconds first, so that 59.6 s is `1m00s`, never `60s` or `1m60s`.
  const total = Math.round(ms / 1000);
  if (total < 60) return `${Math.max(1, total)}s`;
  return `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s`;
}

/** `1 commit`, `3 commits` */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
