export { ConfigSchema, type Config } from './schema.js';
export {
  loadConfig,
  describeConfiguration,
  unknownEnvironmentVariables,
  ConfigError,
  type LoadConfigOptions,
} from './load.js';
