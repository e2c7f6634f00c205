import Type, { type Static } from 'typebox';

/**
 * The server's configuration, in one schema: types, defaults, the environment variable of
 * each setting (`env`) and its documentation (`description`) all come from here. CLI flags
 * override the environment; the environment overrides the defaults.
 */
export const ConfigSchema = Type.Object(
  {
    mode: Type.Union([Type.Literal('development'), Type.Literal('production')], {
      default: 'development',
      env: 'TESSERA_MODE',
      description: 'In production a master key must be given and development-only features are refused.',
    }),
    host: Type.String({ default: '127.0.0.1', minLength: 1, env: 'TESSERA_HOST', description: 'Address to listen on. Use 0.0.0.0 to accept connections from other machines.' }),
    port: Type.Integer({ default: 3000, minimum: 0, maximum: 65535, env: 'TESSERA_PORT', description: 'TCP port to listen on (0 picks a free one).' }),
    publicUrl: Type.Optional(
      Type.String({ pattern: '^https?://[^\\s/]+(/[^\\s]*)?$', env: 'TESSERA_PUBLIC_URL', description: 'URL clients reach this server at; the access tokens\' issuer is derived from it. Defaults to http://host:port.' }),
    ),
    dataDir: Type.String({ default: './data', minLength: 1, env: 'TESSERA_DATA_DIR', description: 'Folder for the embedded SQLite database and, in development, the generated master key.' }),
    databaseUrl: Type.Optional(
      Type.String({ pattern: '^(postgres(ql)?|sqlite)://', env: 'TESSERA_DATABASE_URL', description: 'postgres://… for PostgreSQL, sqlite://path for another SQLite file. Defaults to SQLite in the data folder.' }),
    ),
    masterKey: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9+/_-]{43}=?$', env: 'TESSERA_MASTER_KEY', description: '32 random bytes in base64 (`openssl rand -base64 32`) that encrypt signing keys at rest. Required in production.' }),
    ),
    logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)), {
      default: 'info',
      env: 'TESSERA_LOG_LEVEL',
      description: 'pino log level.',
    }),
    trustProxy: Type.Boolean({ default: false, env: 'TESSERA_TRUST_PROXY', description: 'Trust X-Forwarded-* headers (only behind a proxy you control).' }),
    passwords: Type.Object(
      {
        memoryCost: Type.Integer({ default: 19456, minimum: 1024, maximum: 4_194_304, env: 'TESSERA_ARGON2_MEMORY_KIB', description: 'argon2id memory in KiB (OWASP: 19456).' }),
        timeCost: Type.Integer({ default: 2, minimum: 1, maximum: 100, env: 'TESSERA_ARGON2_TIME_COST', description: 'argon2id iterations (OWASP: 2).' }),
        parallelism: Type.Integer({ default: 1, minimum: 1, maximum: 16, env: 'TESSERA_ARGON2_PARALLELISM', description: 'argon2id lanes (OWASP: 1).' }),
        concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, env: 'TESSERA_HASH_CONCURRENCY', description: 'Password hashes computed at once. Defaults to the number of CPU cores.' })),
        maxQueue: Type.Integer({ default: 256, minimum: 0, maximum: 100_000, env: 'TESSERA_HASH_QUEUE', description: 'Password hashes allowed to wait; past that, logins answer 503 overloaded.' }),
      },
      { additionalProperties: false, default: {} },
    ),
    sessionCacheTtlMs: Type.Integer({
      default: 2000,
      minimum: 0,
      maximum: 60_000,
      env: 'TESSERA_SESSION_CACHE_TTL_MS',
      description: 'How long a node trusts its cached view of a session before reading it again. Changes made through this node apply at once.',
    }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
