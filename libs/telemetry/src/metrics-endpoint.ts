import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import type { PrometheusConfig } from "@granary/config";
import { mergeScopeMetrics } from "./merge-metrics.js";
import { collectSources } from "./metric-sources.js";
import type { PullMetricReader } from "./pull-metric-reader.js";

export interface MetricsEndpoint {
  /** host:port it listens on. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * GET /metrics in the Prometheus text format, on a listener of its own (never an API port, so
 * API auth, TLS and rate limits stay out of the scrape path and a scrape never takes a call's
 * slot). With a token, a scrape without `Authorization: Bearer <token>` gets 401.
 */
export async function startMetricsEndpoint(config: PrometheusConfig, reader: PullMetricReader): Promise<MetricsEndpoint> {
  const serializer = new PrometheusSerializer();
  const expected = config.token === undefined ? undefined : digest(`Bearer ${config.token}`);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics") return void res.writeHead(404).end();
    if (req.method !== "GET" && req.method !== "HEAD") return void res.writeHead(405, { allow: "GET, HEAD" }).end();
    if (expected && !timingSafeEqual(digest(req.headers.authorization ?? ""), expected))
      return void res.writeHead(401, { "www-authenticate": 'Bearer realm="metrics"' }).end();
    void (async () => {
      const own = await reader.snapshot();
      const others = await collectSources();
      const text = serializer.serialize({ resource: own.resource, scopeMetrics: mergeScopeMetrics([own.scopeMetrics, ...others]) });
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(req.method === "HEAD" ? undefined : text);
    })().catch((err: unknown) => {
      res.writeHead(500).end(err instanceof Error ? err.message : "collect failed");
    });
  });
  // A scraper's keep-alive connection must not hold shutdown up.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
