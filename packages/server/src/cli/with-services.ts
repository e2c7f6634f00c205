import type { Services } from '../services.js';
import type { AppRecord } from '../store/repositories/index.js';
import { closeServices, openServices } from '../tessera.js';
import type { CliIo } from './io.js';
import { configFrom, parseAppPath, type StorageFlags } from './options.js';

/** Opens the database and the services the flags name, runs `act`, and closes them whatever happens. */
export async function withServices(
  flags: StorageFlags,
  io: CliIo,
  act: (services: Services) => Promise<void>,
): Promise<void> {
  const services = await openServices({ config: configFrom(flags, io.env, { logLevel: 'error' }) });
  try {
    await act(services);
  } finally {
    await closeServices(services);
  }
}

/** The app at `namespace/app`, or `app_not_found`. */
export async function findApp(services: Services, path: string): Promise<AppRecord> {
  const { namespace, app } = parseAppPath(path);
  return services.apps.getApp(namespace, app);
}

/** What a running server without Redis does about a change made from the CLI, by kind of change. */
const HEARS_LATER = {
  sessions:
    'hears of this within its cache lifetime (TESSERA_SESSION_CACHE_TTL_MS), and its open sockets at their next session check',
  settings: 'reads the new settings within its cache lifetime (TESSERA_SESSION_CACHE_TTL_MS)',
} as const;

/**
 * With Redis a running server hears of a change made from the CLI at once; without, it finds out
 * later, and the operator is told so on stderr (stdout stays the result).
 */
export function warnIfServerHearsLater(
  services: Services,
  io: CliIo,
  change: keyof typeof HEARS_LATER,
  api = 'the admin API',
): void {
  if (!services.cluster.shared)
    io.stderr(`without Redis the running server ${HEARS_LATER[change]}; ${api} acts at once\n`);
}
