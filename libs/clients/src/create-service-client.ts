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
}

/**
 * A gRPC (HTTP/2, cleartext) transport to another Granary service at host:port. Compression is off:
 * gzip costs several times the network time on datacenter links.
 */
export function createServiceTransport(address: string, options: TransportOptions = {}): Transport {
  const maxBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
  return createGrpcTransport({
    baseUrl: `http://${address}`,
    defaultTimeoutMs: options.defaultTimeoutMs,
    acceptCompression: [],
    sendCompression: undefined,
    readMaxBytes: maxBytes,
    writeMaxBytes: maxBytes,
    interceptors: [traceInterceptor, ...(options.apiKey ? [bearerInterceptor(options.apiKey)] : []), ...(options.interceptors ?? [])],
  });
}

/** A typed client for one service, over a transport or straight to host:port. */
export function createServiceClient<T extends DescService>(
  service: T,
  target: string | Transport,
  options?: TransportOptions,
): Client<T> {
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
