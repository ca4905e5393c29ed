import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EnvReader } from "./env-reader.js";

/** Fixed local ports of the four services; each can be overridden. */
export const DEFAULT_PORTS = {
  metadata: 50051,
  online: 50052,
  offline: 50053,
  registry: 50054,
} as const;

/** The services' HTTP ports (Connect, gRPC-Web, JSON) when their gRPC ports are the defaults: each + 1000. */
export const DEFAULT_HTTP_PORTS = {
  metadata: 51051,
  online: 51052,
  offline: 51053,
  registry: 51054,
} as const;

/** How far past the server's clock an event time may be by default: a day of clock skew and time zones. */
export const DEFAULT_MAX_FUTURE_EVENT_TIME_S = 86_400;

export type ServiceName = keyof typeof DEFAULT_PORTS;
export const SERVICE_NAMES = Object.keys(DEFAULT_PORTS) as ServiceName[];

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Largest message accepted or sent; a larger one fails with RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** How long a server reports NOT_SERVING before it stops taking calls (lets balancers notice). */
  readonly drainDelayMs: number;
  /** How long a draining server waits for calls in flight before cancelling them. */
  readonly shutdownGraceMs: number;
  /** GRANARY_TLS_CERT / GRANARY_TLS_KEY / GRANARY_TLS_CA; unset: cleartext HTTP/2. */
  readonly tls?: ServerTlsConfig | undefined;
  /**
   * GRANARY_REFLECTION: on or off. Unset: on only when the server binds a loopback address (the
   * embedded suite), so a cluster does not describe its API to whoever reaches a port.
   */
  readonly reflection?: boolean | undefined;
  /**
   * GRANARY_HEALTH_PORT: a second, cleartext listener that serves grpc.health.v1 only. Kubelet's
   * native gRPC probes cannot speak TLS; with TLS on, Kubernetes probes this port instead.
   */
  readonly healthPort?: number | undefined;
  /**
   * GRANARY_<SERVICE>_HTTP_PORT (or GRANARY_HTTP_PORT for a service in its own process): the port
   * serving the same API over the Connect protocol, gRPC-Web and JSON, HTTP/1.1 and h2. Default:
   * the gRPC port + 1000 when that is the default (51051–51054), else 0 (any free port, logged);
   * "off": none.
   */
  readonly httpPort?: number | undefined;
  /**
   * GRANARY_HTTP_CORS_ORIGINS: browser origins (https://app.example.com, comma-separated) allowed
   * to call the HTTP port from their pages. Unset: none (the console is same-origin through its
   * own proxy and needs none).
   */
  readonly httpCorsOrigins?: readonly string[] | undefined;
}

/** Certificate files of a server. With caFile, clients must present a certificate it signed (mTLS). */
export interface ServerTlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** GRANARY_TLS_CA: the CA the services trust when they dial each other, and that signs client certificates. */
  readonly caFile?: string | undefined;
  /**
   * GRANARY_TLS_CLIENT_CERTS: "require" (the default when a CA is set: mTLS) or "off" (trust the CA
   * when dialling, accept callers without certificates — self-signed development certificates).
   */
  readonly requireClientCerts?: boolean;
}

/**
 * TLS of a client dialling a Granary service: caFile to trust (else the system's roots), and a
 * client certificate (certFile + keyFile) for servers that require one.
 */
export interface ClientTlsConfig {
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
}

/**
 * What Granary decides about telemetry. Everything else (exporters, endpoints, headers, protocol,
 * sampler, export interval, resource attributes) the OpenTelemetry SDK reads from the standard
 * OTEL_* environment itself; these fields only fill in Granary's defaults where OTEL_* is silent.
 */
export interface TelemetryConfig {
  readonly enabled: boolean;
  /** OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES, else granary-<service>. */
  readonly serviceName: string;
  /** OTLP/HTTP endpoint; unset means spans are made (for trace ids in logs) but not exported. */
  readonly otlpEndpoint: string | undefined;
  /**
   * "env": the SDK builds the exporters from OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER and the
   * OTEL_EXPORTER_OTLP_* settings. "none": set so, or Granary's default when OTEL_*_EXPORTER is
   * unset and no OTLP endpoint is (the SDK's own default, OTLP to localhost, would fail every export).
   */
  readonly tracesExporter: "env" | "none";
  readonly metricsExporter: "env" | "none";
  /** The Prometheus scrape endpoint (GRANARY_METRICS_*); undefined: none (the default). */
  readonly prometheus?: PrometheusConfig | undefined;
}

