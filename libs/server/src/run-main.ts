import { ConfigError, type CommonConfig, type Env } from "@granary/config";
import { createLogger, startTelemetry, type Logger } from "@granary/telemetry";

/** A started service, as main and `npm start` see it. */
export interface RunningService {
  readonly name: string;
  /** host:port it listens on. */
  readonly address: string;
  /** host:port of its HTTP port (Connect, gRPC-Web, JSON), when it has one. */
  readonly httpAddress?: string | undefined;
  /** Drain and stop; resolves when every resource (ports, pools, files) is released. */
  stop(): Promise<void>;
  /** Resolves once the service reports SERVING (a service waiting on another may take a moment). */
  ready?(): Promise<void>;
  /**
   * The first phase of stop() alone: NOT_SERVING at once, calls still answered. Lets a process
   * running several services take them all out of rotation before stopping any.
   */
  beginShutdown?(): void;
}

/**
 * Stops services the way a process should: every one leaves SERVING at once, then they stop in
 * reverse start order (clients of a service go before it). The drain delay counts from the first
 * phase, so the services wait it once between them, not once each.
 */
export async function stopServices(services: readonly RunningService[], logger: Pick<Logger, "error">): Promise<void> {
  for (const s of services) s.beginShutdown?.();
  for (const s of [...services].reverse()) {
    await s.stop().catch((err: unknown) => logger.error({ err, service: s.name }, "error while stopping"));
  }
}

export interface MainOptions<C extends { readonly common: CommonConfig }> {
  readonly name: string;
  readonly env: Env;
  readonly loadConfig: (env: Env) => C;
  readonly start: (config: C, logger: Logger) => Promise<RunningService | RunningService[]>;
}

/**
 * The life of a service process: config (exit 2 listing every bad key), telemetry, logger, start,
 * then SIGTERM / SIGINT → drain → exit 0. A second signal exits at once.
 */
export async function runMain<C extends { readonly common: CommonConfig }>(options: MainOptions<C>): Promise<void> {
  let config: C;
  try {
    config = options.loadConfig(options.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`granary ${options.name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const telemetry = startTelemetry(config.common.telemetry);
  const logger = createLogger({ level: config.common.logLevel, service: options.name });
  let services: RunningService[];
  try {
    const metrics = await telemetry.metricsAddress();
    if (metrics) logger.info({ address: metrics }, "Prometheus metrics at http://" + metrics + "/metrics");
    const started = await options.start(config, logger);
    services = Array.isArray(started) ? started : [started];
  } catch (err) {
    logger.fatal({ err }, `${options.name} failed to start`);
    await telemetry.shutdown().catch(() => {});
    logger.flush();
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
    return;
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting without draining");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "draining");
    void (async () => {
      await stopServices(services, logger);
      await telemetry.shutdown().catch(() => {});
      logger.info("stopped");
      logger.flush();
      process.exit(0);
    })();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
