import { setMaxListeners } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { readFileSync } from "node:fs";
import { Duplex } from "node:stream";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter, type ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import type { ServerConfig } from "@granary/config";
import type { Logger } from "@granary/telemetry";
import type { AccessControl } from "@granary/auth";
import { connectPipeline } from "./connect-pipeline.js";
import type { StartRpcSpan } from "./rpc-telemetry.js";
import type { ServiceRegistration } from "./service-registration.js";

export interface HttpPortOptions {
  readonly name: string;
  readonly services: readonly ServiceRegistration[];
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly access: AccessControl;
  readonly startSpan: StartRpcSpan;
  /** The server's calls in flight (shared with the gRPC port): shutdown ends them at the grace period. */
  readonly inFlight: Set<() => void>;
  /** Aborted when the grace period is over: connect aborts every handler still running with it. */
  readonly shutdownSignal: AbortSignal;
}

export interface HttpPort {
  readonly port: number;
  start(): Promise<void>;
  /** Stops accepting, lets calls in flight finish, then closes; `force` cuts what is left. */
  close(force: AbortSignal): Promise<void>;
}

// How long the statuses of calls ended by shutdown get to reach their clients before the sockets go.
const FLUSH_MS = 500;
// How long a draining port with no call running waits before closing connections still open.
const SETTLE_MS = 1_000;

/**
 * The same services on a second port, for browsers and plain HTTP tools: connect-node serves the
 * Connect protocol (JSON and binary, unary and streaming), gRPC-Web and gRPC, over HTTP/1.1 and
 * HTTP/2 (h2c with prior knowledge in cleartext; ALPN with TLS, which uses the gRPC port's
 * certificates and client-certificate rule). Every call passes the same pipeline as the gRPC port
 * (connect-pipeline.ts): span, authentication, permissions, protovalidate, deadline, audit, error
 * mapping; the same message-size limit applies. A pre-encoded response (the online lookup path)
 * is decoded into its fields here and serialised by connect, in JSON or binary as asked.
 */
export function createHttpPort(options: HttpPortOptions): HttpPort {
  const { config, logger } = options;
  const handler = connectNodeAdapter({
    routes(router) {
      for (const { service, impl } of options.services) router.service(service, impl as Partial<ServiceImpl<DescService>>);
    },
    interceptors: [connectPipeline({ access: options.access, logger, startSpan: options.startSpan, inFlight: options.inFlight })],
    // gzip and brotli when the client accepts them (browsers always do), but only for messages of
    // 64 KiB and more: a 100-key lookup (~16 KiB) cost 1.4x its time compressed on loopback
    // (bench:protocols), while reads of Arrow chunks over a real network gain from it.
    compressMinBytes: 64 * 1024,
    readMaxBytes: config.maxMessageBytes,
    writeMaxBytes: config.maxMessageBytes,
    // Plain `curl -H 'Content-Type: application/json'` must work: no Connect-Protocol-Version required.
    requireConnectProtocolHeader: false,
    shutdownSignal: unavailableWhenAborted(options.shutdownSignal),
    // A field the server does not know is a caller's mistake worth naming, not something to drop.
    jsonOptions: { ignoreUnknownFields: false },
    fallback: notFound,
  });
  const cors = config.httpCorsOrigins ? corsFor(new Set(config.httpCorsOrigins), handler) : handler;
  const sockets = new Set<Duplex>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const track = (socket: Duplex): void => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  let listener: net.Server;
  // HTTP/1.1 connections handed to the http.Server, and how many requests each has running: the
  // server never listens itself, so its own idle-connection tracking does not see them.
  const h1Sockets = new Set<Duplex>();
  const h1Busy = new Map<Duplex, number>();
  let closing = false;
  const countH1Request = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    if (req.httpVersionMajor !== 1) return;
    const socket = req.socket as Duplex;
    if (!h1Sockets.has(socket)) {
      h1Sockets.add(socket);
      socket.once("close", () => h1Sockets.delete(socket));
    }
    h1Busy.set(socket, (h1Busy.get(socket) ?? 0) + 1);
    if (closing) res.setHeader("connection", "close");
    res.once("close", () => {
      const left = (h1Busy.get(socket) ?? 1) - 1;
      if (left > 0) h1Busy.set(socket, left);
      else {
        h1Busy.delete(socket);
        // Draining: a keep-alive connection goes once its last call has answered.
        if (closing) socket.end();
      }
    });
  };
  if (config.tls) {
    const tls = config.tls;
    const secure = http2.createSecureServer(
      {
        allowHTTP1: true,
        cert: readFileSync(tls.certFile),
        key: readFileSync(tls.keyFile),
        ...(tls.caFile === undefined ? {} : { ca: readFileSync(tls.caFile) }),
        requestCert: tls.caFile !== undefined && tls.requireClientCerts !== false,
        rejectUnauthorized: tls.caFile !== undefined && tls.requireClientCerts !== false,
        maxSessionMemory: 64,
      },
      cors,
    );
    secure.on("secureConnection", track);
    secure.prependListener("request", countH1Request);
    secure.on("session", (s) => trackSession(sessions, s));
    listener = secure;
  } else {
    // Cleartext: HTTP/2 with prior knowledge starts with the connection preface "PRI * HTTP/2.0";
    // anything else is HTTP/1.1. One port serves both by peeking at the first bytes.
    const h2 = http2.createServer({ maxSessionMemory: 64 }, cors);
    h2.on("session", (s) => trackSession(sessions, s));
    const h1Server = http.createServer(cors);
    h1Server.keepAliveTimeout = 5_000;
    h1Server.prependListener("request", countH1Request);
    // noDelay: HTTP/2 writes HEADERS, DATA and trailers apart; with Nagle's algorithm each small
    // response waited ~40 ms for the client's delayed ACK (measured: p50 48 ms against 3 ms).
    listener = net.createServer({ noDelay: true }, (socket) => {
      track(socket);
      socket.once("error", () => socket.destroy());
      socket.once("data", (chunk: Buffer) => {
        socket.pause();
        if (chunk.subarray(0, 3).toString("latin1") === "PRI") {
          // HTTP/2 reads a net.Socket through its native handle, past bytes already read in
          // JavaScript: hand it a stream that replays the first chunk, then relays the socket.
          h2.emit("connection", replaying(socket, chunk));
        } else {
          socket.unshift(chunk);
          h1Sockets.add(socket);
          socket.once("close", () => h1Sockets.delete(socket));
          h1Server.emit("connection", socket);
          socket.resume();
        }
      });
    });
  }
  let port = config.httpPort ?? 0;
  return {
    get port() {
      return port;
    },
    async start() {
      await new Promise<void>((resolve, reject) => {
        listener.once("error", (err) => reject(new Error(`${options.name}: cannot listen for HTTP on ${config.host}:${port}: ${err.message}`, { cause: err })));
        listener.listen(port, config.host, () => resolve());
      });
      port = (listener.address() as net.AddressInfo).port;
      logger.info({ server: options.name, httpPort: port }, "Connect, gRPC-Web and JSON over HTTP/1.1 and HTTP/2");
    },
    async close(force) {
      listener.close();
      closing = true;
      for (const s of sessions) if (!s.closed) s.close();
      // An HTTP/1.1 connection with a call running closes once it has answered (above). One that
      // looks idle may hold a request not parsed yet: it is left to the settle rule below.
      await new Promise<void>((resolve) => {
        // Calls are waited for, connections are not: once no call of this server has run for
        // SETTLE_MS, what is still open (a client that keeps an HTTP/2 session or a half-sent
        // request after its answer) is closed rather than held to the grace period.
        let idleSince: number | undefined;
        const check = setInterval(() => {
          if (sockets.size === 0) return done();
          if (options.inFlight.size > 0) idleSince = undefined;
          else if ((idleSince ??= performance.now()) + SETTLE_MS <= performance.now()) {
            for (const session of sessions) session.destroy();
            for (const socket of sockets) socket.destroy();
          }
        }, 50);
        let cutTimer: NodeJS.Timeout | undefined;
        const cut = () => (cutTimer = setTimeout(() => done(true), FLUSH_MS));
        const done = (destroy = false) => {
          clearInterval(check);
          clearTimeout(cutTimer);
          force.removeEventListener("abort", cut);
          if (destroy) for (const s of sockets) s.destroy();
          resolve();
        };
        if (force.aborted) cut();
        else force.addEventListener("abort", cut, { once: true });
      });
    },
  };
}

