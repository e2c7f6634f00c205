import { generateKeyPairSync } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KeySets, KeySetUnavailable, type KeySetRequest, type KeySetsOptions } from '../../src/auth/remote/key-sets.js';
import { ManualClock } from '../../src/lib/clock.js';
import { IssuerServer, json, type Route } from '../helpers/jwt.js';
import { LogCapture } from '../helpers/log-capture.js';
import { jwkOf, rsaWithExponent } from '../helpers/weak-keys.js';

// Issue 13, item 6: one remote key-set cache, its times driven by the injected clock.

const SECOND = 1000;
const keyA = { ...jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), kid: 'a' };
const keyB = { ...jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), kid: 'b' };
const keySet = (...keys: unknown[]): Route => json(200, { keys });

describe('KeySets (issue 13)', () => {
  const web = new IssuerServer();
  let clock: ManualClock;
  let logs: LogCapture;
  let path = '';
  let serial = 0;

  const keySets = (options: Partial<KeySetsOptions> = {}) =>
    new KeySets({ clock, logger: pino(logs), refusedKeyMessage: 'key refused', ...options });
  const request = (overrides: Partial<KeySetRequest> = {}): KeySetRequest => ({
    scope: 'app issuer',
    url: `${web.url}${path}`,
    cacheMaxAgeMs: 600 * SECOND,
    cooldownMs: 30 * SECOND,
    timeoutMs: 2 * SECOND,
    logFacts: { strategy: 'test', issuer: 'idp' },
    ...overrides,
  });
  const kids = (set: { keys: readonly Record<string, unknown>[] }) => set.keys.map((key) => key.kid);
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error,
    );

  beforeAll(() => web.start());
  afterAll(() => web.close());
  beforeEach(() => {
    clock = new ManualClock();
    logs = new LogCapture();
    path = `/jwks-${(serial += 1)}`;
  });

  it('fetches once and serves the set until cacheMaxAge, then fetches again', async () => {
    web.routes.set(path, keySet(keyA));
    const sets = keySets();
    const first = await sets.get(request());
    expect(kids(first)).toEqual(['a']);
    expect(await sets.get(request({ kid: 'a' }))).toBe(first);
    clock.advance(599 * SECOND);
    expect(await sets.get(request())).toBe(first);
    expect(web.count(path)).toBe(1);
    clock.advance(1 * SECOND);
    expect(await sets.get(request())).not.toBe(first);
    expect(web.count(path)).toBe(2);
  });

  it('fetches again for an unknown kid at most once per cooldown', async () => {
    let route = keySet(keyA);
    web.routes.set(path, (response) => route(response));
    const sets = keySets();
    await sets.get(request());
    route = keySet(keyA, keyB);
    clock.advance(29 * SECOND);
    for (let attempt = 0; attempt < 10; attempt += 1)
      expect(kids(await sets.get(request({ kid: `made-up-${attempt}` })))).toEqual(['a']);
    expect(web.count(path)).toBe(1);
    clock.advance(1 * SECOND);
    expect(kids(await sets.get(request({ kid: 'b' })))).toEqual(['a', 'b']);
    expect(web.count(path)).toBe(2);
    // The new set's kids are known: no fetch for them; a made-up one waits for the next cooldown.
    await sets.get(request({ kid: 'b' }));
    await sets.get(request({ kid: 'made-up' }));
    expect(web.count(path)).toBe(2);
  });

  it('serves the last good set while fetches fail, for maxStaleMs at most, then says why', async () => {
    let healthy = true;
    web.routes.set(path, (response) => (healthy ? keySet(keyA) : json(503, {}))(response));
    const sets = keySets({ maxStaleMs: 3600 * SECOND });
    const good = await sets.get(request());
    healthy = false;
    clock.advance(600 * SECOND);
    expect(await sets.get(request())).toBe(good);
    expect(web.count(path)).toBe(2);
    // The failed fetch counts for the cooldown.
    expect(await sets.get(request())).toBe(good);
    expect(web.count(path)).toBe(2);
    expect(logs.last('key set could not be fetched')).toMatchObject({
      level: 40,
      strategy: 'test',
      issuer: 'idp',
      url: `${web.url}${path}`,
      reason: 'status',
      status: 503,
    });
    clock.advance(3000 * SECOND);
    const error = await failure(sets.get(request()));
    expect(error).toBeInstanceOf(KeySetUnavailable);
    expect(error).toMatchObject({ reason: 'status', status: 503, url: `${web.url}${path}` });
    expect(web.count(path)).toBe(3);
    // Recovery: the next fetch after the cooldown serves again.
    healthy = true;
    clock.advance(30 * SECOND);
    expect(kids(await sets.get(request()))).toEqual(['a']);
  });

  it('repeats the last failure within the cooldown without asking again', async () => {
    web.routes.set(path, json(200, { items: [] }));
    const sets = keySets();
    for (let attempt = 0; attempt < 3; attempt += 1)
      expect(await failure(sets.get(request()))).toMatchObject({ reason: 'not_a_key_set' });
    expect(web.count(path)).toBe(1);
  });

  it('keeps at most maxEntries sets, forgetting the least recently used', async () => {
    web.routes.set(path, keySet(keyA));
    const sets = keySets({ maxEntries: 2 });
    for (const scope of ['one', 'two', 'three']) await sets.get(request({ scope }));
    expect(web.count(path)).toBe(3);
    await sets.get(request({ scope: 'three' }));
    await sets.get(request({ scope: 'two' }));
    expect(web.count(path)).toBe(3);
    await sets.get(request({ scope: 'one' }));
    expect(web.count(path)).toBe(4);
  });

  it('keeps scopes apart: one scope’s cooldown and set are not another’s', async () => {
    web.routes.set(path, keySet(keyA));
    const sets = keySets();
    await sets.get(request({ scope: 'app-1' }));
    await sets.get(request({ scope: 'app-2' }));
    expect(web.count(path)).toBe(2);
  });

  it('shares one fetch between concurrent requests', async () => {
    web.routes.set(path, keySet(keyA));
    const sets = keySets();
    const all = await Promise.all([sets.get(request()), sets.get(request({ kid: 'x' })), sets.get(request())]);
    expect(new Set(all).size).toBe(1);
    expect(web.count(path)).toBe(1);
  });

  it('skips and logs a key the key checks refuse; the rest of the set stays usable', async () => {
    web.routes.set(path, keySet({ ...rsaWithExponent(1), kid: 'weak' }, keyA, { kty: 'oct', k: 'c2VjcmV0', kid: 's' }));
    const sets = keySets();
    const set = await sets.get(request({ kid: 'weak' }));
    expect(kids(set)).toEqual(['a']);
    const refused = logs.withMessage('key refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      level: 40,
      strategy: 'test',
      issuer: 'idp',
      url: `${web.url}${path}`,
      kid: 'weak',
      reason: expect.stringMatching(/RSA public exponent 1/),
    });
    // A refused key's kid is known: it does not fetch the set again.
    clock.advance(31 * SECOND);
    await sets.get(request({ kid: 'weak' }));
    expect(web.count(path)).toBe(1);
    expect(logs.withMessage('key refused')).toHaveLength(1);
  });

  it('judges the set again under another opt-in', async () => {
    web.routes.set(path, keySet({ ...rsaWithExponent(3), kid: 'e3' }));
    const sets = keySets();
    expect(kids(await sets.get(request()))).toEqual([]);
    expect(logs.last('key refused')).toMatchObject({ kid: 'e3', reason: expect.stringMatching(/exponent 3/) });
    expect(kids(await sets.get(request({ rsaExponents: [3] })))).toEqual(['e3']);
    expect(web.count(path)).toBe(2);
    expect(logs.withMessage('key refused')).toHaveLength(1);
  });
});
