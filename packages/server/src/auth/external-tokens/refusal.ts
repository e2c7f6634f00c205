import type { Logger } from 'pino';
import { TesseraError } from '../../errors.js';

/**
 * An external token (a trusted issuer's JWT, an OpenID provider's ID token) refused. The client
 * hears one answer whatever the reason — `invalid_token` with the same message and no details —
 * so a forger learns nothing: not whether the signature verified, which key was unknown, nor
 * which claim failed, nor that the token had merely expired. The reason goes to the log.
 */
export class ExternalTokenRefused extends TesseraError {
  constructor(
    /** Why, in one stable word (`bad_signature`, `expired`, `weak_key`…); for the log only. */
    readonly reason: string,
    /** The same, said plainly; for the log only. */
    readonly explanation: string,
    /** What the log may name besides: the claim, the kid. Never the token. */
    readonly facts: Readonly<Record<string, string>> = {},
  ) {
    super('invalid_token', { message: REFUSED_MESSAGE });
  }

  /** The same refusal, with more for the log (facts already known win). */
  withFacts(more: Readonly<Record<string, string | undefined>>): ExternalTokenRefused {
    const known = Object.fromEntries(
      Object.entries(more).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    return new ExternalTokenRefused(this.reason, this.explanation, { ...known, ...this.facts });
  }
}

/** The one message every refused external token gets. */
export const REFUSED_MESSAGE = "The token is not valid. The server's log says why.";

/** Writes why an external token was refused (`info`: app, strategy, the facts — issuer, kid, claim — and the reason); other errors pass by. */
export function logRefusal(logger: Logger, error: unknown, where: { app: string; strategy: string }): void {
  if (!(error instanceof ExternalTokenRefused)) return;
  logger.info({ ...where, ...error.facts, reason: error.reason }, `external token refused: ${error.explanation}`);
}
