import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';
import * as loginMethods from './0002_login_methods.js';
import * as anonymous from './0003_anonymous.js';
import * as sessionsCutoff from './0004_sessions_cutoff.js';
import * as keyScopes from './0005_key_scopes.js';
import * as externalIds from './0006_external_ids.js';
import * as roles from './0007_roles.js';
import * as appEvents from './0008_app_events.js';

/**
 * Every migration, in order. Listed statically (not read from a folder at run time) so that
 * the compiled server and the test runner see exactly the same set. Never edit a released
 * migration: add a new one.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_login_methods': loginMethods,
  '0003_anonymous': anonymous,
  '0004_sessions_cutoff': sessionsCutoff,
  '0005_key_scopes': keyScopes,
  '0006_external_ids': externalIds,
  '0007_roles': roles,
  '0008_app_events': appEvents,
};
