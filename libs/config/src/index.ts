export { ConfigError, EnvReader, type Env } from "./env-reader.js";
export {
  DEFAULT_PORTS,
  SERVICE_NAMES,
  readCommonConfig,
  readServerConfig,
  readServiceAddress,
  type AuthConfig,
  type CommonConfig,
  type LogLevel,
  type ServerConfig,
  type ServiceName,
  type TelemetryConfig,
} from "./common-config.js";
