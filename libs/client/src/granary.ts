import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createServiceTransport, traceInterceptor } from "@granary/service-clients";
import { Health, HealthCheckResponse_ServingStatus } from "@granary/proto/health";
import { MetadataService } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { OnlineService } from "@granary/proto/online";
import { RegistryService } from "@granary/proto/registry";
import { apiKeyInterceptor, backoffDelay, retryInterceptor, unauthenticatedHintInterceptor, type RetryOptions } from "./call-policy.js";
import { adminKeyFile, apiKeyHint, locateApiKey, resolveTls } from "./credentials.js";
import { createGrpcJsTransport } from "./grpc-js-transport.js";
import { Project } from "./project.js";
import type { Services } from "./services.js";

export type ServiceName = "metadata" | "online" | "offline" | "registry";
export const SERVICE_NAMES: readonly ServiceName[] = ["metadata", "online", "offline", "registry"];
const DEFAULT_PORTS: Record<ServiceName, number> = { metadata: 50051, online: 50052, offline: 50053, registry: 50054 };

export interface ConnectOptions {
  /** Host the suite runs on, each service on its default port (127.0.0.1 unless GRANARY_HOST says otherwise); `https://host` for TLS. */
  readonly address?: string;
  /** host:port (or https://host:port) per service; wins over `address` and over GRANARY_<SERVICE>_ADDRESS. */
  readonly addresses?: Partial<Record<ServiceName, string>>;
  /**
   * Sent as `authorization: Bearer <key>` on every call. Default: GRANARY_API_KEY, else the file
   * GRANARY_API_KEY_FILE names, else `<GRANARY_DATA_DIR or .granary>/admin.key` (what `npm start`
   * writes on first start) when it exists; else no key.
   */
  readonly apiKey?: string;
  /**
   * CA certificate (PEM file) to trust (default GRANARY_TLS_CA, else the system's CAs). With a CA
   * or a client certificate, host:port addresses are dialled over TLS too; without, only https:// ones.
   */
  readonly caFile?: string;
  /** Client certificate and key (PEM files) for servers that require one (default GRANARY_TLS_CERT / GRANARY_TLS_KEY). */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Deadline of each unary call (default 30 s). */
  readonly timeoutMs?: number;
  /** Deadline of each streaming call: inserts, reads, training data, artifacts (default 10 min). */
  readonly streamTimeoutMs?: number;
  /** Retries of idempotent calls on UNAVAILABLE. */
  readonly retry?: RetryOptions;
  /** Largest message sent or received (default 16 MiB, the servers' default). */
  readonly maxMessageBytes?: number;
  /**
   * HTTP/2 connections the online lookups (getFeatureVectors…, getModelFeatureVectors) spread their
   * calls over, round-robin (default 1). A connection stays on one worker process of the online
   * service: with GRANARY_ONLINE_WORKERS > 1, give as many to use them all from one client.
   */
  readonly onlineConnections?: number;
  /** Environment the defaults are read from (default process.env). */
  readonly env?: Record<string, string | undefined>;
}

/** Resolves each service's host:port: explicit addresses, then GRANARY_<SERVICE>_ADDRESS, then host + default port. */
export function resolveAddresses(options: ConnectOptions = {}): Record<ServiceName, string> {
  const env = options.env ?? process.env;
  const host = options.address ?? env["GRANARY_HOST"] ?? "127.0.0.1";
  if (/:\d+$/.test(host) && !host.startsWith("[")) {
    throw new TypeError(`address "${host}" names a port; give the host only (each service has its own port) or use addresses: { metadata: "host:port", … }`);
  }
  const out = {} as Record<ServiceName, string>;
  for (const name of SERVICE_NAMES) {
    out[name] = options.addresses?.[name] ?? (options.address ? undefined : env[`GRANARY_${name.toUpperCase()}_ADDRESS`]) ?? `${host}:${DEFAULT_PORTS[name]}`;
  }
  return out;
}

export type HealthReport = Record<ServiceName, { address: string; status: "SERVING" | "NOT_SERVING" | "UNKNOWN" | "UNREACHABLE"; error?: string }>;

/**
 * A connection to a Granary suite: one HTTP/2 session per service, opened on first use and closed
 * when idle, and the grpc-js channels of the online lookups (see close()); keep one per process.
 */
export class Granary {
  readonly addresses: Record<ServiceName, string>;
  /** Where the API key came from ("the apiKey option", "GRANARY_API_KEY", a file), or undefined when none is sent. */
  readonly apiKeySource: string | undefined;
  readonly services: Services;
  readonly #health: Record<ServiceName, Client<typeof Health>>;
  readonly #lookups: ReturnType<typeof createGrpcJsTransport>;

