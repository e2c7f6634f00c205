/**
 * Where the client keeps the session (access token, reconnect token, user) between page loads
 * or process restarts. The shape is the Web Storage API's, so `window.localStorage`,
 * `window.sessionStorage` and React Native's AsyncStorage fit as they are; methods may return
 * promises.
 */
export interface TokenStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
  /**
   * Optional: calls `listener` when another tab or process changed `key`, so the client picks
   * up a logout or new tokens at once instead of at its next refresh.
   */
  subscribe?(key: string, listener: () => void): () => void;
}

/**
 * Keeps the session in memory only: it lasts as long as the client object. Several clients
 * given the same instance share it, as tabs share `localStorage`.
 *
 * @example
 * ```ts
 * const client = createClient({ url, app: 'acme/chat', key, storage: memoryStorage() });
 * ```
 */
export function memoryStorage(): TokenStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

function webStorage(area: 'localStorage' | 'sessionStorage'): Storage | undefined {
  try {
    const storage = (globalThis as { [name: string]: unknown })[area] as Storage | undefined;
    if (storage === undefined) return undefined;
    // Safari's private mode and disabled site data throw on write, not on access.
    const probe = '__tessera_probe__';
    storage.setItem(probe, probe);
    storage.removeItem(probe);
    return storage;
  } catch {
    return undefined;
  }
}

function adapter(storage: Storage, shared: boolean): TokenStorage {
  return {
    getItem: (key) => storage.getItem(key),
    setItem: (key, value) => storage.setItem(key, value),
    removeItem: (key) => storage.removeItem(key),
    subscribe: shared
      ? (key, listener) => {
          // The browser fires `storage` in every other tab of the origin when one tab writes.
          const onStorage = (event: StorageEvent): void => {
            if (event.key === key || event.key === null) listener();
          };
          addEventListener('storage', onStorage);
          return () => removeEventListener('storage', onStorage);
        }
      : undefined,
  };
}

/**
 * Keeps the session in `window.localStorage`: it survives reloads and browser restarts and is
 * shared by every tab of the origin (tabs coordinate their refreshes). The default in browsers.
 * Throws a TypeError where localStorage is missing or refuses writes.
 *
 * @example
 * ```ts
 * const client = createClient({ url, app: 'acme/chat', key, storage: localStorageAdapter() });
 * ```
 */
export function localStorageAdapter(): TokenStorage {
  const storage = webStorage('localStorage');
  if (storage === undefined)
    throw new TypeError('localStorage is not available here; use memoryStorage() or a TokenStorage of your own');
  return adapter(storage, true);
}

/**
 * Keeps the session in `window.sessionStorage`: it survives reloads of this tab only and ends
 * with the tab. Note that "Duplicate tab" copies sessionStorage, and with it the single-use
 * reconnect token; such a copy resumes only if it refreshes within the app's grace period or
 * after the original has stopped refreshing.
 *
 * @example
 * ```ts
 * const client = createClient({ url, app: 'acme/chat', key, storage: sessionStorageAdapter() });
 * ```
 */
export function sessionStorageAdapter(): TokenStorage {
  const storage = webStorage('sessionStorage');
  if (storage === undefined)
    throw new TypeError('sessionStorage is not available here; use memoryStorage() or a TokenStorage of your own');
  return adapter(storage, false);
}

/** localStorage where it works, else memory. */
export function defaultStorage(): TokenStorage {
  const storage = webStorage('localStorage');
  return storage === undefined ? memoryStorage() : adapter(storage, true);
}
