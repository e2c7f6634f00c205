/**
 * The login strategies that continue the session whose token they present, instead of starting
 * a new one: they supersede that session's tokens. The server's registry is tested against this
 * list, and the client rotates its stored credentials for these.
 */
export const SESSION_RESUMING_STRATEGIES = ['reconnect', 'access-token'] as const;

export type SessionResumingStrategy = (typeof SESSION_RESUMING_STRATEGIES)[number];
