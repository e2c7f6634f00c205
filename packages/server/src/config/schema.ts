import Type, { type Static } from 'typebox';

/** The app event stream (`GET /v1/apps/{namespace}/{app}/events`, see docs/events.md). */
const EventsConfig = Type.Object(
  {
    retentionSeconds: Type.Integer({
      default: 86_400,
      minimum: 900,
      maximum: 2_592_000,
      env: 'TESSERA_EVENTS_RETENTION_SECONDS',
      description:
        "How long an app's events are kept for subscribers that resume: at least this, and never less than the app's accessTokenTtl plus a minute. Older events are pruned by the periodic maintenance.",
    }),
    maxStreamsPerApp: Type.Integer({
      default: 64,
      minimum: 1,
      maximum: 100_000,
      env: 'TESSERA_EVENTS_MAX_STREAMS_PER_APP',
      description:
        'Event streams one app may hold open on this node; one more answers 429 too_many_event_streams. A backend needs one per process (or one per node of its own cluster).',
    }),
    pollIntervalMs: Type.Integer({
      default: 5000,
      minimum: 100,
      maximum: 60_000,
      env: 'TESSERA_EVENTS_POLL_INTERVAL_MS',
      description:
        'Besides the wake-ups on the cluster bus, each node reads new events of the apps it streams this often, so that an event whose bus message was lost is late by this much at most, never lost.',
    }),
  },
  { additionalProperties: false, default: {} },
);

/** The WebSocket gateway's limits and timings (per-app settings are under `settings.realtime`). */
const RealtimeConfig = Type.Object(
  {
    authTimeoutMs: Type.Integer({
      default: 10_000,
      minimum: 100,
      maximum: 120_000,
      env: 'TESSERA_REALTIME_AUTH_TIMEOUT_MS',
      description:
        'A connection that has not authenticated this long after it opened closes with authentication_timeout.',
    }),
    maxFrameBytes: Type.Integer({
      default: 65_536,
      minimum: 1024,
      maximum: 16_777_216,
      env: 'TESSERA_REALTIME_MAX_FRAME_BYTES',
      description: 'Largest frame a client may send; a larger one closes the connection with frame_too_large.',
    }),
    framesPerSecond: Type.Integer({
      default: 50,
      minimum: 1,
      maximum: 100_000,
      env: 'TESSERA_REALTIME_FRAMES_PER_SECOND',
      description: 'Frames a connection may send per second on average; going over closes it with rate_limited.',
    }),
    frameBurst: Type.Integer({
      default: 100,
      minimum: 1,
      maximum: 100_000,
      env: 'TESSERA_REALTIME_FRAME_BURST',
      description: 'Frames a connection may send at once, above the average rate.',
    }),
    heartbeatIntervalMs: Type.Integer({
      default: 30_000,
      minimum: 10,
      maximum: 600_000,
      env: 'TESSERA_REALTIME_HEARTBEAT_MS',
      description:
        'The server pings every connection this often; one that has not answered the previous ping is dropped.',
    }),
    maxBufferedBytes: Type.Integer({
      default: 1_048_576,
      minimum: 16_384,
      maximum: 268_435_456,
      env: 'TESSERA_REALTIME_MAX_BUFFERED_BYTES',
      description:
        'Bytes that may wait to be sent to one connection; past that it closes with slow_consumer instead of buffering without bound.',
    }),
    maxConnections: Type.Integer({
      default: 100_000,
      minimum: 1,
      maximum: 10_000_000,
      env: 'TESSERA_REALTIME_MAX_CONNECTIONS',
      description: 'Open realtime connections this node accepts; past that, upgrades answer 503 overloaded.',
    }),
    maxPendingPerIp: Type.Integer({
      default: 50,
      minimum: 1,
      maximum: 10_000_000,
      env: 'TESSERA_REALTIME_MAX_PENDING_PER_IP',
      description:
        "Realtime connections one client address (behind proxies, the X-Forwarded-For client that trustedProxies or trustProxy gives) may hold open on this node before they authenticate; one more upgrade answers 429 rate_limited with Retry-After. Counted per node, in memory. Behind a load balancer with neither, every client has the balancer's address and shares this one quota.",
    }),
    expiryNoticeMs: Type.Integer({
      default: 60_000,
      minimum: 0,
      maximum: 3_600_000,
      env: 'TESSERA_REALTIME_EXPIRY_NOTICE_MS',
      description:
        "How long before an access token or session expires the server pushes session.expiring (at most half the token's lifetime).",
    }),
    linkDownRecheckMs: Type.Integer({
      default: 5000,
      minimum: 100,
      maximum: 600_000,
      env: 'TESSERA_REALTIME_LINK_DOWN_RECHECK_MS',
      description:
        'While the link to Redis is down, revocations made on other nodes cannot arrive: this often the node reads the sessions of its open connections from the database again.',
    }),
    presenceHeartbeatMs: Type.Integer({
      default: 2000,
      minimum: 50,
      maximum: 60_000,
      env: 'TESSERA_REALTIME_PRESENCE_HEARTBEAT_MS',
      description:
        'In a cluster, each node tells the others it is alive this often, so that their presence keeps its users.',
    }),
    presenceMissedBeats: Type.Integer({
      default: 3,
      minimum: 2,
      maximum: 100,
      env: 'TESSERA_REALTIME_PRESENCE_MISSED_BEATS',
      description:
        "A node not heard from for this many presence heartbeats (it crashed, or its link to Redis is down) is dropped from the other nodes' presence: its users leave.",
    }),
    shutdownGraceMs: Type.Integer({
      default: 2000,
      minimum: 0,
      maximum: 60_000,
      env: 'TESSERA_REALTIME_SHUTDOWN_GRACE_MS',
      description:
        'On shutdown, how long clients have to answer the server_shutdown close before their sockets are dropped.',
    }),
  },
  { additionalProperties: false, default: {} },
);

