// Waiting, injectable so that polling loops are tested without real time passing.

/** Waits `ms` milliseconds. */
export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A settled promise's value, or its error thrown again (for reads started together, reported in order). */
export function settled<T>(result: PromiseSettledResult<T>): Promise<T> {
  return result.status === 'fulfilled' ? Promise.resolve(result.value) : Promise.reject(result.reason as Error);
}
