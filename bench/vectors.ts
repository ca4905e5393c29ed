// Similarity search on embeddings (issue 21): N seeded synthetic vectors of dimension D (a mixture
// of 1,000 Gaussian clusters, noise as large as the spread of the centres: clustered as real
// embeddings are, not trivially separable), cosine, k = 10. In the same run:
//   (a) the index layer in this process: usearch with the online service's parameters
//       (services/online/src/ann/index-parameters.ts), its add rate (batches of 5,000, as the write
//       path hands rows over), memory (RSS delta) and file size, recall@10 against brute force and
//       p50/p99 latency of one query at a time at several expansion_search values;
//   (b) the baseline: brute force (usearch.exactSearch, one thread) on the same vectors and queries;
//   (c) the online service in a child process (metadata + online, PostgreSQL embedded unless
//       DATABASE_URL is set): WriteRows into an online group with a cosine index on its embedding
//       column, the rate until the last row is found (vectors indexed per second), the same rows'
//       write rate into a group without an index, the RSS growth of the service (anonymous memory:
//       LMDB's mapped pages are counted apart) and the index file, then FindNeighbors over gRPC at
//       c=1 (recall@10 and latency per query, and which slow calls overlapped a collector pause of
//       the service or of this client), the same from Python (bench/python/find_neighbors_c1.py,
//       grpcio: a client without a JavaScript collector; skipped without python3-grpcio), c=16 over
//       4 connections, and exact=true (the service's brute force) as its baseline.
// The load average is printed with each part: the machine is shared. The last line is one JSON object.
//
//   npm run bench:vectors [-- --vectors 1000000] [-- --dimension 384] [-- --queries 500]
//                         [-- --seconds 5] [-- --index-only] [-- --service-only] [-- --exact-below 0]
import { fork, spawnSync } from "node:child_process";
import { once } from "node:events";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { PerformanceObserver } from "node:perf_hooks";
import { join } from "node:path";
import pg from "pg";
import usearch from "usearch";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { startEmbeddedPostgres } from "@granary/postgres";
import { DistanceMetric, MetadataService } from "@granary/proto/metadata";
import { Durability, OnlineService } from "@granary/proto/online";
import { ScalarType, type ColumnData } from "@granary/proto/types";
import { createLogger } from "@granary/telemetry";
import { seededRandom, testKeys } from "@granary/testing";
import {
  CONNECTIVITY,
  EXACT_SEARCH_THRESHOLD,
  EXPANSION_ADD,
  EXPANSION_SEARCH_STEPS,
  QUANTIZATION,
  expansionSearchFor,
} from "../services/online/src/ann/index-parameters.js";
import { distance } from "../services/online/src/ann/distance.js";

