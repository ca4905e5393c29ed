import { readFileSync } from "node:fs";
import type { SecureClientSessionOptions } from "node:http2";
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { traceInterceptor } from "./trace-interceptor.js";

export interface TransportOptions {
  /** Deadline applied to calls that set none. */
  defaultTimeoutMs?: number;
  /** Largest message accepted; match the server's GRANARY_MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
  interceptors?: Interceptor[];
  /** Sent as `authorization: Bearer <key>` on every call: a user's API key, or the internal service key. */
  apiKey?: string;
  /**
   * TLS: a CA file to trust (else the system's roots) and a client certificate for servers that
   * require one (mTLS). Given, a bare host:port is dialled over TLS.
   */
  tls?: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined } | undefined;
}

/**
 * A gRPC (HTTP/2) transport to another Granary service. `address` is host:port (cleartext, or TLS
 * when `options.tls` is given), https://host:port (TLS) or http://host:port (cleartext).
 * Compression is off: gzip costs several times the network time on datacenter links.
 */
export function createServiceTransport(address: string, options: TransportOptions = {}): Transport {
  const maxBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
  const baseUrl = serviceUrl(address, options.tls !== undefined);
  return createGrpcTransport({
    baseUrl,
    ...(baseUrl.startsWith("https:") && options.tls ? { nodeOptions: tlsSessionOptions(options.tls) } : {}),
    defaultTimeoutMs: options.defaultTimeoutMs,
    acceptCompression: [],
    sendCompression: undefined,
    readMaxBytes: maxBytes,
    writeMaxBytes: maxBytes,
    interceptors: [traceInterceptor, ...(options.apiKey ? [bearerInterceptor(options.apiKey)] : []), ...(options.interceptors ?? [])],
  });
}

/** The URL of an address: an explicit scheme wins; a bare host:port is https when TLS is configured. */
export function serviceUrl(address: string, tls: boolean): string {
  if (/^https?:\/\//.test(address)) return address.replace(/\/$/, "");
  return `${tls ? "https" : "http"}://${address}`;
}

function tlsSessionOptions(tls: NonNullable<TransportOptions["tls"]>): SecureClientSessionOptions {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) throw new Error("TLS client certificate: certFile and keyFile go together");
  return {
    ...(tls.caFile ? { ca: readPem("CA", tls.caFile) } : {}),
    ...(tls.certFile && tls.keyFile ? { cert: readPem("client certificate", tls.certFile), key: readPem("client key", tls.keyFile) } : {}),
  };
}

function readPem(what: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read the TLS ${what} file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** A typed client for one service, over a transport or straight to host:port. */
export function createServiceClient<T extends DescService>(service: T, target: string | Transport, options?: TransportOptions): Client<T> {
  const transport = typeof target === "string" ? createServiceTransport(target, options) : target;
  return createClient(service, transport);
}

/** Sends `authorization: Bearer <key>` on every call. */
export function bearerInterceptor(key: string): Interceptor {
  const value = `Bearer ${key}`;
  return (next) => (req) => {
    req.header.set("authorization", value);
    return next(req);
  };
}
