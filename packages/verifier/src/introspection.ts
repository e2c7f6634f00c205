import type { Introspection } from '@tessera/protocol';
import { VerifierError } from './errors.js';
import type { Timeline } from './timeline.js';

/** Where and how the verifier asks Tessera about a token (RFC 7662). */
export interface IntrospectionTarget {
  /** `{url}/v1/apps/{ns}/{app}/introspect`. */
  url: string;
  secretKey: string;
  timeoutMs: number;
}

/**
 * Whether Tessera says the token is usable now: `POST …/introspect` with the secret key. Any
 * other answer than a 200 (Tessera unreachable, a timeout, a refused key) is `unavailable`.
 */
export async function introspect(target: IntrospectionTarget, token: string): Promise<boolean> {
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tessera-key': target.secretKey },
      body: JSON.stringify({ token }),
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (cause) {
    throw new VerifierError('unavailable', { message: 'Tessera could not be asked about the token.', cause });
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new VerifierError('unavailable', {
      message: `Tessera answered the token introspection with HTTP ${response.status}.`,
    });
  }
  const answer = (await response.json().catch(() => undefined)) as Partial<Introspection> | undefined;
  if (typeof answer?.active !== 'boolean')
    throw new VerifierError('unavailable', { message: 'Tessera answered the token introspection with no `active`.' });
  return answer.active;
}

interface Answer {
  until: number;
  active: Promise<boolean>;
}

/**
 * Introspection answers by token, each kept `ttlMs` of the timeline, the `maxEntries` most
 * recent ones; concurrent questions about one token share a request. A failed request is not
 * kept.
 */
export class IntrospectionCache {
  private readonly answers = new Map<string, Answer>();

  constructor(
    private readonly target: IntrospectionTarget,
    private readonly timeline: Timeline,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  active(token: string): Promise<boolean> {
    const now = this.timeline.now();
    const known = this.answers.get(token);
    if (known !== undefined && known.until > now) return known.active;
    this.answers.delete(token);
    if (this.answers.size >= this.maxEntries) this.answers.delete(this.answers.keys().next().value!);
    const active = introspect(this.target, token);
    const answer = { until: now + this.ttlMs, active };
    this.answers.set(token, answer);
    active.catch(() => {
      if (this.answers.get(token) === answer) this.answers.delete(token);
    });
    return active;
  }

  clear(): void {
    this.answers.clear();
  }
}
