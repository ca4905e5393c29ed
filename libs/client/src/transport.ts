import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createServiceTransport } from "@granary/clients";

export interface SdkTransportOptions {
  readonly interceptors: Interceptor[];
  readonly maxMessageBytes?: number;
  /** PEM of the CA to trust on `https://` addresses; undefined: the system's CAs. */
  readonly ca?: string;
}

/** "host:port", "http://host:port" (cleartext) or "https://host:port" (TLS), split into what the transport needs. */
export function parseAddress(address: string): { readonly tls: boolean; readonly hostPort: string } {
  const match = /^(https?):\/\/([^/]+)\/?$/.exec(address);
  if (match) return { tls: match[1] === "https", hostPort: match[2]! };
  if (address.includes("://")) throw new TypeError(`address "${address}" must be host:port, http://host:port or https://host:port`);
  return { tls: false, hostPort: address };
}

/**
 * The transport of one service. Cleartext goes through the services' own transport factory;
 * TLS needs a CA passed to node:http2, which that factory does not take (yet), so it is built here
 * with the same settings: binary gRPC, no compression, the suite's message size limit.
 */
export function createSdkTransport(address: string, options: SdkTransportOptions): Transport {
  const { tls, hostPort } = parseAddress(address);
  if (!tls) return createServiceTransport(hostPort, { interceptors: options.interceptors, maxMessageBytes: options.maxMessageBytes });
  const maxBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
  return createGrpcTransport({
    baseUrl: `https://${hostPort}`,
    nodeOptions: options.ca === undefined ? {} : { ca: options.ca },
    acceptCompression: [],
    sendCompression: undefined,
    readMaxBytes: maxBytes,
    writeMaxBytes: maxBytes,
    interceptors: options.interceptors,
  });
}
