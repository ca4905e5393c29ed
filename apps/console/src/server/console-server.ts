import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { ClientTlsConfig } from "@granary/config";
import { apiServiceOf, proxyApiCall, type ProxyLogger, type Upstreams, type UpstreamTls } from "./api-proxy.js";
import { serveStatic } from "./static-files.js";

export interface ConsoleServerOptions {
  readonly host: string;
  readonly port: number;
  /** Base URL of each service's HTTP (Connect) port, e.g. http://127.0.0.1:51051. */
  readonly upstreams: Upstreams;
  readonly logger?: ProxyLogger;
  /**
   * For https upstreams: the CA to trust (else the system's and NODE_EXTRA_CA_CERTS), and a client
   * certificate for services that require one (mTLS). Files, read once at start.
   */
  readonly tls?: ClientTlsConfig | undefined;
  /** The built app (default apps/console/dist). */
  readonly distDir?: string;
}

export interface ConsoleServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** The built app (apps/console/dist), from the source here or from a compiled bundle in dist/ (scripts/build.mjs). */
export const DEFAULT_DIST_DIR = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "../../dist" : "../apps/console/dist", import.meta.url));

/** The console: the built single-page app, and a reverse proxy to the four services' Connect APIs. */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  for (const [service, url] of Object.entries(options.upstreams)) {
    if (!/^https?:\/\//.test(url)) throw new TypeError(`upstream for ${service} must be an http(s) URL, got "${url}"`);
  }
  const dist = options.distDir ?? DEFAULT_DIST_DIR;
  const tls = upstreamTls(options.tls);
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const pathname = (req.url ?? "/").split("?")[0] ?? "/";
    const service = apiServiceOf(pathname);
    if (service !== undefined) {
      proxyApiCall(service, options.upstreams, req, res, options.logger, tls);
      return;
    }
    if (pathname === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" }).end("ok\n");
      return;
    }
    serveStatic(dist, req, res, pathname).catch((err: unknown) => {
      options.logger?.warn({ err: String(err), path: pathname }, "console: static file failed");
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("internal error\n");
      else res.destroy();
    });
  };
  const server = createServer(handle);
  // Streams (a long Read, WatchChanges) may stay open for long; the services set their own deadlines.
  server.requestTimeout = 0;
  await new Promise<void>((ready, fail) => {
    server.once("error", fail);
    server.listen(options.port, options.host, () => {
      server.off("error", fail);
      ready();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const url = `http://${host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host}:${port}`;
  options.logger?.info({ url, upstreams: options.upstreams }, "console listening");
  return {
    port,
    url,
    close: () =>
      new Promise<void>((done, fail) => {
        server.close((err) => (err ? fail(err) : done()));
        server.closeAllConnections();
      }),
  };
}

function upstreamTls(tls: ClientTlsConfig | undefined): UpstreamTls | undefined {
  if (!tls) return undefined;
  const read = (setting: string, file: string | undefined): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`console: cannot read ${setting} file ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return { ca: read("GRANARY_TLS_CA", tls.caFile), cert: read("GRANARY_TLS_CERT", tls.certFile), key: read("GRANARY_TLS_KEY", tls.keyFile) };
}