/** GRANARY_METRICS_PORT and friends: a /metrics listener of its own, never on the API ports. */
export interface PrometheusConfig {
  /** GRANARY_METRICS_HOST: 127.0.0.1 unless set (0.0.0.0 in a pod, with a token or a NetworkPolicy). */
  readonly host: string;
  /** GRANARY_METRICS_PORT (0: any free port, logged). */
  readonly port: number;
  /** GRANARY_METRICS_TOKEN or the contents of GRANARY_METRICS_TOKEN_FILE: a scrape must send `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
}

export interface AuthConfig {
  /** GRANARY_AUTH: on (default) or off. Off is refused unless the service binds a loopback address. */
  readonly enabled: boolean;
  /**
   * The internal service key the services call each other with: GRANARY_SERVICE_KEY, else the file
   * GRANARY_SERVICE_KEY_FILE (default <data dir>/service.key), made on first start when missing.
   * Separate machines (Helm, compose) must be given the same key.
   */
  readonly serviceKey: string | undefined;
  readonly serviceKeyFile: string;
  /** GRANARY_RATE_LIMIT_RPS: requests per second per API key on each service; 0 turns it off. */
  readonly requestsPerSecond: number;
  /**
   * Optional OIDC bearer tokens (JWTs) besides API keys: verified against the JWKS file
   * GRANARY_OIDC_JWKS_FILE (set it to turn them on), GRANARY_OIDC_ISSUER and GRANARY_OIDC_AUDIENCE
   * when set; the user from GRANARY_OIDC_USER_CLAIM (default sub), roles from
   * GRANARY_OIDC_ROLES_CLAIM (default granary_roles).
   */
  readonly oidc:
    { readonly jwksFile: string; readonly issuer?: string; readonly audience?: string; readonly userClaim: string; readonly rolesClaim: string } | undefined;
}

export interface CommonConfig {
  readonly logLevel: LogLevel;
  readonly dataDir: string;
  readonly telemetry: TelemetryConfig;
  readonly auth: AuthConfig;
  /**
   * GRANARY_MAX_FUTURE_EVENT_TIME_S (default 86400, one day): how far past the server's clock an
   * event time may be. Writes (online WriteRows, offline Insert) with a later event time, or one
   * before year 1, are refused: online, the newest event time of a key wins, so a row dated in the
   * far future would silently shadow every later write of that key.
   */
  readonly maxFutureEventTimeS: number;
  /**
   * GRANARY_NATS_URL: the NATS servers (comma-separated nats:// or tls:// URLs) whose JetStream holds
   * the write log (issue 16). Unset: no shared log; the online service writes its own store directly.
   */
  readonly natsUrl: string | undefined;
  /** Where on that NATS the log lives; defaults suit one Granary per NATS (tests and shared NATS set their own). */
  readonly writeLog: {
    /** GRANARY_NATS_STREAM (default GRANARY); dead letters in `<stream>_DEAD`. */
    readonly stream: string;
    /** GRANARY_NATS_SUBJECT_PREFIX (default granary): subjects `<prefix>.<project>.<group>.v<version>`, dead letters `<prefix>-dead.…`. */
    readonly subjectPrefix: string;
    /** GRANARY_NATS_REPLICAS: stream replicas when Granary creates the streams (1, or 3 on a NATS cluster). */
    readonly replicas: number;
    /** GRANARY_NATS_MAX_AGE_H (default 168, a week): how long the log keeps a batch; longer than a replica's bootstrap. */
    readonly maxAgeMs: number;
  };
}

