import { Option, type Command } from 'commander';
import { unknownEnvironmentVariables } from '../../config/index.js';
import { createTessera, VERSION, type Tessera } from '../../tessera.js';
import { onFirstStart } from '../first-start.js';
import type { CliIo } from '../io.js';
import { configFrom, withStorageFlags, type StorageFlags } from '../options.js';

/** `tessera start`: the server, until a signal stops it. */
export function registerStartCommand(program: Command, io: CliIo): void {
  withStorageFlags(
    program
      .command('start')
      .description('run the server (in development, the first start creates demo/chat and prints its keys)'),
  )
    .addOption(new Option('-p, --port <port>', 'TCP port').env('TESSERA_PORT'))
    .addOption(new Option('-H, --host <host>', 'address to listen on').env('TESSERA_HOST'))
    .action(async (flags: StorageFlags & { port?: string; host?: string }) => {
      const tessera = await createTessera({ config: configFrom(flags, io.env) });
      for (const name of unknownEnvironmentVariables(io.env))
        tessera.logger.warn(
          { variable: name },
          `${name} is not a Tessera setting and is ignored (docs/configuration.md lists them)`,
        );
      const url = await tessera.listen();
      try {
        // The credentials come first: "listening on" is the last line of a start, which scripts wait for.
        await onFirstStart(tessera, url, io.stdout);
      } catch (error) {
        await tessera.close();
        throw error;
      }
      const bound = boundUrl(tessera);
      io.stdout(
        `Tessera ${VERSION} listening on ${bound} (${bound === url ? '' : `public URL ${url}; `}${tessera.services.store.location})\n`,
      );
      io.onStarted?.({
        close: () => tessera.close(),
        logger: tessera.logger,
        shutdownTimeoutMs: tessera.config.shutdownTimeoutMs,
      });
    });
}

/** The address this process listens on, which differs from the public URL behind a load balancer. */
function boundUrl(tessera: Tessera): string {
  const address = tessera.http.server.address();
  if (address === null || typeof address === 'string') return String(address);
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}
