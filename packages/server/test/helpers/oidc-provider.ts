import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type AccountClaims } from 'oidc-provider';

/**
 * A real OpenID provider (the `oidc-provider` package) on 127.0.0.1, and a client that obtains
 * ID tokens from it the way an app does: the authorization code flow with PKCE and a nonce,
 * through the provider's development login and consent pages, with a cookie jar and manual
 * redirects, then the code exchanged at the token endpoint with the client secret.
 */

export interface TestClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** The claims the provider states about an account; `sub` is its id. */
export interface TestAccount extends AccountClaims {
  email?: string;
  email_verified?: boolean;
  name?: string;
  given_name?: string;
  family_name?: string;
  picture?: string;
  phone_number?: string;
  phone_number_verified?: boolean;
  /** Not a standard claim: stated with the profile, for providers whose settings map it to roles. */
  roles?: string[];
}

export interface ObtainOptions {
  account: TestAccount;
  client?: TestClient;
  /** The nonce sent in the authentication request; a random one when absent. */
  nonce?: string;
}

export interface TestOidcProvider {
  issuer: string;
  port: number;
  /** The key id the provider signs with. */
  kid: string;
  /** The client the tests configure in Tessera. */
  client: TestClient;
  /** Another client of the same provider: its tokens are not for Tessera's app. */
  otherClient: TestClient;
  /** A client whose ID tokens the provider signs with HS256 and its secret. */
  hmacClient: TestClient;
  /** Requests the provider has received for `path`. */
  requests(path: string): number;
  /** Runs the authorization code flow for `account` and returns the ID token. */
  obtainIdToken(options: ObtainOptions): Promise<{ idToken: string; nonce: string }>;
  stop(): Promise<void>;
}

const client = (clientId: string): TestClient => ({
  clientId,
  clientSecret: `${clientId}-secret-0123456789abcdef0123456789abcdef`,
  redirectUri: `http://127.0.0.1/${clientId}/callback`,
});
const CLIENTS = { client: client('tessera-app'), otherClient: client('another-app'), hmacClient: client('hmac-app') };

export interface StartOptions {
  /** Listen on this port, to restart a provider with new keys at the same issuer; a free one when absent. */
  port?: number;
  kid?: string;
  /** Lifetime of the ID tokens it issues. */
  idTokenTtlSeconds?: number;
}

/** Starts a provider on 127.0.0.1. */
export async function startOidcProvider({
  port = 0,
  kid = `key-${randomBytes(4).toString('hex')}`,
  idTokenTtlSeconds = 3600,
}: StartOptions = {}): Promise<TestOidcProvider> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actualPort = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${actualPort}`;
  const accounts = new Map<string, TestAccount>();
  const provider = new Provider(issuer, await configuration(kid, idTokenTtlSeconds, accounts));
  const handle = provider.callback();
  const counts = new Map<string, number>();
  server.on('request', (request, response) => {
    const path = new URL(request.url ?? '/', issuer).pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    handle(request, response);
  });
  return {
    issuer,
    port: actualPort,
    kid,
    ...CLIENTS,
    requests: (path) => counts.get(path) ?? 0,
    obtainIdToken: async ({ account, client = CLIENTS.client, nonce = randomBytes(16).toString('base64url') }) => {
      accounts.set(account.sub, account);
      return { idToken: await authorizationCodeFlow(issuer, client, account.sub, nonce), nonce };
    },
    stop: () => stopServer(server),
  };
}

async function configuration(kid: string, idTokenTtlSeconds: number, accounts: ReadonlyMap<string, TestAccount>) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    clients: Object.values(CLIENTS).map((registered) => ({
      client_id: registered.clientId,
      client_secret: registered.clientSecret,
      redirect_uris: [registered.redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      ...(registered === CLIENTS.hmacClient ? { id_token_signed_response_alg: 'HS256' } : {}),
    })),
    jwks: { keys: [signingKey] },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'HS256'] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'picture', 'roles'],
      phone: ['phone_number', 'phone_number_verified'],
    },
    // Put the profile claims in the ID token itself, as Firebase and Google do, not only at userinfo.
    conformIdTokenClaims: false,
    findAccount: (_context: unknown, id: string) => {
      const account = accounts.get(id);
      return account && { accountId: id, claims: () => account };
    },
    ttl: {
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 600,
      Grant: 600,
      AccessToken: 600,
      IdToken: idTokenTtlSeconds,
    },
  };
}

/** The authorization code flow with PKCE, as a browser and the app's backend would run it. */
async function authorizationCodeFlow(
  issuer: string,
  client: TestClient,
  accountId: string,
  nonce: string,
): Promise<string> {
  const browser = new Browser(issuer);
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const query = new URLSearchParams({
    client_id: client.clientId,
    response_type: 'code',
    scope: 'openid email profile phone',
    redirect_uri: client.redirectUri,
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  // /auth → login page; submit the login → /auth/:uid → consent page; submit → /auth/:uid → the app's callback.
  const loginPage = await browser.redirectedFrom(`/auth?${query.toString()}`);
  const afterLogin = await browser.redirectedFrom(loginPage, { prompt: 'login', login: accountId, password: 'any' });
  const consentPage = await browser.redirectedFrom(afterLogin);
  const afterConsent = await browser.redirectedFrom(consentPage, { prompt: 'consent' });
  const callback = new URL(await browser.redirectedFrom(afterConsent));
  if (`${callback.origin}${callback.pathname}` !== client.redirectUri || callback.searchParams.get('state') !== state) {
    throw new Error(`unexpected authorization answer: ${callback.href}`);
  }
  const code = callback.searchParams.get('code');
  if (code === null) throw new Error(`no code in ${callback.href}`);
  return exchangeCode(issuer, client, code, verifier);
}

async function exchangeCode(issuer: string, client: TestClient, code: string, verifier: string): Promise<string> {
  // RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before Base64.
  const basic = Buffer.from(
    `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
  ).toString('base64');
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      code_verifier: verifier,
    }),
  });
  const body = (await response.json()) as { id_token?: string };
  if (response.status !== 200 || body.id_token === undefined)
    throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(body)}`);
  return body.id_token;
}

/** Just enough of a browser: a cookie jar, form posts, and redirects taken one at a time. */
class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly origin: string) {}

  /** Requests `path` (a GET, or a form POST with `form`) and returns where the provider redirects to. */
  async redirectedFrom(path: string, form?: Record<string, string>): Promise<string> {
    const headers: Record<string, string> = {
      cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
    };
    if (form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(new URL(path, this.origin), {
      method: form === undefined ? 'GET' : 'POST',
      headers,
      redirect: 'manual',
      ...(form === undefined ? {} : { body: new URLSearchParams(form) }),
    });
    this.keep(response.headers.getSetCookie());
    const location = response.headers.get('location');
    await response.body?.cancel();
    if (response.status < 300 || response.status >= 400 || location === null)
      throw new Error(`expected a redirect from ${path}, got ${response.status}`);
    return new URL(location, this.origin).href;
  }

  private keep(setCookies: string[]): void {
    for (const header of setCookies) {
      const [pair = '', ...attributes] = header.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = attributes.some(
        (attribute) => /^\s*expires=Thu, 01 Jan 1970/i.test(attribute) || /^\s*max-age=0\s*$/i.test(attribute),
      );
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

function stopServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    // Keep-alive connections from Tessera's fetches would hold the port open.
    server.closeAllConnections();
  });
}