export function readServerConfig(r: EnvReader, service: ServiceName): ServerConfig {
  const upper = service.toUpperCase();
  const reflection = r.optionalString("GRANARY_REFLECTION") === undefined ? undefined : r.oneOf("GRANARY_REFLECTION", ["on", "off"], "off") === "on";
  const healthPort = r.optionalString("GRANARY_HEALTH_PORT") === undefined ? undefined : r.port("GRANARY_HEALTH_PORT", 0);
  return {
    host: r.string("GRANARY_HOST", "127.0.0.1"),
    port: r.port(`GRANARY_${upper}_PORT`, DEFAULT_PORTS[service]),
    maxMessageBytes: r.int("GRANARY_MAX_MESSAGE_BYTES", 16 * 1024 * 1024, { min: 1024, max: 2 ** 31 - 1 }),
    drainDelayMs: r.int("GRANARY_DRAIN_DELAY_MS", 0, { min: 0, max: 600_000 }),
    shutdownGraceMs: r.int("GRANARY_SHUTDOWN_GRACE_MS", 10_000, { min: 0, max: 600_000 }),
    tls: readServerTls(r),
    reflection,
    healthPort,
    httpPort: readHttpPort(r, service),
    httpCorsOrigins: readCorsOrigins(r),
  };
}

function readCorsOrigins(r: EnvReader): string[] | undefined {
  const raw = r.optionalString("GRANARY_HTTP_CORS_ORIGINS");
  if (raw === undefined || raw.trim() === "") return undefined;
  const origins = raw.split(",").map((o) => o.trim());
  const bad = origins.filter((o) => !/^https?:\/\/[^/\s*]+$/.test(o));
  if (bad.length > 0)
    r.problem(`GRANARY_HTTP_CORS_ORIGINS must list origins such as https://app.example.com (scheme and host, no path, no wildcard); not ${bad.join(", ")}`);
  return origins;
}

/** The HTTP (Connect, gRPC-Web, JSON) port: see ServerConfig.httpPort. */
function readHttpPort(r: EnvReader, service: ServiceName): number | undefined {
  const key = `GRANARY_${service.toUpperCase()}_HTTP_PORT`;
  const name = r.optionalString(key) !== undefined ? key : r.optionalString("GRANARY_HTTP_PORT") !== undefined ? "GRANARY_HTTP_PORT" : undefined;
  if (name !== undefined && r.optionalString(name) === "off") return undefined;
  const grpcDefault = r.optionalString(`GRANARY_${service.toUpperCase()}_PORT`) === undefined;
  return r.port(name ?? key, grpcDefault ? DEFAULT_HTTP_PORTS[service] : 0);
}

/** GRANARY_TLS_CERT and GRANARY_TLS_KEY together or not at all; GRANARY_TLS_CA only with them. */
function readServerTls(r: EnvReader): ServerTlsConfig | undefined {
  const certFile = r.optionalString("GRANARY_TLS_CERT");
  const keyFile = r.optionalString("GRANARY_TLS_KEY");
  const caFile = r.optionalString("GRANARY_TLS_CA");
  if (certFile === undefined && keyFile === undefined) {
    if (caFile !== undefined) r.problem("GRANARY_TLS_CA requires GRANARY_TLS_CERT and GRANARY_TLS_KEY (client certificates are checked only over TLS)");
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) {
    r.problem(`GRANARY_TLS_CERT and GRANARY_TLS_KEY must be set together (only ${certFile === undefined ? "GRANARY_TLS_KEY" : "GRANARY_TLS_CERT"} is set)`);
    return undefined;
  }
  const clientCerts = r.oneOf("GRANARY_TLS_CLIENT_CERTS", ["require", "off"], caFile === undefined ? "off" : "require");
  if (clientCerts === "require" && caFile === undefined)
    r.problem("GRANARY_TLS_CLIENT_CERTS=require needs GRANARY_TLS_CA (the CA that signs client certificates)");
  return { certFile, keyFile, caFile, requireClientCerts: clientCerts === "require" };
}

/**
 * TLS for tools that dial Granary (CLI, SDK, scripts): GRANARY_TLS_CA to trust, and
 * GRANARY_TLS_CERT + GRANARY_TLS_KEY as the client certificate. Undefined when none is set.
 */
export function readClientTls(r: EnvReader): ClientTlsConfig | undefined {
  const caFile = r.optionalString("GRANARY_TLS_CA");
  const certFile = r.optionalString("GRANARY_TLS_CERT");
  const keyFile = r.optionalString("GRANARY_TLS_KEY");
  if ((certFile === undefined) !== (keyFile === undefined)) r.problem("GRANARY_TLS_CERT and GRANARY_TLS_KEY must be set together");
  if (caFile === undefined && certFile === undefined && keyFile === undefined) return undefined;
  return { caFile, certFile, keyFile };
}

