import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { StrategiesSettings } from '../auth/strategies/settings.js';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Per-app settings, with their defaults. Durations are in seconds. Stored as JSON on the app;
 * a stored document is re-read through this schema, so a setting added later gets its default.
 */
export const AppSettingsSchema = Type.Object(
  {
    publicSignup: Type.Boolean({ default: true, description: 'Whether a publishable key may sign users up. The secret key always may.' }),
    signingAlgorithm: Type.Union([Type.Literal('EdDSA'), Type.Literal('ES256')], { default: 'EdDSA', description: 'Algorithm of new signing keys.' }),
    accessTokenTtl: Type.Integer({ default: 15 * MINUTE, minimum: 30, maximum: DAY, description: 'Lifetime of an access token.' }),
    sessionIdleTimeout: Type.Integer({ default: 2 * HOUR, minimum: MINUTE, maximum: 90 * DAY, description: 'A session with no activity for this long ends.' }),
    sessionLifetime: Type.Integer({ default: 30 * DAY, minimum: 5 * MINUTE, maximum: 400 * DAY, description: 'A session ends this long after login, active or not.' }),
    reconnectTokenTtl: Type.Integer({ default: DAY, minimum: MINUTE, maximum: 90 * DAY, description: 'Lifetime of a reconnect token.' }),
    reconnectGracePeriod: Type.Integer({
      default: 30,
      minimum: 0,
      maximum: 5 * MINUTE,
      description: 'A spent reconnect token presented again this soon, before its successor is used, is taken as a lost response rather than theft.',
    }),
    autoProvisionUsers: Type.Boolean({
      default: false,
      description: 'Whether a login by an external identity (trusted JWT, OpenID, identity provider) that matches no user creates one. Off by default, as ConnectyCube recommends; a trusted issuer or provider may say otherwise for itself.',
    }),
    strategies: StrategiesSettings,
  },
  { additionalProperties: false },
);

export type AppSettings = Static<typeof AppSettingsSchema>;

/** A partial update of the settings, as the admin API accepts it. */
export const AppSettingsPatchSchema = Type.Partial(AppSettingsSchema);

/** Fills defaults; throws when the document does not match the schema. */
export function parseAppSettings(input: unknown): AppSettings {
  const value = Value.Default(AppSettingsSchema, Value.Clone(input ?? {}));
  const [error] = Value.Errors(AppSettingsSchema, value);
  if (error !== undefined) {
    throw new AppSettingsError(`${error.instancePath.replace(/^\//, '').replaceAll('/', '.') || 'settings'}: ${error.message}`);
  }
  return value as AppSettings;
}

export class AppSettingsError extends Error {
  override name = 'AppSettingsError';
}
