// Registry artifact throughput over gRPC on loopback: one 200 MB artifact uploaded in chunks (with
// its sha256 in the header, so the server verifies it), then downloaded and hashed by the client.
// Metadata and registry run in this process, as `npm start` runs them; the client is a connect
// client in the same process. MB = 10^6 bytes; each figure is the median of --runs runs after a
// warm-up run of the same size.
//
// The download figures come from a client whose HTTP/2 receive window is 8 MiB. Node's default
// window (64 KiB, per stream and per connection) makes the server stop every 64 KiB until the
// client's WINDOW_UPDATE arrives; on loopback that costs more CPU than the bytes themselves and
// caps a download near 100 MB/s. gRPC's own clients open the window (grpc-go and grpc-java size it
// to the bandwidth-delay product, grpc-js has grpc-node.flow_control_window); the figure with
// Node's default is printed too, as download_mb_s_default_window. Uploads are not affected: there
// the server's window counts, and grpc-js keeps the default.
//
// Uses DATABASE_URL when set, else an embedded PostgreSQL in a temporary directory.
//
//   npm run bench:registry [-- --mb 200 --chunk-bytes 1048512 --runs 3]
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import type { ClientHttp2Session } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { bearerInterceptor, createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { MetadataService } from "@granary/proto/metadata";
import { startEmbeddedPostgres } from "@granary/postgres";
import { RegistryService } from "@granary/proto/registry";
import { loadRegistryConfig, startRegistryService } from "@granary/registry";
import { createLogger } from "@granary/telemetry";
import { testKeys } from "@granary/testing";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const BYTES = arg("mb", 200) * 1_000_000;
// Just under 1 MiB, as the registry's README advises (protobuf-es encodes a message of exactly
// 1 MiB into a 2 MiB buffer).
const CHUNK = arg("chunk-bytes", 1024 * 1024 - 64);
const RUNS = arg("runs", 3);
const keys = testKeys();
const WINDOW = 8 * 1024 * 1024;

/** Opens the connection-level receive window of each session it makes (the per-stream one is a setting). */
class WideWindowSessionManager extends Http2SessionManager {
  override async request(...args: Parameters<Http2SessionManager["request"]>) {
    const stream = await super.request(...args);
    const session = stream.session as ClientHttp2Session | undefined;
    if (session && (session.state.localWindowSize ?? WINDOW) < WINDOW) session.setLocalWindowSize(WINDOW);
    return stream;
  }
}

function wideWindowClient(address: string): Client<typeof RegistryService> {
  const baseUrl = `http://${address}`;
  return createServiceClient(
    RegistryService,
    createGrpcTransport({
      baseUrl,
      acceptCompression: [],
      readMaxBytes: 16 * 1024 * 1024,
      writeMaxBytes: 16 * 1024 * 1024,
      sessionManager: new WideWindowSessionManager(baseUrl, {}, { settings: { initialWindowSize: WINDOW } }),
      interceptors: [bearerInterceptor(keys.adminKey)],
    }),
  );
}

const dir = mkdtempSync(join(tmpdir(), "granary-bench-reg-"));
chmodSync(dir, 0o755);
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: join(dir, "pg") });
const databaseUrl = process.env.DATABASE_URL ?? embedded!.url;
await import("pg").then(async ({ default: pg }) => {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  await c.query("DROP SCHEMA IF EXISTS granary_registry CASCADE");
  await c.end();
});
const logger = createLogger({ level: "warn", service: "bench" });
const metadata = await startMetadataService(
  loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: join(dir, "md"), DATABASE_URL: databaseUrl }),
  logger,
);
const registry = await startRegistryService(
  loadRegistryConfig({
    ...keys.env,
    GRANARY_REGISTRY_PORT: "0",
    GRANARY_DATA_DIR: join(dir, "reg"),
    DATABASE_URL: databaseUrl,
    GRANARY_METADATA_ADDRESS: metadata.address,
  }),
  logger,
);
// The registry records every model in metadata, whose project must exist.
await createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey }).createProject({ name: "bench" });
const client = wideWindowClient(registry.address);
const defaultClient = createServiceClient(RegistryService, registry.address, { apiKey: keys.adminKey });

