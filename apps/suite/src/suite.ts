// The whole suite in one process with embedded defaults, for one machine: what `npm start` runs,
// and what the demos and end-to-end tests start when no suite answers.
// One PostgreSQL for metadata and registry: DATABASE_URL when set, else an embedded server under
// <GRANARY_DATA_DIR>/postgres. Each service keeps its own port, as it would in its own process.
import { startConsoleServer } from "@granary/console";
import { ConfigError, EnvReader, SERVICE_NAMES, serviceClientTls, type Env, type ServiceName } from "@granary/config";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOfflineConfig, startOfflineService } from "@granary/offline";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { findFreePort, resolveDatabase } from "@granary/postgres";
import { loadRegistryConfig, startRegistryService } from "@granary/registry";
import { collectServers, stopServices, type RunningService } from "@granary/server";
import type { Logger } from "@granary/telemetry";

export function loadSuiteConfig(env: Env) {
  const problems = new Set<string>();
  // One process, four services: one shared HTTP port setting would have all four bind it.
  if (env.GRANARY_HTTP_PORT !== undefined)
    problems.add("GRANARY_HTTP_PORT names one service's HTTP port; the suite runs four: set GRANARY_METADATA_HTTP_PORT, GRANARY_ONLINE_HTTP_PORT, … instead");
  const load = <T>(loader: (env: Env) => T): T | undefined => {
    try {
      return loader(env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      err.problems.forEach((p) => problems.add(p));
      return undefined;
    }
  };
  const console_ = load(readSuiteConsole);
  const metadata = load(loadMetadataConfig);
  const online = load(loadOnlineConfig);
  const offline = load(loadOfflineConfig);
  const registry = load(loadRegistryConfig);
  if (problems.size > 0 || !metadata || !online || !offline || !registry || !console_) throw new ConfigError([...problems]);
  return {
    common: { ...metadata.common, telemetry: { ...metadata.common.telemetry, serviceName: "granary" } },
    metadata,
    online,
    offline,
    registry,
    console: console_.port === undefined ? undefined : { host: metadata.server.host, port: console_.port },
  };
}

/** GRANARY_CONSOLE_PORT: where the suite serves the web console (default 51050; "off": not at all). */
function readSuiteConsole(env: Env): { port: number | undefined } {
  const r = new EnvReader(env);
  const port = r.optionalString("GRANARY_CONSOLE_PORT") === "off" ? undefined : r.port("GRANARY_CONSOLE_PORT", DEFAULT_CONSOLE_PORT);
  r.finish();
  return { port };
}

/** The web console's port in the suite and in its own container. */
export const DEFAULT_CONSOLE_PORT = 51050;

export type SuiteConfig = ReturnType<typeof loadSuiteConfig>;

/** A started suite: its services in start order (PostgreSQL first) and where each listens. */
export interface RunningSuite {
  readonly services: RunningService[];
  readonly addresses: Record<ServiceName, string>;
  /** host:port of each service's HTTP port (Connect, gRPC-Web, JSON); absent when turned off. */
  readonly httpAddresses: Partial<Record<ServiceName, string>>;
  readonly embeddedPostgres: boolean;
  /** The web console (the built single-page app and its proxy to the HTTP ports), unless turned off. */
  readonly console: { readonly url: string } | undefined;
  /**
   * Where the admin API key is: the file the metadata service wrote on first start, or undefined
   * when it came from GRANARY_BOOTSTRAP_ADMIN_KEY (or authentication is off).
   */
  readonly adminKeyFile: string | undefined;
  /**
   * Takes every service out of SERVING at once, waits one drain delay, then stops them in reverse
   * start order, PostgreSQL last.
   */
  stop(): Promise<void>;
}

/** Starts PostgreSQL (or uses DATABASE_URL), then the four services; resolves once all are SERVING or `readyTimeoutMs` passed. */
export async function startSuite(config: SuiteConfig, logger: Logger, readyTimeoutMs = 15_000): Promise<RunningSuite> {
  const database = await resolveDatabase({ databaseUrl: config.metadata.database.url, dataDir: config.common.dataDir, logger });
  const services: RunningService[] = [{ name: "postgres", address: database.embedded ? "embedded" : "external", stop: () => database.stop() }];
  const stop = (): Promise<void> => stopServices(services, logger);
  try {
    services.push(await drainable(() => startMetadataService(config.metadata, logger, { databaseUrl: database.url })));
    services.push(
      ...(await Promise.all([
        drainable(() => startOnlineService(config.online, logger)),
        drainable(() => startOfflineService(config.offline, logger)),
        drainable(() => startRegistryService(config.registry, logger, { databaseUrl: database.url })),
      ])),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  // Online and offline are SERVING once they have read the catalogue from metadata.
  const readiness = Promise.all(services.map((s) => s.ready?.()));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, readyTimeoutMs)));
  await Promise.race([readiness, timeout]);
  clearTimeout(timer);
  const addresses = Object.fromEntries(SERVICE_NAMES.map((name) => [name, services.find((s) => s.name === name)?.address ?? ""])) as Record<
    ServiceName,
    string
  >;
  const httpAddresses: Partial<Record<ServiceName, string>> = {};
  for (const name of SERVICE_NAMES) {
    const http = services.find((s) => s.name === name)?.httpAddress;
    if (http) httpAddresses[name] = http;
  }
  let consoleUrl: string | undefined;
  if (config.console) {
    const missing = SERVICE_NAMES.filter((n) => !httpAddresses[n]);
    if (missing.length > 0) {
      logger.warn({ missing }, "no web console: it needs every service's HTTP port, and these have none");
    } else {
      const scheme = config.metadata.server.tls ? "https" : "http";
      try {
        const server = await startConsoleServer({
          host: config.console.host,
          port: config.console.port,
          upstreams: Object.fromEntries(SERVICE_NAMES.map((n) => [n, `${scheme}://${httpAddresses[n]!}`])) as Record<ServiceName, string>,
          logger,
          // As the services dial each other: trust their CA, present their certificate (mTLS).
          tls: serviceClientTls(config.metadata.server),
        });
        consoleUrl = server.url;
        // Stopped first: it is a client of the four.
        services.push({ name: "console", address: server.url, stop: () => server.close() });
      } catch (err) {
        await stop();
        throw err;
      }
    }
  }
  const adminKeyFile = config.common.auth.enabled && !config.metadata.admin.bootstrapKey ? config.metadata.admin.keyFile : undefined;
  return {
    services,
    addresses,
    httpAddresses,
    console: consoleUrl === undefined ? undefined : { url: consoleUrl },
    embeddedPostgres: database.embedded !== undefined,
    adminKeyFile,
    stop,
  };
}

