/**
 * The few calls the example makes to Tessera's public REST API: the operator's admin API (set up
 * the app, make a key) and the app's backend API with its secret key (read a user's profile).
 * Errors carry Tessera's error envelope code; no credential ever appears in a message.
 */
import type { User } from '@tessera/client';

export class TesseraApiError extends Error {
  override readonly name = 'TesseraApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  /** An admin token (`adm_…`), sent as a bearer token. */
  admin?: string;
  /** A secret key (`sk_…`), sent as `X-Tessera-Key`. */
  key?: string;
  body?: unknown;
}

/** Calls Tessera at `baseUrl`; resolves to the JSON answer, or rejects with a {@link TesseraApiError}. */
export async function callTessera<T>(baseUrl: string, call: Call): Promise<T> {
  const headers: Record<string, string> = {};
  if (call.admin !== undefined) headers.authorization = `Bearer ${call.admin}`;
  if (call.key !== undefined) headers['x-tessera-key'] = call.key;
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl.replace(/\/+$/, '')}${call.path}`, {
    method: call.method,
    headers,
    ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const json: unknown = text === '' ? null : JSON.parse(text);
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
    throw new TesseraApiError(
      response.status,
      error?.code ?? 'unknown',
      `${call.method} ${call.path}: ${response.status} ${error?.code ?? ''} ${error?.message ?? ''}`.trim(),
    );
  }
  return json as T;
}

/** What others see of a user in the chat: the profile's full name (a guest's or anonymous visitor's chosen name), else the username. */
export function displayNameOf(user: Pick<User, 'fullName' | 'username' | 'kind'>): string {
  return user.fullName ?? user.username ?? (user.kind === 'anonymous' ? 'anonymous visitor' : 'someone');
}

/**
 * Display names by user id, read once from Tessera's users API with the chat's secret key
 * (scope `users:read`) and remembered (at most `maxEntries`, the oldest forgotten first).
 */
export class Profiles {
  private readonly names = new Map<string, string>();

  constructor(
    private readonly tesseraUrl: string,
    private readonly app: string,
    private readonly secretKey: string,
    private readonly maxEntries = 10_000,
  ) {}

  async nameOf(userId: string): Promise<string> {
    const known = this.names.get(userId);
    if (known !== undefined) return known;
    const user = await callTessera<User>(this.tesseraUrl, {
      method: 'GET',
      path: `/v1/apps/${this.app}/users/${encodeURIComponent(userId)}`,
      key: this.secretKey,
    });
    const name = displayNameOf(user);
    if (this.names.size >= this.maxEntries) this.names.delete(this.names.keys().next().value!);
    this.names.set(userId, name);
    return name;
  }
}
