import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';
import { issuersKeyStrengthProblem } from '../auth/strategies/jwt/key-config.js';
import { StrategiesSettings } from '../auth/strategies/settings.js';
import { RateLimitsSettings } from '../auth/limits/settings.js';
import { LoginThrottleSettings } from '../auth/throttle/settings.js';
import { PasswordPolicySettings } from '../auth/passwords/settings.js';
import { RealtimeSettings } from './realtime-settings.js';
import { AllowedOriginsSetting } from './allowed-origins.js';
import { AccessTokenClaimsSettings } from './access-token-claims.js';
import { NewUserRolesSettings } from './new-user-roles.js';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Per-app settings, with their defaults. Durations are in seconds. Stored as JSON on the app;
 * a stored document is re-read through this schema, so a setting added later gets its default.
 */
export const AppSettingsSchema = Type.Object(
  {
    publicSignup: Type.Boolean({
      default: true,
      description: 'Whether a publishable key may sign users up. The secret key always may.',
    }),
    signingAlgorithm: Type.Union([Type.Literal('EdDSA'), Type.Literal('ES256')], {
      default: 'EdDSA',
      description: 'Algorithm of new signing keys.',
    }),
    accessTokenTtl: Type.Integer({
      default: 15 * MINUTE,
      minimum: 30,
      maximum: DAY,
      description: 'Lifetime of an access token.',
    }),
    accessTokenClaims: AccessTokenClaimsSettings,
    newUserRoles: NewUserRolesSettings,
    sessionIdleTimeout: Type.Integer({
      default: 2 * HOUR,
      minimum: MINUTE,
      maximum: 90 * DAY,
      description: 'A session with no activity for this long ends.',
    }),
    sessionLifetime: Type.Integer({
      default: 30 * DAY,
      minimum: 5 * MINUTE,
      maximum: 400 * DAY,
      description: 'A session ends this long after login, active or not.',
    }),
    reconnectTokenTtl: Type.Integer({
      default: DAY,
      minimum: MINUTE,
      maximum: 90 * DAY,
      description: 'Lifetime of a reconnect token.',
    }),
    reconnectGracePeriod: Type.Integer({
      default: 30,
      minimum: 0,
      maximum: 5 * MINUTE,
      description:
        'A spent reconnect token presented again this soon (parallel refreshes, a retry after a lost response), before its successor is used, gets that same successor; later it is taken for theft and ends the session. 0: never.',
    }),
    autoProvisionUsers: Type.Boolean({
      default: false,
      description:
        'Whether a login by an external identity (trusted JWT, OpenID, identity provider) that matches no user creates one. Off by default, as ConnectyCube recommends; a trusted issuer or provider may say otherwise for itself.',
    }),
    revealDisabledUsers: Type.Boolean({
      default: false,
      description:
        'Whether a disabled user who gives the right password is told so (401 user_disabled). Off by default: the answer is the wrong password\'s (401 invalid_credentials), so that a guesser cannot learn that a password is right. See docs/guide.md, "Disabled users".',
    }),
    passwordPolicy: PasswordPolicySettings,
    allowedOrigins: AllowedOriginsSetting,
    loginThrottle: LoginThrottleSettings,
    rateLimits: RateLimitsSettings,
    strategies: StrategiesSettings,
    realtime: RealtimeSettings,
  },
  { additionalProperties: false },
);

export type AppSettings = Static<typeof AppSettingsSchema>;

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** A partial update of the settings, merged into the current ones (RFC 7396 style: objects merge, arrays and values replace). */
export type AppSettingsPatch = DeepPartial<AppSettings>;

/**
 * The admin API's schema for a patch: the settings schema with every property optional and no
 * defaults, so that the validator does not fill in (and so reset) settings the patch leaves out.
 * The merged result is validated against the full schema.
 */
export const AppSettingsPatchSchema = Type.Unsafe<AppSettingsPatch>(patchSchemaOf(AppSettingsSchema) as TSchema);

function patchSchemaOf(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(patchSchemaOf);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'default' || key === 'required') continue;
    copy[key] = patchSchemaOf(value);
  }
  return copy;
}

/** Applies a patch: objects merge key by key, anything else (arrays included) replaces. */
export function mergeSettings(current: unknown, patch: unknown): unknown {
  if (!isPlainObject(current) || !isPlainObject(patch)) return patch === undefined ? current : patch;
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) merged[key] = mergeSettings(current[key], value);
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fills defaults; throws when the document does not match the schema. */
export function parseAppSettings(input: unknown): AppSettings {
  const value = Value.Default(AppSettingsSchema, Value.Clone(input ?? {}));
  const [error] = Value.Errors(AppSettingsSchema, value);
  if (error !== undefined) {
    throw new AppSettingsError(
      `${error.instancePath.replace(/^\//, '').replaceAll('/', '.') || 'settings'}: ${error.message}`,
    );
  }
  return value as AppSettings;
}

/**
 * Checks made when settings are written, not when stored ones are read: a check added later (a
 * stricter rule for keys) refuses new values with their path, while an app stored before it
 * still loads — the key it refuses is then refused where it would be used, and logged.
 */
export function assertWritableSettings(settings: AppSettings): void {
  const problem = issuersKeyStrengthProblem(settings.strategies.jwt.issuers);
  if (problem !== undefined) throw new AppSettingsError(problem);
}

export class AppSettingsError extends Error {
  override name = 'AppSettingsError';
}