/**
 * How a service dials the others: when it serves TLS, it speaks TLS too, trusts GRANARY_TLS_CA
 * and presents its own certificate (which mTLS servers require). Undefined: cleartext.
 */
export function serviceClientTls(server: ServerConfig): ClientTlsConfig | undefined {
  if (!server.tls) return undefined;
  return { caFile: server.tls.caFile, certFile: server.tls.certFile, keyFile: server.tls.keyFile };
}

export function readCommonConfig(r: EnvReader, defaultServiceName: string): CommonConfig {
  const endpoint = r.optionalUrl("OTEL_EXPORTER_OTLP_ENDPOINT", ["http:", "https:"]);
  const dataDir = r.string("GRANARY_DATA_DIR", ".granary");
  return {
    logLevel: r.oneOf("GRANARY_LOG_LEVEL", ["trace", "debug", "info", "warn", "error", "fatal", "silent"], "info"),
    dataDir,
    maxFutureEventTimeS: r.int("GRANARY_MAX_FUTURE_EVENT_TIME_S", DEFAULT_MAX_FUTURE_EVENT_TIME_S, { min: 0, max: 100 * 365 * 86_400 }),
    natsUrl: readNatsUrl(r),
    writeLog: {
      stream: natsName(r, "GRANARY_NATS_STREAM", "GRANARY", /^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and -"),
      subjectPrefix: natsName(r, "GRANARY_NATS_SUBJECT_PREFIX", "granary", /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/, "dot-separated tokens of a-z, 0-9, _ and -"),
      replicas: r.int("GRANARY_NATS_REPLICAS", 1, { min: 1, max: 5 }),
      maxAgeMs: r.int("GRANARY_NATS_MAX_AGE_H", 168, { min: 1, max: 24 * 365 }) * 3_600_000,
    },
    auth: {
      enabled: r.oneOf("GRANARY_AUTH", ["on", "off"], "on") === "on",
      serviceKey: r.optionalString("GRANARY_SERVICE_KEY"),
      serviceKeyFile: r.string("GRANARY_SERVICE_KEY_FILE", join(dataDir, "service.key")),
      requestsPerSecond: r.int("GRANARY_RATE_LIMIT_RPS", 5000, { min: 0, max: 10_000_000 }),
      oidc: readOidc(r),
    },
    telemetry: {
      enabled: !r.bool("OTEL_SDK_DISABLED", false),
      serviceName: r.optionalString("OTEL_SERVICE_NAME") ?? serviceNameFromResourceAttributes(r) ?? defaultServiceName,
      otlpEndpoint: endpoint,
      tracesExporter: exporterSetting(
        r,
        "OTEL_TRACES_EXPORTER",
        endpoint !== undefined || r.optionalString("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") !== undefined,
      ),
      metricsExporter: exporterSetting(
        r,
        "OTEL_METRICS_EXPORTER",
        endpoint !== undefined || r.optionalString("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") !== undefined,
      ),
      prometheus: readPrometheus(r),
    },
  };
}

/**
 * Another service's address as this one dials it: host:port (TLS when the caller has TLS
 * settings), https://host:port (TLS) or http://host:port (cleartext).
 */
export function readServiceAddress(r: EnvReader, service: ServiceName): string {
  return r.serviceAddress(`GRANARY_${service.toUpperCase()}_ADDRESS`, `127.0.0.1:${DEFAULT_PORTS[service]}`);
}

function readOidc(r: EnvReader): AuthConfig["oidc"] {
  const jwksFile = r.optionalString("GRANARY_OIDC_JWKS_FILE");
  const issuer = r.optionalString("GRANARY_OIDC_ISSUER");
  const audience = r.optionalString("GRANARY_OIDC_AUDIENCE");
  const userClaim = r.string("GRANARY_OIDC_USER_CLAIM", "sub");
  const rolesClaim = r.string("GRANARY_OIDC_ROLES_CLAIM", "granary_roles");
  if (!jwksFile) {
    if (issuer || audience) r.problem("GRANARY_OIDC_ISSUER and GRANARY_OIDC_AUDIENCE need GRANARY_OIDC_JWKS_FILE (the identity provider's public keys)");
    return undefined;
  }
  return { jwksFile, issuer, audience, userClaim, rolesClaim };
}

/** GRANARY_NATS_URL: one or more nats:// or tls:// URLs, comma-separated (a cluster's seed servers). */
function readNatsUrl(r: EnvReader): string | undefined {
  const raw = r.optionalString("GRANARY_NATS_URL");
  if (raw === undefined || raw.trim() === "") return undefined;
  const bad = raw
    .split(",")
    .map((u) => u.trim())
    .filter((u) => !/^(nats|tls):\/\/[^\s/]+(:\d+)?\/?$/.test(u));
  if (bad.length > 0) {
    r.problem(
      `GRANARY_NATS_URL must be nats://host:port or tls://host:port URLs, comma-separated; not ${bad.map((u) => JSON.stringify(u.replace(/\/\/[^@/]*@/, "//***@"))).join(", ")}`,
    );
    return undefined;
  }
  return raw;
}

function natsName(r: EnvReader, key: string, fallback: string, pattern: RegExp, what: string): string {
  const value = r.string(key, fallback);
  if (pattern.test(value)) return value;
  r.problem(`${key} must be ${what}, got ${JSON.stringify(value)}`);
  return fallback;
}

/**
 * OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER: the SDK takes a comma-separated list (otlp, console,
 * and for metrics prometheus); Granary only needs to know whether anything is exported at all.
 */
function exporterSetting(r: EnvReader, key: string, endpointSet: boolean): TelemetryConfig["tracesExporter"] {
  const raw = r.optionalString(key);
  if (raw === undefined || raw.trim() === "") return endpointSet ? "env" : "none";
  const names = raw.split(",").map((n) => n.trim());
  const known = key === "OTEL_METRICS_EXPORTER" ? ["otlp", "console", "prometheus", "none"] : ["otlp", "console", "none"];
  const bad = names.filter((n) => !known.includes(n));
  if (bad.length > 0) r.problem(`${key} must list ${known.join(", ")}; not ${bad.join(", ")}`);
  return names.includes("none") ? "none" : "env";
}

/** service.name given in OTEL_RESOURCE_ATTRIBUTES (key=value,key=value, values percent-encoded). */
function serviceNameFromResourceAttributes(r: EnvReader): string | undefined {
  for (const pair of (r.optionalString("OTEL_RESOURCE_ATTRIBUTES") ?? "").split(",")) {
    const [key, value] = pair.split("=", 2);
    if (key?.trim() === "service.name" && value !== undefined && value.trim() !== "") return decodeURIComponent(value.trim());
  }
  return undefined;
}

/** GRANARY_METRICS_PORT unset or off: no /metrics listener at all (deny by default). */
function readPrometheus(r: EnvReader): PrometheusConfig | undefined {
  const port = r.optionalString("GRANARY_METRICS_PORT");
  const tokenFile = r.optionalString("GRANARY_METRICS_TOKEN_FILE");
  let token = r.optionalString("GRANARY_METRICS_TOKEN");
  if (token !== undefined && tokenFile !== undefined) r.problem("GRANARY_METRICS_TOKEN and GRANARY_METRICS_TOKEN_FILE are exclusive");
  if (port === undefined || port === "off") {
    if (token !== undefined || tokenFile !== undefined || r.optionalString("GRANARY_METRICS_HOST") !== undefined)
      r.problem("GRANARY_METRICS_HOST and GRANARY_METRICS_TOKEN(_FILE) need GRANARY_METRICS_PORT");
    return undefined;
  }
  if (tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, "utf8").trim();
    } catch (err) {
      r.problem(`GRANARY_METRICS_TOKEN_FILE: cannot read ${tokenFile} (${(err as Error).message})`);
    }
  }
  if (token !== undefined && token.length < 16) r.problem("GRANARY_METRICS_TOKEN must be at least 16 characters");
  return { host: r.string("GRANARY_METRICS_HOST", "127.0.0.1"), port: r.port("GRANARY_METRICS_PORT", 0), token };
}
