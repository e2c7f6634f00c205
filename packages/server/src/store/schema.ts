/**
 * Tables as Kysely sees them. Timestamps are milliseconds since the epoch in BIGINT columns;
 * JSON is stored as TEXT; flags are nullable timestamps (`revoked_at`, `disabled_at`) so the
 * same schema serves SQLite and PostgreSQL without dialect branches.
 */
export interface Database {
  namespaces: NamespaceTable;
  apps: AppTable;
  api_keys: ApiKeyTable;
  admin_tokens: AdminTokenTable;
  signing_keys: SigningKeyTable;
  users: UserTable;
  sessions: SessionTable;
  reconnect_tokens: ReconnectTokenTable;
  user_identities: UserIdentityTable;
  auth_tokens: AuthTokenTable;
  used_token_ids: UsedTokenIdTable;
  app_events: AppEventTable;
  app_event_sequences: AppEventSequenceTable;
}

export interface NamespaceTable {
  id: string;
  name: string;
  created_at: number;
}

export interface AppTable {
  id: string;
  namespace_id: string;
  name: string;
  /** JSON of AppSettings. */
  settings: string;
  created_at: number;
  /** The kill switch: sessions created before this moment are refused (null: never used). */
  sessions_revoked_before: number | null;
}

export interface ApiKeyTable {
  id: string;
  app_id: string;
  kind: 'publishable' | 'secret';
  label: string | null;
  secret_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /** JSON array of a secret key's scopes; null: full access (every key made before scopes existed). */
  scopes: string | null;
}

export interface AdminTokenTable {
  id: string;
  label: string | null;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export interface SigningKeyTable {
  /** The JWK `kid`. */
  id: string;
  app_id: string;
  alg: 'EdDSA' | 'ES256';
  /** Public JWK as JSON. */
  public_jwk: string;
  /** PKCS#8 private key encrypted with the master key (see auth/keys/master-key.ts). */
  private_key: string;
  created_at: number;
  /** Set when another key became current; the key still verifies until `verify_until`. */
  retired_at: number | null;
  verify_until: number | null;
}

export interface UserTable {
  id: string;
  app_id: string;
  kind: 'registered' | 'anonymous' | 'guest' | 'external';
  username: string | null;
  /** Case-folded username; unique per app. */
  username_key: string | null;
  email: string | null;
  /** Case-folded email; unique per app. */
  email_key: string | null;
  full_name: string | null;
  phone: string | null;
  website: string | null;
  avatar_url: string | null;
  /** JSON array of strings. */
  tags: string;
  /** JSON object or null. */
  custom_data: string | null;
  /** JSON array of role names (migration 0007). */
  roles: string;
  password_hash: string | null;
  /** The app's own id of the user (CometChat's UID); exact, unique per app when set. */
  external_id: string | null;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  disabled_at: number | null;
  /** When an ephemeral user (anonymous, guest) ended; it can no longer log in. */
  ended_at: number | null;
  /** When the clean-up removes this user (guests); null for users that are kept. */
  expires_at: number | null;
}

export interface SessionTable {
  id: string;
  app_id: string;
  user_id: string;
  strategy: string;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  user_agent: string | null;
  ip: string | null;
}

export interface ReconnectTokenTable {
  id: string;
  session_id: string;
  /** The token whose redemption made this one; null for the first of a session. */
  parent_id: string | null;
  secret_hash: string;
  created_at: number;
  expires_at: number;
  /** When the token was redeemed. */
  used_at: number | null;
  /** When a newer token of the session replaced it unused. */
  superseded_at: number | null;
}

/** An identity proven elsewhere, linked to a user: (provider, subject) names one user of the app. */
export interface UserIdentityTable {
  app_id: string;
  /** `jwt:<issuer id>`, `oidc:<issuer URL>` or `custom`. */
  provider: string;
  subject: string;
  user_id: string;
  created_at: number;
  last_login_at: number | null;
}

/** A long-lived per-user login token made with the secret key; only a SHA-256 of its secret is kept. */
export interface AuthTokenTable {
  id: string;
  app_id: string;
  user_id: string;
  label: string | null;
  secret_hash: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** A `jti` already used, for issuers whose tokens are single use; kept until the token would expire. */
export interface UsedTokenIdTable {
  app_id: string;
  issuer: string;
  jti: string;
  expires_at: number;
}

/** One event of an app's event log (migration 0008); `data` is the event's own fields as JSON. */
export interface AppEventTable {
  app_id: string;
  sequence: number;
  type: string;
  user_id: string | null;
  data: string;
  created_at: number;
}

/** The last sequence an app's event log gave out. */
export interface AppEventSequenceTable {
  app_id: string;
  last_sequence: number;
}