const mbPerS = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const cpuMs = (u: NodeJS.CpuUsage) => `${Math.round(u.user / 1000)}+${Math.round(u.system / 1000)}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Uploads `content` into a fresh version and finalizes it; MB/s and CPU ms of the upload. */
async function uploadOnce(c: Client<typeof RegistryService>, content: Buffer, digest: string): Promise<{ version: number; mbs: number; cpu: string }> {
  const { modelVersion } = await c.createModelVersion({ modelVersion: { project: "bench", model: "big" } });
  const version = modelVersion!.version;
  const t = performance.now();
  const cpu = process.cpuUsage();
  const { artifact } = await c.uploadArtifact(
    (async function* () {
      yield { message: { case: "header" as const, value: { project: "bench", model: "big", version, path: "weights.bin", sha256: digest } } };
      for (let offset = 0; offset < content.byteLength; offset += CHUNK) {
        yield { message: { case: "chunk" as const, value: content.subarray(offset, Math.min(offset + CHUNK, content.byteLength)) } };
      }
    })(),
  );
  const result = { version, mbs: mbPerS(content.byteLength, performance.now() - t), cpu: cpuMs(process.cpuUsage(cpu)) };
  if (artifact?.sha256 !== digest) throw new Error("upload digest mismatch");
  await c.finalizeModelVersion({ project: "bench", model: "big", version });
  return result;
}

/** Downloads and hashes the artifact; MB/s and CPU ms. */
async function downloadOnce(c: Client<typeof RegistryService>, version: number, size: number, digest: string): Promise<{ mbs: number; cpu: string }> {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const hash = createHash("sha256");
  let received = 0;
  for await (const res of c.downloadArtifact({ project: "bench", model: "big", version, path: "weights.bin" })) {
    if (res.message.case !== "chunk") continue;
    hash.update(res.message.value);
    received += res.message.value.byteLength;
  }
  const result = { mbs: mbPerS(size, performance.now() - t), cpu: cpuMs(process.cpuUsage(cpu)) };
  if (received !== size || hash.digest("hex") !== digest) throw new Error("download digest mismatch");
  return result;
}

try {
  const content = randomBytes(BYTES);
  const digest = createHash("sha256").update(content).digest("hex");
  // Warm-up, not counted: the JIT, the connections, the page cache.
  const warm = await uploadOnce(client, content, digest);
  await downloadOnce(client, warm.version, BYTES, digest);
  await downloadOnce(defaultClient, warm.version, BYTES, digest);

  const uploads: number[] = [];
  const downloads: number[] = [];
  const defaultDownloads: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const up = await uploadOnce(client, content, digest);
    const down = await downloadOnce(client, up.version, BYTES, digest);
    const narrow = await downloadOnce(defaultClient, up.version, BYTES, digest);
    uploads.push(up.mbs);
    downloads.push(down.mbs);
    defaultDownloads.push(narrow.mbs);
    console.error(
      `run ${run + 1}: upload ${up.mbs.toFixed(0)} MB/s (CPU ms user+system ${up.cpu}), download ${down.mbs.toFixed(0)} MB/s (${down.cpu}), ` +
        `download with a 64 KiB window ${narrow.mbs.toFixed(0)} MB/s (${narrow.cpu})`,
    );
  }
  console.log(
    JSON.stringify({
      bench: "registry",
      upload_mb_s: Math.round(median(uploads)),
      download_mb_s: Math.round(median(downloads)),
      download_mb_s_default_window: Math.round(median(defaultDownloads)),
      artifact_mb: BYTES / 1e6,
      chunk_bytes: CHUNK,
      runs: RUNS,
      postgres: embedded ? "embedded" : "DATABASE_URL",
    }),
  );
} finally {
  await registry.stop();
  await metadata.stop();
  await embedded?.stop();
  rmSync(dir, { recursive: true, force: true });
}
