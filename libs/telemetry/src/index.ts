export { createLogger, type Logger, type LoggerOptions } from "./logger.js";
export { startTelemetry, type Telemetry, type TelemetryOptions } from "./telemetry.js";
