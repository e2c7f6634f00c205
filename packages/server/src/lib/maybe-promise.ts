/**
 * A value now, or later. The hot paths (an authenticated request whose app, token and session
 * this node already holds) answer synchronously: an `await` or a `.then` there costs a
 * microtask turn, and an HTTP answer that leaves the request's own tick costs Node's stream
 * machinery several more. Anything that must read the store still returns a promise.
 */
export type MaybePromise<T> = T | Promise<T>;

/** `next` applied at once to a value that is here, or when the promise resolves. */
export function andThen<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/**
 * Calls `done` Fastify's way (an error, or nothing) once `run`'s value is here: synchronously
 * when it is, so a callback-style hook stays in the request's tick.
 */
export function callbackOnce<T>(
  run: () => MaybePromise<T>,
  use: (value: T) => void,
  done: (error?: Error) => void,
): void {
  let value: MaybePromise<T>;
  try {
    value = run();
  } catch (error) {
    done(error as Error);
    return;
  }
  if (value instanceof Promise) {
    value.then(
      (resolved) => {
        use(resolved);
        done();
      },
      (error: unknown) => done(error as Error),
    );
  } else {
    use(value);
    done();
  }
}
