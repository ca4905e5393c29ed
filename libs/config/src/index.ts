export { ConfigError, EnvReader, type Env } from "./env-reader.js";
export {
  DEFAULT_MAX_FUTURE_EVENT_TIME_S,
  DEFAULT_PORTS,
  SERVICE_NAMES,
  readClientTls,
  readCommonConfig,
  readServerConfig,
  readServiceAddress,
  serviceClientTls,
  type AuthConfig,
  type ClientTlsConfig,
  type CommonConfig,
  type LogLevel,
  type ServerConfig,
  type ServerTlsConfig,
  type ServiceName,
  type TelemetryConfig,
} from "./common-config.js";
