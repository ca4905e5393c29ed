/**
 * The slice of a pino logger this library writes to. Declared here rather than imported from
 * @granary/telemetry so the library stays usable with any logger; a pino `Logger` fits as is.
 * `debug` is optional: without it PostgreSQL's own chatter is dropped.
 */
export interface PostgresLogger {
  debug?(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
