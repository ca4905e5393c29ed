import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";

export type ServiceName = "metadata" | "online" | "offline" | "registry";
export type Upstreams = Readonly<Record<ServiceName, string>>;

/** What the proxy presents and trusts when a service's HTTP port speaks TLS (PEM contents). */
export interface UpstreamTls {
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
}

export interface ProxyLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const API_PATH = /^\/granary\.(metadata|online|offline|registry)\.[A-Za-z0-9_.]+\/[A-Za-z0-9_]+$/;

/** The service an API path (`/granary.<service>.v1.<Service>/<Method>`) belongs to, if it is one. */
export function apiServiceOf(pathname: string): ServiceName | undefined {
  if (!pathname.startsWith("/granary.")) return undefined;
  return API_PATH.exec(pathname)?.[1] as ServiceName | undefined;
}

/** Headers that describe one hop (RFC 9110 §7.6.1), never forwarded. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

function connectError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers }).end(JSON.stringify({ code, message }));
}

/**
 * Forwards one Connect / gRPC-Web call to its service, streaming both bodies as they come (a
 * server-streaming Read answers batch by batch through here). Headers, Authorization included,
 * pass through; the service does the authentication.
 */
export function proxyApiCall(
  service: ServiceName,
  upstreams: Upstreams,
  req: IncomingMessage,
  res: ServerResponse,
  logger?: ProxyLogger,
  tls?: UpstreamTls,
): void {
  if (req.method !== "POST" && req.method !== "GET") {
    connectError(res, 405, "unimplemented", `${req.method ?? "this method"} is not an API method: use POST (or GET for Connect GET requests)`, {
      allow: "GET, POST",
    });
    return;
  }
  const base = new URL(upstreams[service]);
  const target = new URL(req.url ?? "/", base);
  const https = base.protocol === "https:";
  const send = https ? httpsRequest : httpRequest;
  const options = { method: req.method, headers: forwardable(req.headers), ...(https && tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}) };
  const upstream = send(target, options, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, forwardable(answer.headers));
    // Connect and gRPC-Web carry their status in the body; real HTTP trailers (gRPC) pass as trailers.
    answer.on("end", () => {
      if (Object.keys(answer.trailers).length > 0) res.addTrailers(answer.trailers);
    });
    answer.pipe(res);
    answer.on("error", () => res.destroy());
  });
  upstream.on("error", (err: NodeJS.ErrnoException) => {
    logger?.warn({ service, upstream: base.origin, code: err.code, err: err.message }, "console proxy: service unreachable");
    connectError(res, 502, "unavailable", `the ${service} service is unavailable at ${base.origin} (${err.code ?? err.message})`);
  });
  // The browser went away (a closed tab, an aborted stream): stop the call upstream too.
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}