const flag = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a positive integer, got ${process.argv[at + 1]}`);
  return value;
};
const VECTORS = flag("vectors", 1_000_000);
const DIMENSION = flag("dimension", 384);
const QUERIES = flag("queries", 500);
const SECONDS = flag("seconds", 5);
/** The service's GRANARY_ONLINE_ANN_EXACT_BELOW (0: the graph at any size), to find where an exact scan stops paying. */
const EXACT_BELOW = process.argv.includes("--exact-below") ? Number(process.argv[process.argv.indexOf("--exact-below") + 1]) : undefined;
const K = 10;
const CLUSTERS = 1_000;
/** Queries per brute-force call for the ground truth (its distance matrix is queries × vectors). */
const TRUTH_CHUNK = 100;
/** Rows per WriteRows call and per add to the index in (a). */
const CHUNK = 5_000;
/** Search beams (expansion_search) measured in (a), besides the one the service uses at this size. */
// (From the least beam the service's indexes are made with: usearch never searches with less.)
const EXPANSIONS = [...new Set([64, 96, 128, 192, 256, expansionSearchFor(VECTORS)])]
  .filter((e) => e >= EXPANSION_SEARCH_STEPS[0]!.expansion)
  .sort((a, b) => a - b);
/** Rows written to the group without an index, the write path's baseline in (c). */
const PLAIN_ROWS = Math.min(VECTORS, 100_000);

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const load = () => loadavg().map((x) => round(x, 2));
const percentile = (samples: number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN);
};
const latency = (samples: number[]) => ({ p50_ms: percentile(samples, 0.5), p99_ms: percentile(samples, 0.99), samples: samples.length });

/** `count` vectors: a centre (standard normal per coordinate, seed fixed) plus as much normal noise. */
function clusteredVectors(count: number, dimension: number, seed: number): Float32Array {
  const normal = (random: () => number) => {
    let spare: number | undefined;
    return () => {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      const u = 1 - random();
      const r = Math.sqrt(-2 * Math.log(u));
      const angle = 2 * Math.PI * random();
      spare = r * Math.sin(angle);
      return r * Math.cos(angle);
    };
  };
  const centreNoise = normal(seededRandom(12_345));
  const centres = new Float32Array(CLUSTERS * dimension).map(() => centreNoise());
  const pick = seededRandom(seed);
  const noise = normal(seededRandom(seed ^ 0x9e3779b9));
  const out = new Float32Array(count * dimension);
  for (let i = 0; i < count; i++) {
    const c = Math.floor(pick() * CLUSTERS) * dimension;
    for (let j = 0; j < dimension; j++) out[i * dimension + j] = centres[c + j]! + noise();
  }
  return out;
}

const row = (data: Float32Array, i: number) => data.subarray(i * DIMENSION, (i + 1) * DIMENSION);

/** Share of the true 10 nearest (`truth`, K per query) among the keys found for query q. */
function hits(truth: BigUint64Array, q: number, found: Iterable<bigint>): number {
  const expected = new Set(truth.subarray(q * K, (q + 1) * K));
  let n = 0;
  for (const key of found) if (expected.has(key)) n++;
  return n;
}

/** RSS of a process from /proc, in bytes: anonymous memory (the index) and file pages (LMDB's map). */
function rssOf(pid: number): { anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { anon: kb("RssAnon"), file: kb("RssFile") };
}

/** Total size of the files under `dir` whose name ends with `suffix`. */
function sizeOfFiles(dir: string, suffix: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(suffix)) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** CPU time (user + system) of a process so far, in ms, from /proc (clock ticks of 10 ms): less
 * disturbed than wall time when other work shares the cores. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const perMillion = (bytes: number, count: number) => Math.round(((bytes / count) * 1e6) / 2 ** 20);

// ---------------------------------------------------------------- (a) + (b): the index layer
/** An index made as the service makes it (vector-index.ts): the least beam, widened per search by asking for more results. */
function newIndex() {
  return new usearch.Index({
    dimensions: DIMENSION,
    metric: usearch.MetricKind.Cos,
    quantization: QUANTIZATION as never,
    connectivity: CONNECTIVITY,
    expansion_add: EXPANSION_ADD,
    expansion_search: EXPANSION_SEARCH_STEPS[0]!.expansion,
    multi: false,
  });
}

function indexLayer(data: Float32Array, queries: Float32Array, truth: BigUint64Array, dir: string) {
  const result: Record<string, unknown> = { loadavg_before: load() };
  (globalThis as { gc?: () => void }).gc?.();
  const rssBefore = rssOf(process.pid).anon;
  const index = newIndex();
  const keys = BigUint64Array.from({ length: VECTORS }, (_, i) => BigInt(i));
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let start = 0; start < VECTORS; start += CHUNK) {
    const end = Math.min(VECTORS, start + CHUNK);
    // Threads 0 (usearch's choice, all cores), as the service adds a batch of rows.
    index.add(keys.subarray(start, end), data.subarray(start * DIMENSION, end * DIMENSION), 0);
  }
  const buildS = (performance.now() - started) / 1000;
  const buildCpu = process.cpuUsage(cpuBefore);
  const rss = rssOf(process.pid).anon - rssBefore;
  const file = join(dir, "bench.usearch");
  index.save(file);
  const fileBytes = statSync(file).size;
  Object.assign(result, {
    build_vectors_per_s: Math.round(VECTORS / buildS),
    build_s: round(buildS, 1),
    build_cpu_s_per_1k_vectors: round((buildCpu.user + buildCpu.system) / 1e6 / (VECTORS / 1000)),
    rss_mb_per_million: perMillion(rss, VECTORS),
    file_mb_per_million: perMillion(fileBytes, VECTORS),
    loadavg_after_build: load(),
  });
  // Each beam as the service searches: the beam asked for as results, the first 2k kept as
  // candidates and re-ranked by their exact distance (the service reads it from the rows). Raw
  // recall is the index's own first k; re-ranked is what FindNeighbors returns.
  const searches: Record<string, unknown>[] = [];
  for (const expansion of EXPANSIONS) {
    const beam = Math.max(expansion, 2 * K);
    for (let q = 0; q < Math.min(QUERIES, 50); q++) index.search(row(queries, q), beam, 1);
    const samples: number[] = [];
    let raw = 0;
    let reranked = 0;
    let cpuMicros = 0;
    for (let q = 0; q < QUERIES; q++) {
      const query = row(queries, q);
      const cpu = process.cpuUsage();
      const t = performance.now();
      const found = (index.search(query, beam, 1).keys as BigUint64Array).subarray(0, 2 * K);
      const nearest = Array.from(found, (key) => ({ key, d: distance(DistanceMetric.COSINE, query, row(data, Number(key))) }))
        .sort((a, b) => a.d - b.d)
        .slice(0, K);
      samples.push(performance.now() - t);
      const used = process.cpuUsage(cpu);
      cpuMicros += used.user + used.system;
      raw += hits(truth, q, found.subarray(0, K));
      reranked += hits(
        truth,
        q,
        nearest.map((n) => n.key),
      );
    }
    searches.push({
      expansion_search: expansion,
      service_uses: expansion === expansionSearchFor(VECTORS),
      recall_at_10: round(reranked / (QUERIES * K), 4),
      index_recall_at_10: round(raw / (QUERIES * K), 4),
      ...latency(samples),
      cpu_ms_per_query: round(cpuMicros / 1000 / QUERIES),
      loadavg: load(),
    });
  }
  result.search_c1 = searches;
  // (b) Brute force, one query at a time on one thread, as a request would run it.
  const exact: number[] = [];
  for (let q = 0; q < Math.min(QUERIES, 50); q++) {
    const t = performance.now();
    usearch.exactSearch(data, row(queries, q), DIMENSION, K, usearch.MetricKind.Cos, 1);
    exact.push(performance.now() - t);
  }
  result.brute_force_c1 = { ...latency(exact), loadavg: load() };
  rmSync(file, { force: true });
  return result;
}

// ---------------------------------------------------------------- (c): child with metadata + online
async function serve(): Promise<void> {
  const { GRANARY_BOOTSTRAP_ADMIN_KEY, GRANARY_SERVICE_KEY } = process.env;
  if (!GRANARY_BOOTSTRAP_ADMIN_KEY || !GRANARY_SERVICE_KEY) throw new Error("bench:vectors --serve expects its keys from its parent");
  const keyEnv = { GRANARY_BOOTSTRAP_ADMIN_KEY, GRANARY_SERVICE_KEY };
  const dir = mkdtempSync(join(tmpdir(), "granary-bench-vectors-"));
  chmodSync(dir, 0o755);
  const logger = createLogger({ level: "warn", service: "bench" });
  let databaseUrl = process.env.DATABASE_URL;
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  let dropDb: (() => Promise<void>) | undefined;
  if (databaseUrl) {
    const name = `bench_vectors_${process.pid}`;
    const serverUrl = databaseUrl;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    dropDb = async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  } else {
    embedded = await startEmbeddedPostgres({ dataDir: join(dir, "pg") });
    databaseUrl = embedded.url;
  }
  const metadata = await startMetadataService(
    loadMetadataConfig({ ...keyEnv, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir, DATABASE_URL: databaseUrl }),
    logger,
  );
  const online = await startOnlineService(
    loadOnlineConfig({
      ...keyEnv,
      GRANARY_ONLINE_PORT: "0",
      GRANARY_DATA_DIR: dir,
      GRANARY_METADATA_ADDRESS: metadata.address,
      GRANARY_MAX_MESSAGE_BYTES: String(64 << 20),
      ...(EXACT_BELOW === undefined ? {} : { GRANARY_ONLINE_ANN_EXACT_BELOW: String(EXACT_BELOW) }),
    }),
    logger,
  );
  // Garbage-collection pauses of this process (the service), asked for by the parent after a run.
  const pauses = gcPauses();
  const stopped = new Promise<void>((resolve) =>
    process.on("message", (message: unknown) => {
      if (message === "stop") resolve();
      else if (typeof message === "object" && message !== null && "gcSince" in message) process.send?.({ gc: pauses.since(message.gcSince as number) });
    }),
  );
  process.send?.({ metadata: metadata.address, online: online.address, dir });
  await stopped;
  await online.stop();
  await metadata.stop();
  await embedded?.stop();
  await dropDb?.();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

/** Records this process's garbage-collection pauses (wall-clock start in ms since the epoch, duration in ms). */
function gcPauses(): { since(from: number): [number, number][] } {
  const seen: [number, number][] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) seen.push([performance.timeOrigin + entry.startTime, entry.duration]);
    if (seen.length > 100_000) seen.splice(0, 50_000);
  }).observe({ entryTypes: ["gc"] });
  return { since: (from) => seen.filter(([start]) => start >= from) };
}

/**
 * Which calls were slow and why, as far as the collectors tell: calls over `slowMs`, and how many
 * of them overlapped a pause of the server's or the client's collector.
 */
function tailOf(calls: [number, number][], server: [number, number][], client: [number, number][], slowMs: number) {
  const overlaps = (start: number, ms: number, pauses: [number, number][]) => pauses.some(([p, d]) => p < start + ms && p + d > start);
  const slow = calls.filter(([, ms]) => ms > slowMs);
  const summary = (pauses: [number, number][]) => ({
    pauses: pauses.length,
    total_ms: round(
      pauses.reduce((sum, [, d]) => sum + d, 0),
      1,
    ),
    max_ms: round(Math.max(0, ...pauses.map(([, d]) => d)), 1),
  });
  return {
    [`calls_over_${slowMs}_ms`]: slow.length,
    of_which_during_server_gc: slow.filter(([t, ms]) => overlaps(t, ms, server)).length,
    of_which_during_client_gc: slow.filter(([t, ms]) => overlaps(t, ms, client)).length,
    server_gc: summary(server),
    client_gc: summary(client),
  };
}

// ---------------------------------------------------------------- (c): parent, the client
const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;

function rowsOf(data: Float32Array, start: number, end: number, micros: bigint) {
  const ids = Array.from({ length: end - start }, (_, i) => BigInt(start + i));
  const embedding: ColumnData = {
    values: {
      case: "lists",
      value: {
        offsets: Array.from({ length: ids.length + 1 }, (_, i) => i * DIMENSION),
        items: { values: { case: "floats", value: { values: Array.from(data.subarray(start * DIMENSION, end * DIMENSION)) } } },
      },
    },
  } as ColumnData;
  return {
    rowCount: ids.length,
    columns: [
      { name: "id", data: i64(ids) },
      { name: "ts", data: { values: { case: "timestamps", value: { values: ids.map(() => micros) } } } as ColumnData },
      { name: "embedding", data: embedding },
    ],
  };
}

async function serviceRun(data: Float32Array, queries: Float32Array, truth: BigUint64Array) {
  const keys = testKeys();
  const child = fork(process.argv[1] ?? "", ["--serve", ...process.argv.slice(2)], { execArgv: process.execArgv, env: { ...process.env, ...keys.env } });
  const [addresses] = (await once(child, "message")) as [{ metadata: string; online: string; dir: string }];
  const md = createServiceClient(MetadataService, addresses.metadata, { apiKey: keys.adminKey });
  const clients = Array.from({ length: 4 }, () => createServiceClient(OnlineService, addresses.online, { maxMessageBytes: 64 << 20, apiKey: keys.adminKey }));
  const on = clients[0]!;
  const result: Record<string, unknown> = { loadavg_before: load() };
  try {
    await md.createProject({ name: "bench" });
    const columns = [
      { name: "id", type: { scalar: ScalarType.INT64 } },
      { name: "ts", type: { scalar: ScalarType.TIMESTAMP } },
      { name: "embedding", type: { scalar: ScalarType.FLOAT, list: true, dimension: DIMENSION } },
    ];
    const group = (name: string, indexed: boolean) =>
      md.createFeatureGroup({
        featureGroup: {
          project: "bench",
          name,
          version: 1,
          columns,
          primaryKey: ["id"],
          eventTime: "ts",
          onlineEnabled: true,
          embeddingIndexes: indexed ? [{ column: "embedding", metric: DistanceMetric.COSINE }] : [],
        },
      });
    await group("items", true);
    await group("plain", false);
    const neighbours = (query: Float32Array, k: number, exact = false, client = on) =>
      client.findNeighbors({
        project: "bench",
        target: { case: "featureGroup", value: { name: "items", version: 1 } },
        column: "embedding",
        query: Array.from(query),
        k,
        exact,
      });
    // The index exists before any row: the first search answers from an empty group.
    await neighbours(row(queries, 0), K);
    const micros = BigInt(Date.now()) * 1000n;
    const write = async (name: string, count: number) => {
      for (let start = 0; start < count; start += CHUNK) {
        await on.writeRows({
          project: "bench",
          featureGroup: { name, version: 1 },
          durability: Durability.COMMITTED,
          rows: { case: "columns", value: rowsOf(data, start, Math.min(count, start + CHUNK), micros) },
        });
      }
    };
    let started = performance.now();
    await write("plain", PLAIN_ROWS);
    result.write_rows_per_s_without_index = Math.round(PLAIN_ROWS / ((performance.now() - started) / 1000));
    const rssBefore = rssOf(child.pid!);
    const cpuBefore = cpuMsOf(child.pid!);
    started = performance.now();
    await write("items", VECTORS);
    const writtenS = (performance.now() - started) / 1000;
    // Indexed: the last row written is its own nearest neighbour.
    const last = BigInt(VECTORS - 1);
    const idOf = (response: Awaited<ReturnType<typeof neighbours>>, i: number) => {
      const column = response.keys.find((c) => c.name === "id")?.data?.values;
      return column?.case === "int64s" ? column.value.values[i] : undefined;
    };
    const indexedBy = performance.now() + 600_000;
    while (idOf(await neighbours(row(data, VECTORS - 1), 1), 0) !== last) {
      if (performance.now() > indexedBy) throw new Error("the last row written was not found by FindNeighbors within 10 minutes of its write");
      await new Promise((r) => setTimeout(r, 100));
    }
    const indexedS = (performance.now() - started) / 1000;
    const rssAfter = rssOf(child.pid!);
    const loadCpuMs = cpuMsOf(child.pid!) - cpuBefore;
    Object.assign(result, {
      write_rows_per_s_with_index: Math.round(VECTORS / writtenS),
      indexed_vectors_per_s: Math.round(VECTORS / indexedS),
      service_cpu_s_per_1k_vectors: round(loadCpuMs / VECTORS),
      rss_anon_mb_per_million: perMillion(rssAfter.anon - rssBefore.anon, VECTORS),
      rss_file_mb_per_million: perMillion(rssAfter.file - rssBefore.file, VECTORS),
      loadavg_after_load: load(),
    });
    // c=1: every query once, recall against brute force.
    for (let q = 0; q < Math.min(QUERIES, 50); q++) await neighbours(row(queries, q), K);
    const samples: number[] = [];
    const calls: [number, number][] = [];
    let found = 0;
    const serviceCpu = cpuMsOf(child.pid!);
    const clientPauses = gcPauses();
    const c1Start = performance.timeOrigin + performance.now();
    for (let q = 0; q < QUERIES; q++) {
      const t = performance.now();
      const response = await neighbours(row(queries, q), K);
      samples.push(performance.now() - t);
      calls.push([performance.timeOrigin + t, samples[samples.length - 1]!]);
      found += hits(
        truth,
        q,
        Array.from({ length: response.count }, (_, i) => BigInt(idOf(response, i) ?? -1n)),
      );
    }
    const serviceCpuMs = cpuMsOf(child.pid!) - serviceCpu;
    child.send({ gcSince: c1Start });
    const [{ gc: serverPauses }] = (await once(child, "message")) as [{ gc: [number, number][] }];
    result.find_neighbors_c1 = {
      recall_at_10: round(found / (QUERIES * K), 4),
      ...latency(samples),
      p90_ms: percentile(samples, 0.9),
      service_cpu_ms_per_query: round(serviceCpuMs / QUERIES),
      // The tail: two Node processes (client and service) taking turns on the machine's cores.
      tail: tailOf(calls, serverPauses, clientPauses.since(c1Start), 5),
      loadavg: load(),
    };
    // c=1 again from Python (grpcio: no JavaScript collector on the client side), when it is installed.
    result.find_neighbors_c1_python = pythonRun(addresses.online, keys.adminKey, queries, truth, child.pid!);
    // c=16 over 4 connections for SECONDS.
    const c16: number[] = [];
    const until = performance.now() + SECONDS * 1000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async (_, worker) => {
        while (performance.now() < until) {
          const t = performance.now();
          await neighbours(row(queries, next++ % QUERIES), K, false, clients[worker % clients.length]);
          c16.push(performance.now() - t);
        }
      }),
    );
    result.find_neighbors_c16 = { ...latency(c16), requests_per_s: Math.round(c16.length / SECONDS), loadavg: load() };
    // The service's brute force (exact=true) on the same queries: the baseline.
    const exact: number[] = [];
    let exactFound = 0;
    const exactUntil = performance.now() + 30_000;
    const exactCpu = cpuMsOf(child.pid!);
    for (let q = 0; q < Math.min(QUERIES, 50) && performance.now() < exactUntil; q++) {
      const t = performance.now();
      const response = await neighbours(row(queries, q), K, true);
      exact.push(performance.now() - t);
      exactFound += hits(
        truth,
        q,
        Array.from({ length: response.count }, (_, i) => BigInt(idOf(response, i) ?? -1n)),
      );
    }
    result.exact_c1 = {
      recall_at_10: round(exactFound / (exact.length * K), 4),
      ...latency(exact),
      service_cpu_ms_per_query: round((cpuMsOf(child.pid!) - exactCpu) / exact.length),
      loadavg: load(),
    };
    // The primary saves changed indexes on an interval: wait for the file.
    const deadline = performance.now() + 90_000;
    while (sizeOfFiles(addresses.dir, ".usearch") === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    const fileBytes = sizeOfFiles(addresses.dir, ".usearch");
    result.index_file_mb_per_million = fileBytes > 0 ? perMillion(fileBytes, VECTORS) : null;
    return result;
  } finally {
    child.send("stop");
    await once(child, "exit");
  }
}

/**
 * bench/python/find_neighbors_c1.py against the service: latency per call as a Python inference
 * client sees it, and the service's CPU per call meanwhile. Null (with why) without python3 and grpcio.
 */
function pythonRun(address: string, apiKey: string, queries: Float32Array, truth: BigUint64Array, servicePid: number) {
  // Debian's python3 (where apt installs grpcio), as the Python client's tests use; else the one on PATH.
  const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const probe = spawnSync(python, ["-c", "import grpc, google.protobuf"], { encoding: "utf8" });
  if (probe.status !== 0) return { skipped: "python3 with grpcio and protobuf is not installed (apt-get install python3-grpcio python3-protobuf)" };
  const dir = mkdtempSync(join(tmpdir(), "granary-bench-vectors-py-"));
  try {
    const file = join(dir, "queries.f32");
    writeFileSync(file, Buffer.from(queries.buffer, queries.byteOffset, queries.byteLength));
    const script = join(import.meta.dirname, "python", "find_neighbors_c1.py");
    const cpu = cpuMsOf(servicePid);
    const run = spawnSync(python, [script, address, "bench", "items", "embedding", String(DIMENSION), String(K), file], {
      encoding: "utf8",
      env: { ...process.env, GRANARY_API_KEY: apiKey },
      maxBuffer: 256 << 20,
    });
    const serviceCpuMs = cpuMsOf(servicePid) - cpu;
    if (run.status !== 0) throw new Error(`bench/python/find_neighbors_c1.py failed:\n${run.stderr}`);
    const out = JSON.parse(run.stdout) as { latencies_ms: number[]; ids: number[][] };
    let found = 0;
    out.ids.forEach((ids, q) => (found += hits(truth, q, ids.map(BigInt))));
    return {
      recall_at_10: round(found / (QUERIES * K), 4),
      ...latency(out.latencies_ms),
      p90_ms: percentile(out.latencies_ms, 0.9),
      calls_over_5_ms: out.latencies_ms.filter((ms) => ms > 5).length,
      service_cpu_ms_per_query: round(serviceCpuMs / (out.latencies_ms.length + Math.min(50, QUERIES))),
      loadavg: load(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  const summary: Record<string, unknown> = {
    bench: "vectors",
    vectors: VECTORS,
    dimension: DIMENSION,
    queries: QUERIES,
    k: K,
    metric: "cosine",
    parameters: {
      connectivity: CONNECTIVITY,
      expansion_add: EXPANSION_ADD,
      expansion_search: expansionSearchFor(VECTORS),
      expansion_search_steps: EXPANSION_SEARCH_STEPS.map((step) => ({ up_to: Number.isFinite(step.upTo) ? step.upTo : null, expansion: step.expansion })),
      quantization: QUANTIZATION,
      exact_search_threshold: EXACT_BELOW ?? EXACT_SEARCH_THRESHOLD,
    },
    loadavg: load(),
  };
  const dir = mkdtempSync(join(tmpdir(), "granary-bench-vectors-"));
  try {
    let t = performance.now();
    const data = clusteredVectors(VECTORS, DIMENSION, 42);
    const queries = clusteredVectors(QUERIES, DIMENSION, 7);
    summary.generate_s = round((performance.now() - t) / 1000, 1);
    t = performance.now();
    // In chunks of queries: usearch's brute force holds a distance matrix (queries × vectors).
    const truth = new BigUint64Array(QUERIES * K);
    for (let from = 0; from < QUERIES; from += TRUTH_CHUNK) {
      // A copy, not a view: exactSearch reads a typed array from the start of its buffer.
      const chunk = queries.slice(from * DIMENSION, Math.min(QUERIES, from + TRUTH_CHUNK) * DIMENSION);
      truth.set((usearch.exactSearch(data, chunk, DIMENSION, K, usearch.MetricKind.Cos, 0) as { keys: BigUint64Array }).keys, from * K);
    }
    summary.ground_truth_s = round((performance.now() - t) / 1000, 1);
    if (!process.argv.includes("--service-only")) {
      summary.index = indexLayer(data, queries, truth, dir);
      console.log(JSON.stringify({ index: summary.index }));
    }
    if (!process.argv.includes("--index-only")) summary.service = await serviceRun(data, queries, truth);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  summary.loadavg_end = load();
  console.log(JSON.stringify(summary));
}

if (process.argv.includes("--serve")) await serve();
else await main();
