import { describe, expect, it } from 'vitest';
import { AppSettingsSchema, parseAppSettings } from '../../src/apps/settings.js';
import {
  assertSettingsPath,
  parseSettingsPath,
  patchSetting,
  settingLines,
  valueAt,
} from '../../src/cli/settings-path.js';

const settings = parseAppSettings({
  strategies: { oidc: { providers: [{ issuer: 'https://a.example', clientId: 'a' }] } },
});

describe('settings paths', () => {
  it('knows the paths of the settings schema, list items and free-form values included', () => {
    for (const path of [
      '',
      'accessTokenTtl',
      'strategies.local.enabled',
      'strategies.oidc.providers.0.clientId',
      'strategies.jwt.issuers.0.publicKeys.1.jwk.crv',
      'allowedOrigins.0',
    ])
      expect(() => assertSettingsPath(AppSettingsSchema, parseSettingsPath(path)), path).not.toThrow();
    expect(() => assertSettingsPath(AppSettingsSchema, parseSettingsPath('strategies.local.colour'))).toThrow(
      'strategies.local.colour: no such setting; strategies.local has enabled',
    );
    expect(() => assertSettingsPath(AppSettingsSchema, parseSettingsPath('strategies.oidc.providers.first'))).toThrow(
      'strategies.oidc.providers.first: no such setting; strategies.oidc.providers has items by index (0, 1, …)',
    );
    expect(() => parseSettingsPath('a..b')).toThrow('a..b: "a..b" is not a dotted path');
  });

  it('patches an object by the path, and a list as a whole with the item changed', () => {
    expect(patchSetting(settings, ['strategies', 'local', 'enabled'], false)).toEqual({
      strategies: { local: { enabled: false } },
    });
    expect(patchSetting(settings, ['strategies', 'oidc', 'providers', '0', 'clientId'], 'b')).toEqual({
      strategies: { oidc: { providers: [{ ...settings.strategies.oidc.providers[0], clientId: 'b' }] } },
    });
    expect(patchSetting(settings, ['strategies', 'oidc', 'providers', '1'], { issuer: 'x' })).toMatchObject({
      strategies: { oidc: { providers: [{ clientId: 'a' }, { issuer: 'x' }] } },
    });
    expect(() => patchSetting(settings, ['strategies', 'oidc', 'providers', '5'], {})).toThrow(
      'strategies.oidc.providers.5: no item 5: the list has 1 (an index of 1 adds one)',
    );
    expect(settings.strategies.oidc.providers[0]?.clientId).toBe('a');
  });

  it('reads values, and prints them as path = JSON lines', () => {
    expect(valueAt(settings, ['strategies', 'oidc', 'providers', '0', 'clientId'])).toBe('a');
    expect(valueAt(settings, ['strategies', 'oidc', 'providers', '3'])).toBeUndefined();
    expect(settingLines(valueAt(settings, ['strategies', 'oidc']), ['strategies', 'oidc'])).toEqual([
      'strategies.oidc.providers.0.issuer = "https://a.example"',
      'strategies.oidc.providers.0.clientId = "a"',
      'strategies.oidc.providers.0.discoveryCacheSeconds = 3600',
      'strategies.oidc.providers.0.timeoutMs = 3000',
      'strategies.oidc.enabled = false',
    ]);
    expect(settingLines([], ['allowedOrigins'])).toEqual(['allowedOrigins = []']);
  });
});
