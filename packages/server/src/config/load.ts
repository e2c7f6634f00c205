import { availableParallelism } from 'node:os';
import Type, { type TSchema } from 'typebox';
import Value from 'typebox/value';
import { dottedPath } from '../lib/validation-details.js';
import { parseTrustedProxies } from './proxy-trust.js';
import { ConfigSchema, type Config } from './schema.js';

/** A configuration error: its message is one line that names the setting at fault. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type ConfigInput = { [key: string]: unknown };

export interface LoadConfigOptions {
  /** Usually `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Values from CLI flags or code; they win over the environment. */
  overrides?: ConfigInput;
}

/** Parses, validates and freezes the configuration. Throws {@link ConfigError}. */
export function loadConfig({ env = {}, overrides = {} }: LoadConfigOptions = {}): Readonly<Config> {
  const merged = mergeDeep(readEnvironment(ConfigSchema, env), overrides);
  const withDefaults = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, merged));
  const [error] = Value.Errors(ConfigSchema, withDefaults);
  if (error) throw new ConfigError(describeError(error, env));
  const config = withDefaults as Config;
  try {
    parseTrustedProxies(config.trustedProxies);
  } catch (problem) {
    const fromEnv = env.TESSERA_TRUSTED_PROXIES === undefined ? '' : ' (from TESSERA_TRUSTED_PROXIES)';
    throw new ConfigError(
      `trustedProxies${fromEnv}: ${(problem as Error).message}; list addresses or ranges such as 10.0.0.0/8, 192.168.1.7, loopback`,
    );
  }
  config.passwords.concurrency ??= availableParallelism();
  return deepFreeze(config);
}

/** The environment variables the test suite reads; they are not server settings. */
const TEST_VARIABLE_PREFIX = 'TESSERA_TEST_';

/**
 * TESSERA_* variables that name no setting: most likely a typo (`TESSERA_REDIS_UR`) that would
 * otherwise be ignored without a word. The server warns of them at start.
 */
export function unknownEnvironmentVariables(env: NodeJS.ProcessEnv): string[] {
  const known = new Set(environmentNames(ConfigSchema));
  return Object.keys(env).filter(
    (name) => name.startsWith('TESSERA_') && !name.startsWith(TEST_VARIABLE_PREFIX) && !known.has(name),
  );
}

function environmentNames(schema: TSchema): string[] {
  return Object.values(objectProperties(schema)).flatMap((property) =>
    Type.IsObject(property) ? environmentNames(property) : [envName(property)].filter((name) => name !== undefined),
  );
}

function readEnvironment(schema: TSchema, env: NodeJS.ProcessEnv): ConfigInput {
  const values: ConfigInput = {};
  for (const [key, property] of Object.entries(objectProperties(schema))) {
    if (Type.IsObject(property)) {
      const nested = readEnvironment(property, env);
      if (Object.keys(nested).length > 0) values[key] = nested;
      continue;
    }
    const name = envName(property);
    const raw = name === undefined ? undefined : env[name];
    if (raw !== undefined && raw !== '') values[key] = raw;
  }
  return values;
}

function describeError(error: { instancePath: string; message: string }, env: NodeJS.ProcessEnv): string {
  const path = dottedPath(error.instancePath) || 'configuration';
  const property = propertyAt(error.instancePath);
  if (property === undefined) return `${path}: unknown setting`;
  const name = envName(property);
  const fromEnv = name !== undefined && env[name] !== undefined ? ` (from ${name})` : '';
  const hint = describe(property) === '' ? '' : ` — ${describe(property)}`;
  return `${path}${fromEnv}: ${error.message}${hint}`;
}

function propertyAt(instancePath: string): TSchema | undefined {
  let schema: TSchema | undefined = ConfigSchema;
  for (const segment of instancePath.split('/').filter(Boolean)) {
    schema = schema === undefined ? undefined : objectProperties(schema)[segment];
  }
  return schema;
}

function objectProperties(schema: TSchema): Record<string, TSchema> {
  return Type.IsObject(schema) ? schema.properties : {};
}

function describe(schema: TSchema): string {
  const { description } = schema as { description?: unknown };
  return typeof description === 'string' ? description : '';
}

function envName(schema: TSchema): string | undefined {
  const name = (schema as { env?: unknown }).env;
  return typeof name === 'string' ? name : undefined;
}

function mergeDeep(base: ConfigInput, over: ConfigInput): ConfigInput {
  const result: ConfigInput = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = result[key];
    result[key] = isPlainObject(value) && isPlainObject(current) ? mergeDeep(current, value) : value;
  }
  return result;
}

function isPlainObject(value: unknown): value is ConfigInput {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (isPlainObject(value)) for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}

/** One Markdown table row per setting, for docs/configuration.md. */
export function describeConfiguration(): string {
  const rows = ['| setting | environment | default | meaning |', '| --- | --- | --- | --- |'];
  const walk = (schema: TSchema, prefix: string): void => {
    for (const [key, property] of Object.entries(objectProperties(schema))) {
      if (Type.IsObject(property)) {
        walk(property, `${prefix}${key}.`);
        continue;
      }
      const fallback = (property as { default?: unknown }).default;
      const shown = fallback === undefined ? '—' : `\`${JSON.stringify(fallback)}\``;
      rows.push(`| \`${prefix}${key}\` | \`${envName(property) ?? ''}\` | ${shown} | ${describe(property)} |`);
    }
  };
  walk(ConfigSchema, '');
  return rows.join('\n');
}