  constructor(options: ConnectOptions = {}) {
    const env = options.env ?? process.env;
    this.addresses = resolveAddresses(options);
    const location = options.apiKey ? { key: options.apiKey, source: "the apiKey option", adminKeyFile: adminKeyFile(env) } : locateApiKey(env);
    this.apiKeySource = location.key ? location.source : undefined;
    const interceptors = [
      unauthenticatedHintInterceptor(apiKeyHint(location)),
      retryInterceptor(options.retry),
      ...(location.key ? [apiKeyInterceptor(location.key)] : []),
    ];
    const tls = resolveTls(options, env);
    const transport = (name: ServiceName) => createServiceTransport(this.addresses[name], { interceptors, maxMessageBytes: options.maxMessageBytes, tls });
    const transports = Object.fromEntries(SERVICE_NAMES.map((n) => [n, transport(n)])) as Record<ServiceName, ReturnType<typeof transport>>;
    // The online lookups go over grpc-js (grpc-js-transport.ts), with the same interceptors as
    // every other call: on this path connect-node's client is the slower one (see there).
    this.#lookups = createGrpcJsTransport(this.addresses.online, {
      interceptors: [traceInterceptor, ...interceptors],
      tls,
      maxMessageBytes: options.maxMessageBytes,
      connections: options.onlineConnections,
    });
    const client = <T extends DescService>(service: T, name: ServiceName) => createClient(service, transports[name]);
    const timeoutMs = options.timeoutMs ?? 30_000;
    const streamTimeoutMs = options.streamTimeoutMs ?? 600_000;
    this.services = {
      metadata: client(MetadataService, "metadata"),
      online: client(OnlineService, "online"),
      offline: client(OfflineService, "offline"),
      registry: client(RegistryService, "registry"),
      onlineTransport: this.#lookups,
      unary: (signal) => ({ timeoutMs, signal }),
      stream: (signal) => ({ timeoutMs: streamTimeoutMs, signal }),
      retry: options.retry ?? {},
    };
    this.#health = Object.fromEntries(SERVICE_NAMES.map((n) => [n, client(Health, n)])) as Record<ServiceName, Client<typeof Health>>;
  }

  /**
   * Closes the online lookups' connections (the other services' close by themselves when idle).
   * Optional: idle, no connection keeps the process alive. A later lookup connects again.
   */
  close(): void {
    this.#lookups.close();
  }

  /** A project; `create` (default true) creates it when missing. */
  async project(name: string, options: { create?: boolean; description?: string } = {}): Promise<Project> {
    const { metadata, unary } = this.services;
    if (options.create === false) {
      const res = await metadata.getProject({ name }, unary());
      return new Project(this.services, res.project!.name);
    }
    try {
      await metadata.createProject({ name, description: options.description ?? "" }, unary());
    } catch (err) {
      if (ConnectError.from(err).code !== Code.AlreadyExists) throw err;
    }
    return new Project(this.services, name);
  }

  /** grpc.health.v1 Check of every service, never throwing: a down service is reported as UNREACHABLE. */
  async health(timeoutMs = 2_000): Promise<HealthReport> {
    const entries = await Promise.all(
      SERVICE_NAMES.map(async (name) => {
        const address = this.addresses[name];
        try {
          const res = await this.#health[name].check({ service: "" }, { timeoutMs });
          const status =
            res.status === HealthCheckResponse_ServingStatus.SERVING
              ? "SERVING"
              : res.status === HealthCheckResponse_ServingStatus.NOT_SERVING
                ? "NOT_SERVING"
                : "UNKNOWN";
          return [name, { address, status }] as const;
        } catch (err) {
          return [name, { address, status: "UNREACHABLE", error: ConnectError.from(err).rawMessage }] as const;
        }
      }),
    );
    return Object.fromEntries(entries) as HealthReport;
  }

  /** Resolves once every service reports SERVING; rejects after `timeoutMs` with what is not. */
  async waitUntilServing(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const report = await this.health();
      const down = SERVICE_NAMES.filter((n) => report[n].status !== "SERVING");
      if (down.length === 0) return;
      if (Date.now() > until)
        throw new Error(`not SERVING after ${timeoutMs} ms: ${down.map((n) => `${n} (${report[n].address}) ${report[n].status}`).join(", ")}`);
      await new Promise((r) => setTimeout(r, backoffDelay(Math.min(attempt, 4), { initialDelayMs: 100, maxDelayMs: 1000 })));
    }
  }
}

/** Connects to a Granary suite (no network traffic until the first call). */
export function connect(options: ConnectOptions = {}): Granary {
  return new Granary(options);
}
