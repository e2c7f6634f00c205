/**
 * Embedding Tessera in a Node.js process.
 *
 * @example
 * ```ts
 * import { createTessera, loadConfig } from '@tessera/server';
 *
 * const tessera = await createTessera({ config: loadConfig({ env: process.env }) });
 * const url = await tessera.listen();
 * // … later
 * await tessera.close();
 * ```
 */
export { createTessera, openServices, VERSION, type Tessera, type TesseraOptions } from './tessera.js';
export { loadConfig, describeConfiguration, ConfigError, type Config, type LoadConfigOptions } from './config/index.js';
export { bootstrapFirstRun, type FirstRun } from './bootstrap.js';
export { TesseraError } from './errors.js';
export { ManualClock, systemClock, type Clock } from './lib/clock.js';
