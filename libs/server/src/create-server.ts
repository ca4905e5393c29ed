import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { ServerConfig, ServerTlsConfig } from "@granary/config";
import type { Logger } from "@granary/telemetry";
import type { AccessControl } from "@granary/auth";
import { addReflection } from "./reflection.js";
import { createRpcTelemetry } from "./rpc-telemetry.js";
import { toGrpcService } from "./grpc-handlers.js";
import { createHttpPort } from "./http-port.js";
import { joinServerGroup } from "./server-group.js";
import type { ServiceRegistration } from "./service-registration.js";

export interface ServerOptions {
  /** Short name for logs, such as "metadata". */
  readonly name: string;
  readonly services: readonly ServiceRegistration[];
  readonly config: ServerConfig;
  readonly logger: Logger;
  /** Authentication, the permission table and audit, for every call (see @granary/auth). */
  readonly access: AccessControl;
}

export interface GranaryServer {
  /** The bound port (useful when the config asked for port 0). */
  readonly port: number;
  /** host:port clients dial. */
  readonly address: string;
  /** Whether the port speaks TLS ("mtls": and requires client certificates). */
  readonly transport: "cleartext" | "tls" | "mtls";
  /** The bound HTTP port (Connect, gRPC-Web, JSON over HTTP/1.1 and h2), if configured. */
  readonly httpPort: number | undefined;
  /** host:port of the HTTP port, if any. */
  readonly httpAddress: string | undefined;
  /** The bound cleartext health-only port (GRANARY_HEALTH_PORT), if any. */
  readonly healthPort: number | undefined;
  /** Aborted when shutdown starts: long-lived streams (watches) end so the drain can finish. */
  readonly drainSignal: AbortSignal;
  /** Binds the port. Health stays NOT_SERVING until setServing(true). */
  start(): Promise<void>;
  /** Health of every service on this server (and of the server as a whole, service ""). */
  setServing(serving: boolean): void;
  /**
   * The first phase of shutdown alone: NOT_SERVING and long-lived streams told to end, while calls
   * are still accepted. Lets a process holding several servers take them all out of rotation at
   * once before stopping any (the suite). Idempotent.
   */
  beginShutdown(): void;
  /**
   * beginShutdown() if not done yet, wait what is left of the drain delay since it, finish calls in
   * flight up to the grace period, end those still running with UNAVAILABLE, then stop.
   */
  shutdown(): Promise<void>;
}

/**
 * The grpc.health.v1 name a liveness probe asks for: SERVING from the moment the port is bound
 * until the process exits, draining included. Unlike "" and the service names it never follows
 * dependencies such as PostgreSQL, so an outage there does not get every pod restarted.
 */
export const LIVENESS_HEALTH_NAME = "liveness";

// How long the statuses of calls ended by shutdown get to reach their clients before the
// connections are closed regardless.
const FLUSH_MS = 500;

/**
 * One gRPC server for a Granary service: HTTP/2 (TLS or mTLS when configured, else cleartext)
 * speaking the gRPC protocol to any standard client, with grpc.health.v1, server reflection (when
 * enabled), message size limits, deadlines, tracing, metrics, auth, request validation and error
 * mapping for every call.
 */
