// Waiting, injectable so that polling loops are tested without real time passing.

/** Waits `ms` milliseconds, or less if `signal` aborts first (the caller then sees it aborted). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: done() takes the listener off itself, so `once` changes nothing
    signal?.addEventListener('abort', done, { once: true });
  });

/** A settled promise's value, or its error thrown again (for reads started together, reported in order). */
export function settled<T>(result: PromiseSettledResult<T>): Promise<T> {
  return result.status === 'fulfilled' ? Promise.resolve(result.value) : Promise.reject(result.reason as Error);
}
