import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';
import type { FastifyBaseLogger } from 'fastify';

type LogArguments = [object | string, ...unknown[]];

/**
 * `request.log`, made only when something is logged through it. Fastify makes a pino child per
 * request, which costs about as much as a small route; most requests log one line, which the
 * server writes through the root logger with the request id. Errors and refusals still log
 * through `request.log`, with the same bindings as an eager child would have. One object per
 * request, its methods on the prototype: closures per request would cost what the child did.
 */
export class LazyRequestLogger implements FastifyBaseLogger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions = {},
  ) {}

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  fatal(...args: LogArguments): void {
    this.write('fatal', args);
  }

  error(...args: LogArguments): void {
    this.write('error', args);
  }

  warn(...args: LogArguments): void {
    this.write('warn', args);
  }

  info(...args: LogArguments): void {
    this.write('info', args);
  }

  debug(...args: LogArguments): void {
    this.write('debug', args);
  }

  trace(...args: LogArguments): void {
    this.write('trace', args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  private real(): Logger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  /** A level the parent does not write costs nothing, not even the child. */
  private write(level: Level, args: LogArguments): void {
    if (this.made === undefined && !this.parent.isLevelEnabled(level)) return;
    const logger = this.real();
    Reflect.apply(logger[level], logger, args);
  }
}