export function createServer(options: ServerOptions): GranaryServer {
  const { config, logger } = options;
  const grpcServer = new grpc.Server({
    "grpc.max_receive_message_length": config.maxMessageBytes,
    "grpc.max_send_message_length": config.maxMessageBytes,
  });
  const drain = new AbortController();
  const shutdownNow = new AbortController();
  // Every call in flight listens for shutdown: thousands at once are normal (reads waiting for a
  // replica to catch up, streams), not a leak.
  setMaxListeners(0, shutdownNow.signal);
  const deps = {
    logger,
    access: options.access,
    startSpan: createRpcTelemetry(),
    shutdownSignal: shutdownNow.signal,
    inFlight: new Set<() => void>(),
  };
  for (const registration of options.services) {
    const { definition, implementation } = toGrpcService(registration, deps);
    // grpc-js refuses a service with no methods; without it every call is UNIMPLEMENTED anyway.
    if (Object.keys(definition).length > 0) grpcServer.addService(definition, implementation);
  }
  const httpPort =
    config.httpPort === undefined
      ? undefined
      : createHttpPort({
          name: options.name,
          services: options.services,
          config,
          logger,
          access: options.access,
          startSpan: deps.startSpan,
          inFlight: deps.inFlight,
          shutdownSignal: shutdownNow.signal,
        });
  const serviceNames = options.services.map((r) => r.service.typeName);
  const health = new HealthImplementation({
    ...Object.fromEntries(["", ...serviceNames].map((n) => [n, "NOT_SERVING"])),
    [LIVENESS_HEALTH_NAME]: "NOT_SERVING",
  });
  health.addToServer(grpcServer);
  // Reflection describes every method to whoever reaches the port: on by default only on loopback.
  const reflection = config.reflection ?? isLoopback(config.host);
  if (reflection)
    addReflection(
      grpcServer,
      options.services.map((r) => r.service),
    );
  // Kubelet's gRPC probes speak cleartext only: with TLS they need a port of their own.
  const healthServer = config.healthPort === undefined ? undefined : new grpc.Server();
  if (healthServer) health.addToServer(healthServer);
  const transport = !config.tls ? "cleartext" : config.tls.caFile && config.tls.requireClientCerts !== false ? "mtls" : "tls";
  let healthPort: number | undefined;

  let port = config.port;
  let shuttingDown: Promise<void> | undefined;
  let drainStarted: number | undefined;

  const setServing = (serving: boolean): void => {
    const status = serving && !drain.signal.aborted ? "SERVING" : "NOT_SERVING";
    for (const name of ["", ...serviceNames]) health.setStatus(name, status);
  };

  const beginShutdown = (): void => {
    if (drainStarted !== undefined) return;
    drainStarted = performance.now();
    drain.abort();
    setServing(false);
  };

  const server: GranaryServer = {
    get port() {
      return port;
    },
    get address() {
      return `${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
    },
    transport,
    get healthPort() {
      return healthPort;
    },
    get httpPort() {
      return httpPort?.port;
    },
    get httpAddress() {
      return httpPort ? `${config.host.includes(":") ? `[${config.host}]` : config.host}:${httpPort.port}` : undefined;
    },
    drainSignal: drain.signal,
    async start() {
      if (!options.access.enabled) {
        if (!isLoopback(config.host)) {
          throw new Error(
            `${options.name}: authentication is off (GRANARY_AUTH=off) but the server would listen on ${config.host}; off is allowed only on a loopback address`,
          );
        }
        logger.warn(
          { server: options.name, host: config.host },
          "AUTHENTICATION IS OFF (GRANARY_AUTH=off): every caller on this machine acts as a cluster admin",
        );
      }
      const credentials = config.tls ? serverCredentials(options.name, config.tls) : grpc.ServerCredentials.createInsecure();
      port = await bind(options.name, grpcServer, config.host, config.port, credentials);
      if (httpPort) {
        try {
          await httpPort.start();
        } catch (err) {
          grpcServer.forceShutdown();
          throw err;
        }
      }
      if (healthServer) {
        try {
          healthPort = await bind(`${options.name} (health)`, healthServer, config.host, config.healthPort!, grpc.ServerCredentials.createInsecure());
        } catch (err) {
          grpcServer.forceShutdown();
          throw err;
        }
      }
      logger.info(
        { server: options.name, transport, reflection, ...(healthPort === undefined ? {} : { healthPort }) },
        transport === "mtls"
          ? "TLS on, client certificates required (mTLS)"
          : transport === "tls"
            ? "TLS on (no client certificates asked)"
            : "TLS off: cleartext HTTP/2 (set GRANARY_TLS_CERT and GRANARY_TLS_KEY to encrypt)",
      );
      // The process answers: alive, whatever its dependencies say (the liveness probe's name).
      health.setStatus(LIVENESS_HEALTH_NAME, "SERVING");
    },
    setServing,
    beginShutdown,
    shutdown() {
      shuttingDown ??= (async () => {
        beginShutdown();
        // Load balancers need the drain delay to see NOT_SERVING; counted from beginShutdown, so
        // servers that began together wait it once between them.
        const drainLeft = config.drainDelayMs - (performance.now() - (drainStarted ?? 0));
        if (drainLeft > 0) await delay(drainLeft);
        // Both ports drain together; at the grace period every call still running is ended.
        let forced: NodeJS.Timeout | undefined;
        let grpcStopped!: () => void;
        const grpcDone = new Promise<void>((resolve) => (grpcStopped = resolve));
        const force = setTimeout(() => {
          logger.warn({ server: options.name, calls: deps.inFlight.size }, "calls still running after the grace period; ending them with UNAVAILABLE");
          // Each call gets its status first; killing the connections at once would leave clients
          // with a bare "session closed" INTERNAL instead of a status telling them to retry.
          for (const end of [...deps.inFlight]) end();
          shutdownNow.abort();
          // tryShutdown's callback normally comes first, once the ended calls have flushed.
          // (grpc-js does not call tryShutdown's callback once forced: resolve here.)
          forced = setTimeout(() => {
            grpcServer.forceShutdown();
            grpcStopped();
          }, FLUSH_MS);
        }, config.shutdownGraceMs);
        grpcServer.tryShutdown(() => grpcStopped());
        await Promise.all([
          grpcDone,
          // The HTTP port closes its sockets FLUSH_MS after shutdownNow at the latest.
          httpPort?.close(shutdownNow.signal),
        ]);
        clearTimeout(force);
        clearTimeout(forced);
        healthServer?.forceShutdown();
        shutdownNow.abort();
      })();
      return shuttingDown;
    },
  };
  joinServerGroup(server);
  return server;
}

function bind(name: string, server: grpc.Server, host: string, port: number, credentials: grpc.ServerCredentials): Promise<number> {
  const target = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(target, credentials, (err, bound) => {
      if (err) reject(new Error(`${name}: cannot listen on ${target}: ${err.message}`, { cause: err }));
      else resolve(bound);
    });
  });
}

/** TLS credentials from the configured files; with a CA, client certificates it signed are required (unless GRANARY_TLS_CLIENT_CERTS=off). */
export function serverCredentials(name: string, tls: ServerTlsConfig): grpc.ServerCredentials {
  const cert = readPem(name, "GRANARY_TLS_CERT", tls.certFile);
  const key = readPem(name, "GRANARY_TLS_KEY", tls.keyFile);
  const ca = tls.caFile === undefined ? null : readPem(name, "GRANARY_TLS_CA", tls.caFile);
  try {
    return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null && tls.requireClientCerts !== false);
  } catch (err) {
    throw new Error(`${name}: cannot use the TLS certificate ${tls.certFile} with key ${tls.keyFile}: ${(err as Error).message}`, { cause: err });
  }
}

function readPem(name: string, setting: string, file: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new Error(`${name}: cannot read ${setting} file ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!pem.includes("-----BEGIN ")) throw new Error(`${name}: ${setting} file ${file} is not PEM (no -----BEGIN line)`);
  return pem;
}

/** Loopback addresses only: 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