/** A duplex over `socket` that first yields `first` (bytes already read from it). */
function replaying(socket: net.Socket, first: Buffer): Duplex {
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  stream.push(first);
  socket.on("data", (data: Buffer) => {
    if (!stream.push(data)) socket.pause();
  });
  socket.once("end", () => stream.push(null));
  socket.once("close", () => stream.destroy());
  socket.once("error", (err) => stream.destroy(err));
  return stream;
}

function trackSession(sessions: Set<http2.ServerHttp2Session>, session: http2.ServerHttp2Session): void {
  sessions.add(session);
  session.once("close", () => sessions.delete(session));
  session.on("error", () => session.destroy());
}

function unavailableWhenAborted(signal: AbortSignal): AbortSignal {
  const controller = new AbortController();
  // Every call in flight listens on it (connect links each handler's signal to it).
  setMaxListeners(0, controller.signal);
  const abort = () => controller.abort(new ConnectError("server is shutting down; retry", Code.Unavailable));
  if (signal.aborted) abort();
  else signal.addEventListener("abort", abort, { once: true });
  return controller.signal;
}

// What a browser on an allowed origin may send and read: the Connect, gRPC-Web and auth headers.
const CORS_ALLOW_HEADERS = "authorization, content-type, connect-protocol-version, connect-timeout-ms, grpc-timeout, x-grpc-web, x-user-agent";
const CORS_EXPOSE_HEADERS = "grpc-status, grpc-message, grpc-status-details-bin";

/**
 * CORS for the origins listed in GRANARY_HTTP_CORS_ORIGINS, and for no other: a preflight from an
 * origin not listed gets no allow headers, so the browser refuses the call before it is made.
 */
function corsFor(origins: ReadonlySet<string>, next: NodeHandler): NodeHandler {
  return (req, res) => {
    const origin = req.headers.origin;
    const allowed = typeof origin === "string" && origins.has(origin);
    if (allowed) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "Origin");
      res.setHeader("access-control-expose-headers", CORS_EXPOSE_HEADERS);
    }
    if (req.method === "OPTIONS") {
      if (allowed) {
        res.setHeader("access-control-allow-methods", "POST, GET");
        res.setHeader("access-control-allow-headers", CORS_ALLOW_HEADERS);
        res.setHeader("access-control-max-age", "7200");
      }
      res.writeHead(204);
      res.end();
      return;
    }
    next(req, res);
  };
}

type NodeHandler = ReturnType<typeof connectNodeAdapter>;

/** Paths that name no method: a JSON body in the Connect error shape, so a caller sees what went wrong. */
const notFound: NonNullable<ConnectNodeAdapterOptions["fallback"]> = (req, res) => {
  const body = JSON.stringify({
    code: "unimplemented",
    message: `no such method: ${String(req.url).slice(0, 200)} (POST /<package.Service>/<Method>, e.g. /granary.metadata.v1.MetadataService/ListProjects)`,
  });
  res.writeHead(404, { "content-type": "application/json" });
  res.end(body);
};
