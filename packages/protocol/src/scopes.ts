/**
 * The scopes a secret key may carry: the one vocabulary the server's routes declare, the admin
 * API and CLI accept, and docs list.
 *
 * A secret key whose scope list is `null` (every key made before scopes existed, and any key made
 * without naming scopes) has full access: every scope, including scopes added later. A publishable
 * key has no scopes; what it may do is fixed (sign up when the app allows it, log in).
 *
 * Each scope allows exactly the calls it names: `users:write` does not include `users:read`.
 * Scopes are never renamed; a retired scope is never reused.
 */
import Type, { type Static } from 'typebox';
import { nullable, oneOfStrings } from './schema.js';

/** Every scope, with what it allows. */
export const SCOPES = {
  'users:read': 'List users and get one.',
  'users:write': 'Sign users up (even when public signup is off), update, disable, enable and delete them.',
  'sessions:read': "See a user's live sessions, and introspect access tokens.",
  'sessions:write': "End a user's sessions, one or all.",
  'auth-tokens:read': "List a user's auth tokens (never the tokens themselves).",
  'auth-tokens:write': 'Make auth tokens for users, and revoke them.',
  import: 'Reserved for importing users from another platform; no call takes it yet, and only it will.',
} as const;

export type Scope = keyof typeof SCOPES;

/** The scopes in the order the docs, the admin API and the CLI list them. */
export const SCOPE_NAMES = Object.keys(SCOPES) as Scope[];

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && Object.hasOwn(SCOPES, value);
}

/** Whether a key with these scopes (`null`: full access) may make a call that needs `needed`. */
export function scopesAllow(scopes: readonly Scope[] | null, needed: Scope): boolean {
  return scopes === null || scopes.includes(needed);
}

export const ScopeSchema = oneOfStrings(SCOPE_NAMES);

/** A key's scopes as the admin API lists them. */
export const KeyScopesSchema = nullable(
  Type.Array(ScopeSchema, {
    description:
      'The scopes of a secret key. null: full access (every scope, also those added later), as every key made before scopes existed. A publishable key has none: [].',
  }),
);
export type KeyScopes = Static<typeof KeyScopesSchema>;