/**
 * How much each node keeps in memory of what requests name. Every cache is bounded, so that
 * requests from outside (made-up app paths, key ids, tokens) cannot grow the process; past a
 * bound the least recently used entry is read from the database again when next needed.
 */
const CachesConfig = Type.Object(
  {
    apps: Type.Integer({
      default: 10_000,
      minimum: 1,
      maximum: 10_000_000,
      env: 'TESSERA_CACHE_APPS',
      description: 'Apps (their settings and signing keys) a node keeps in memory. Set it above your number of apps.',
    }),
    apiKeys: Type.Integer({
      default: 10_000,
      minimum: 1,
      maximum: 10_000_000,
      env: 'TESSERA_CACHE_API_KEYS',
      description: 'API keys a node keeps in memory, once checked.',
    }),
    sessions: Type.Integer({
      default: 50_000,
      minimum: 1,
      maximum: 10_000_000,
      env: 'TESSERA_CACHE_SESSIONS',
      description:
        'Sessions (with their users) a node keeps in memory, each for sessionCacheTtlMs. About the sessions active on the node within that time.',
    }),
    accessTokens: Type.Integer({
      default: 10_000,
      minimum: 1,
      maximum: 10_000_000,
      env: 'TESSERA_CACHE_ACCESS_TOKENS',
      description:
        "Access tokens whose signature a node has checked and keeps until they expire, so that a client's next requests skip the check.",
    }),
    misses: Type.Integer({
      default: 10_000,
      minimum: 0,
      maximum: 10_000_000,
      env: 'TESSERA_CACHE_MISSES',
      description:
        'Unknown app paths, and unknown API key ids, a node remembers for a second each, so that a client repeating one does not read the database every time. Kept apart: made-up ones never push out real apps or keys.',
    }),
  },
  { additionalProperties: false, default: {} },
);

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
      description:
        'In production a master key must be given, development-only features are refused, and the first start creates no demo app and prints no secret (create apps with `tessera app create`).',
    }),
    host: Type.String({
      default: '127.0.0.1',
      minLength: 1,
      env: 'TESSERA_HOST',
      description: 'Address to listen on. Use 0.0.0.0 to accept connections from other machines.',
    }),
    port: Type.Integer({
      default: 3000,
      minimum: 0,
      maximum: 65535,
      env: 'TESSERA_PORT',
      description: 'TCP port to listen on (0 picks a free one).',
    }),
    publicUrl: Type.Optional(
      Type.String({
        pattern: '^https?://[^\\s/]+(/[^\\s]*)?$',
        env: 'TESSERA_PUBLIC_URL',
        description:
          "URL clients reach this server at; the access tokens' issuer is derived from it. Defaults to http://host:port.",
      }),
    ),
    dataDir: Type.String({
      default: './data',
      minLength: 1,
      env: 'TESSERA_DATA_DIR',
      description: 'Folder for the embedded SQLite database and, in development, the generated master key.',
    }),
    databaseUrl: Type.Optional(
      Type.String({
        pattern: '^(postgres(ql)?|sqlite)://',
        env: 'TESSERA_DATABASE_URL',
        description:
          'postgres://… for PostgreSQL, sqlite://path for another SQLite file. Defaults to SQLite in the data folder.',
      }),
    ),
    databasePoolSize: Type.Integer({
      default: 10,
      minimum: 1,
      maximum: 1000,
      env: 'TESSERA_DATABASE_POOL_SIZE',
      description:
        "PostgreSQL connections this node opens at most. Every node opens its own: keep nodes × pool size under the server's max_connections.",
    }),
    databaseConnectTimeoutMs: Type.Integer({
      default: 2000,
      minimum: 100,
      maximum: 600_000,
      env: 'TESSERA_DATABASE_CONNECT_TIMEOUT_MS',
      description:
        'Longest wait for a PostgreSQL connection: a new one to open, or a busy pool to free one. Past it the call answers 503 unavailable.',
    }),
    databaseStatementTimeoutMs: Type.Integer({
      default: 3000,
      minimum: 100,
      maximum: 600_000,
      env: 'TESSERA_DATABASE_STATEMENT_TIMEOUT_MS',
      description:
        'Longest a database call may take; past it the call answers 503 unavailable. PostgreSQL cancels a statement that runs this long and ends a transaction left idle this long; a query left unanswered (a link that drops packets) fails 250 ms later and its connection is discarded. SQLite waits this long at most for a lock another process holds. Migrations are not bounded.',
    }),
    readinessTimeoutMs: Type.Integer({
      default: 1000,
      minimum: 50,
      maximum: 60_000,
      env: 'TESSERA_READINESS_TIMEOUT_MS',
      description:
        'GET /readyz answers 503 unavailable when the database has not answered its check within this long, whatever the statement timeout.',
    }),
    redisUrl: Type.Optional(
      Type.String({
        pattern: '^rediss?://',
        env: 'TESSERA_REDIS_URL',
        description:
          'redis://… to share fast state (login throttling counters, and with several nodes their cluster state) through Redis. Without it, that state lives in this process.',
      }),
    ),
    redisKeyPrefix: Type.String({
      default: 'tessera:',
      minLength: 1,
      maxLength: 64,
      env: 'TESSERA_REDIS_KEY_PREFIX',
      description: 'Prefix of every Redis key this deployment writes.',
    }),
    masterKey: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9+/_-]{43}=?$',
        env: 'TESSERA_MASTER_KEY',
        description:
          '32 random bytes in base64 (`openssl rand -base64 32`) that encrypt signing keys and secret app settings at rest. Required in production.',
      }),
    ),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
      {
        default: 'info',
        env: 'TESSERA_LOG_LEVEL',
        description: 'pino log level.',
      },
    ),
    trustProxy: Type.Boolean({
      default: false,
      env: 'TESSERA_TRUST_PROXY',
      description:
        "Believe every X-Forwarded-For hop and take the left-most address as the client: right only behind a proxy that replaces the header. Behind one that appends to it (nginx's $proxy_add_x_forwarded_for), list the proxies in TESSERA_TRUSTED_PROXIES instead.",
    }),
    trustedProxies: Type.Optional(
      Type.String({
        env: 'TESSERA_TRUSTED_PROXIES',
        description:
          'Comma-separated addresses or ranges of your proxies (`10.0.0.0/8, 192.168.1.7`, or `loopback`, `linklocal`, `uniquelocal`). The client is the right-most X-Forwarded-For address none of them owns, so a client cannot choose its own address (which login throttling and realtime limits count). Takes precedence over TESSERA_TRUST_PROXY.',
      }),
    ),
    passwords: Type.Object(
      {
        memoryCost: Type.Integer({
          default: 19456,
          minimum: 1024,
          maximum: 4_194_304,
          env: 'TESSERA_ARGON2_MEMORY_KIB',
          description: 'argon2id memory in KiB (OWASP: 19456).',
        }),
        timeCost: Type.Integer({
          default: 2,
          minimum: 1,
          maximum: 100,
          env: 'TESSERA_ARGON2_TIME_COST',
          description: 'argon2id iterations (OWASP: 2).',
        }),
        parallelism: Type.Integer({
          default: 1,
          minimum: 1,
          maximum: 16,
          env: 'TESSERA_ARGON2_PARALLELISM',
          description: 'argon2id lanes (OWASP: 1).',
        }),
        concurrency: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: 256,
            env: 'TESSERA_HASH_CONCURRENCY',
            description: 'Password hashes computed at once. Defaults to the number of CPU cores.',
          }),
        ),
        maxQueue: Type.Integer({
          default: 256,
          minimum: 0,
          maximum: 100_000,
          env: 'TESSERA_HASH_QUEUE',
          description: 'Password hashes allowed to wait; past that, logins answer 503 overloaded.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    sessionCacheTtlMs: Type.Integer({
      default: 2000,
      minimum: 0,
      maximum: 60_000,
      env: 'TESSERA_SESSION_CACHE_TTL_MS',
      description:
        'How long a node trusts its cached view of a session before reading it again. Changes made through this node apply at once, those made on another node when its bus message arrives (before that node answers), and after this long at most if the message is lost.',
    }),
    caches: CachesConfig,
    realtime: RealtimeConfig,
    events: EventsConfig,
    shutdownDrainMs: Type.Integer({
      default: 0,
      minimum: 0,
      maximum: 120_000,
      env: 'TESSERA_SHUTDOWN_DRAIN_MS',
      description:
        "On SIGTERM, how long the server keeps serving while /readyz answers 503, so a load balancer that polls it stops sending new traffic before the port closes. 0 closes the port at once; set it to about your balancer's health-check interval.",
    }),
    shutdownTimeoutMs: Type.Integer({
      default: 30_000,
      minimum: 100,
      maximum: 600_000,
      env: 'TESSERA_SHUTDOWN_TIMEOUT_MS',
      description:
        'Upper bound on a graceful shutdown (drain, closing sockets, in-flight requests, closing the database and Redis). Past it the process logs what it was waiting for and exits with status 1. A second SIGTERM or SIGINT exits at once.',
    }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
