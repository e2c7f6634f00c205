export { ConfigSchema, type Config } from './schema.js';
export { loadConfig, describeConfiguration, ConfigError, type LoadConfigOptions } from './load.js';
