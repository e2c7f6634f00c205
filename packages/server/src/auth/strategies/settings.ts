import Type, { type Static } from 'typebox';
import { AccessTokenSettings } from './access-token/settings.js';
import { AnonymousSettings } from './anonymous/settings.js';
import { AuthTokenSettings } from './auth-token/settings.js';
import { CustomSettings } from './custom/settings.js';
import { GuestSettings } from './guest/settings.js';
import { JwtSettings } from './jwt/settings.js';
import { KeySettings } from './key/settings.js';
import { LocalSettings } from './local/settings.js';
import { OidcSettings } from './oidc/settings.js';
import { ReconnectSettings } from './reconnect/settings.js';

/** Each strategy's per-app settings, under its name. Every strategy owns its schema in its own folder. */
export const StrategiesSettings = Type.Object(
  {
    local: LocalSettings,
    reconnect: ReconnectSettings,
    'access-token': AccessTokenSettings,
    anonymous: AnonymousSettings,
    guest: GuestSettings,
    jwt: JwtSettings,
    'auth-token': AuthTokenSettings,
    custom: CustomSettings,
    oidc: OidcSettings,
    key: KeySettings,
  },
  { additionalProperties: false, default: {} },
);

export type StrategiesSettings = Static<typeof StrategiesSettings>;
export type StrategyName = keyof StrategiesSettings;
