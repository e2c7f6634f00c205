import { SCOPE_NAMES, isScope, type Scope } from '@tessera/protocol';
import { TesseraError } from '../errors.js';
import type { ApiKeyKind } from '../store/repositories/index.js';

/**
 * The scopes a new key is made with, from what the operator asked for (admin API or CLI).
 * No list (`null`) makes a full-access secret key; a publishable key never has scopes. The
 * list is kept in the vocabulary's order, each scope once, so listings read the same every time.
 */
export function checkedKeyScopes(kind: ApiKeyKind, requested: readonly string[] | null): readonly Scope[] | null {
  if (requested === null) return null;
  if (kind === 'publishable') {
    throw new TesseraError('invalid_request', {
      message: 'A publishable key has no scopes; scopes are for secret keys.',
      details: [{ path: '/scopes', message: 'only a secret key has scopes' }],
    });
  }
  const unknown = requested.findIndex((name) => !isScope(name));
  if (unknown !== -1) {
    const name = requested[unknown];
    throw new TesseraError('invalid_request', {
      message: `Unknown scope ${JSON.stringify(name)}; the scopes are ${SCOPE_NAMES.join(', ')}.`,
      details: [{ path: `/scopes/${unknown}`, message: `unknown scope ${JSON.stringify(name)}` }],
    });
  }
  if (requested.length === 0) {
    throw new TesseraError('invalid_request', {
      message: 'Name at least one scope, or leave scopes out for a full-access key.',
      details: [{ path: '/scopes', message: 'must name at least one scope' }],
    });
  }
  return SCOPE_NAMES.filter((scope) => requested.includes(scope));
}
