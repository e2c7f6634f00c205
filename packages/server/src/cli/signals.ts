import type { Logger } from 'pino';

/** What `tessera start` hands over once it listens. */
export interface StoppableServer {
  /** The graceful shutdown (see `Tessera.close`). */
  close(): Promise<void>;
  readonly logger: Logger;
  /** How long the graceful shutdown may take before the process gives up on it. */
  readonly shutdownTimeoutMs: number;
}

type SignalSource = Pick<NodeJS.Process, 'on'>;

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const FLUSH_WAIT_MS = 1000;

/**
 * SIGTERM or SIGINT shut the server down gracefully and exit 0. The shutdown is bounded: past
 * `shutdownTimeoutMs` the process exits 1, and a second signal exits 1 at once (an operator who
 * presses Ctrl-C twice means it).
 */
export function stopOnSignals(
  server: StoppableServer,
  exit: (code: number) => void,
  source: SignalSource = process,
): void {
  const { logger, shutdownTimeoutMs } = server;
  // pino writes asynchronously: without a flush, the last lines could reach the output out of
  // order, or not at all. A stdout that does not drain must not hold the exit, though.
  const finish = (code: number) => {
    const fallback = setTimeout(() => exit(code), FLUSH_WAIT_MS);
    logger.flush(() => {
      clearTimeout(fallback);
      exit(code);
    });
  };
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'shutdown: second signal; exiting without waiting');
      finish(1);
      return;
    }
    stopping = true;
    logger.info({ signal, timeoutMs: shutdownTimeoutMs }, 'shutdown: signal received; stopping gracefully');
    const bound = setTimeout(() => {
      logger.error({ timeoutMs: shutdownTimeoutMs }, 'shutdown: not finished within the shutdown timeout; exiting');
      finish(1);
    }, shutdownTimeoutMs);
    server.close().then(
      () => {
        clearTimeout(bound);
        logger.info('shutdown: complete');
        finish(0);
      },
      (error: unknown) => {
        clearTimeout(bound);
        logger.error({ err: error }, 'shutdown: failed');
        finish(1);
      },
    );
  };
  for (const signal of SIGNALS) source.on(signal, onSignal);
}