/** A started service that can also leave SERVING before it stops, so the suite drains all four together. */
async function drainable(start: () => Promise<RunningService>): Promise<RunningService> {
  const { started, beginShutdown } = await collectServers(start);
  return {
    name: started.name,
    address: started.address,
    httpAddress: started.httpAddress,
    stop: () => started.stop(),
    ...(started.ready ? { ready: () => started.ready!() } : {}),
    beginShutdown: () => {
      started.beginShutdown?.();
      beginShutdown();
    },
  };
}

/**
 * The suite on free loopback ports, for tests and demos: `env` supplies GRANARY_DATA_DIR and
 * optionally DATABASE_URL; the ports and the services' addresses of each other are chosen here.
 */
export async function startSuiteOnFreePorts(env: Env, logger: Logger): Promise<RunningSuite> {
  const ports = await Promise.all(SERVICE_NAMES.map(() => findFreePort()));
  const portEnv: Record<string, string> = {};
  SERVICE_NAMES.forEach((name, i) => {
    portEnv[`GRANARY_${name.toUpperCase()}_PORT`] = String(ports[i]);
    // The HTTP ports too: any free one each (0), unless the caller chose.
    portEnv[`GRANARY_${name.toUpperCase()}_HTTP_PORT`] = env[`GRANARY_${name.toUpperCase()}_HTTP_PORT`] ?? "0";
    portEnv["GRANARY_CONSOLE_PORT"] = env["GRANARY_CONSOLE_PORT"] ?? "0";
    portEnv[`GRANARY_${name.toUpperCase()}_ADDRESS`] = `127.0.0.1:${ports[i]}`;
  });
  return startSuite(loadSuiteConfig({ ...env, ...portEnv }), logger);
}
