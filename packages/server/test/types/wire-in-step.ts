/**
 * Compile-time checks (run by `npm run typecheck`, not by vitest) for the wire types that cannot
 * be derived from one schema: each names two things that must stay in step.
 */
import type {
  AuthenticatedFrame,
  AuthenticationBody,
  AuthenticationResult,
  Page,
  RealtimeAuthentication,
  RefreshedFrame,
  SessionSummarySchema,
  User,
  UserSchema,
  pageOf,
} from '@tessera/protocol';
import type { Static } from 'typebox';
import type { StrategyName } from '../../src/auth/strategies/settings.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

export type WireInStep = [
  // Every strategy an app can configure has a login body in protocol, and no other body exists.
  Assert<Equal<AuthenticationBody['strategy'], StrategyName>>,
  // `Page<T>` is generic, so it is written out; `pageOf` must build the same shape.
  Assert<Equal<Static<ReturnType<typeof pageOf<typeof UserSchema>>>, Page<User>>>,
  // A realtime login shows the session and the user as a REST login does.
  Assert<Equal<AuthenticatedFrame['session'], Static<typeof SessionSummarySchema>>>,
  Assert<Equal<RefreshedFrame['session'], AuthenticationResult['session']>>,
  Assert<Equal<AuthenticatedFrame['user'], AuthenticationResult['user']>>,
  // …and its authentication, where a frame that issued no reconnect token leaves out its expiry.
  Assert<AuthenticationResult['authentication'] extends RealtimeAuthentication ? true : false>,
  Assert<Equal<keyof RealtimeAuthentication, keyof AuthenticationResult['authentication']>>,
];
