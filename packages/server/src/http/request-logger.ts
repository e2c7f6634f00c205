import type { Bindings, ChildLoggerOptions, Level, LogFn, Logger } from 'pino';
import type { FastifyBaseLogger } from 'fastify';

/**
 * `request.log`, made only when something is logged through it. Fastify makes a pino child per
 * request, which costs about as much as a small route; most requests log one line, which the
 * server writes through the root logger with the request id. Errors and refusals still log
 * through `request.log`, with the same bindings as an eager child would have.
 */
export function lazyRequestLogger(parent: Logger, bindings: Bindings, options: ChildLoggerOptions = {}): FastifyBaseLogger {
  let child: Logger | undefined;
  const real = () => (child ??= parent.child(bindings, options));
  // A level the parent does not write costs nothing, not even the child.
  const write = (level: Level): LogFn =>
    ((...args: Parameters<LogFn>) => {
      if (child !== undefined || parent.isLevelEnabled(level)) real()[level](...args);
    });
  const logger: FastifyBaseLogger = {
    get level() {
      return child?.level ?? options.level ?? parent.level;
    },
    set level(level: string) {
      real().level = level;
    },
    fatal: write('fatal'),
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    trace: write('trace'),
    silent: () => undefined,
    child: (more, moreOptions) => real().child(more, moreOptions),
  };
  return logger;
}
