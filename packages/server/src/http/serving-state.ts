/**
 * Where a server is in its life, as the HTTP layer needs to know it:
 *
 * - `serving`: normal work;
 * - `draining`: shutdown began; /readyz answers 503 so that a load balancer sends new traffic
 *   elsewhere, and every request is still served;
 * - `closing`: the port is closed; a request arriving on a kept-alive connection answers 503
 *   server_shutdown, and every answer closes its connection.
 */
export type ServingPhase = 'serving' | 'draining' | 'closing';

export class ServingState {
  #phase: ServingPhase = 'serving';

  get phase(): ServingPhase {
    return this.#phase;
  }

  /** Moves forward only: a server never goes back to serving. */
  advance(phase: 'draining' | 'closing'): void {
    if (phase === 'draining' && this.#phase !== 'serving') return;
    this.#phase = phase;
  }
}
