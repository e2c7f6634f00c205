/**
 * Waits for `promise` for `milliseconds` at most (a real timer: a bound on waiting for I/O, not
 * business time). Resolves true when it settled in time, false when the time ran out first;
 * never rejects, so the caller decides what the promise's own failure means.
 */
export async function settledWithin(promise: Promise<unknown>, milliseconds: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), milliseconds);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, timeUp]);
  } finally {
    clearTimeout(timer);
  }
}
