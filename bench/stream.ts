// Streaming ingestion through the write log (issue 16). Metadata runs here; two online replicas
// following the log, the offline service consuming it, and one online service without it (the
// direct baseline), each run in a child process. A 20-feature group (int64 key, 20 doubles, event time). In the same run:
//   (a) replica apply: producers append batches of 1,000 rows to the log at full speed (16 in
//       flight); rows/s until each replica has applied the last one, and until offline history
//       has committed every row (its commits' rows_inserted);
//   (b) freshness: batches of 100 rows published at 10,000 rows/s; each batch's time from publish
//       to visible in a lookup on every replica (GetFeatureVectors with min_log_sequence, which
//       answers as soon as the replica has applied the batch); p50 / p99;
//   (c) direct: WriteRows of the same batches into the replica without a log (16 in flight).
// Needs NATS with JetStream (GRANARY_NATS_URL, default nats://127.0.0.1:4222) and a PostgreSQL
// server (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres) where it creates and
// drops its own database. The last line is one JSON object.
//
//   npm run bench:stream [-- --quick]
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOfflineConfig, startOfflineService } from "@granary/offline";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { MetadataService } from "@granary/proto/metadata";
import { OnlineService } from "@granary/proto/online";
import { ColumnarRowsSchema, ScalarType, type ColumnarRows, type ColumnData } from "@granary/proto/types";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, testKeys, waitForServing } from "@granary/testing";
import { JetStreamWriteLog } from "@granary/write-log";

const QUICK = process.argv.includes("--quick");
process.env["DATABASE_URL"] ||= "postgres://postgres@127.0.0.1:5432/postgres";
const NATS_URL = process.env["GRANARY_NATS_URL"] ?? "nats://127.0.0.1:4222";
const FEATURES = 20;
const BATCH = 1000;
const THROUGHPUT_S = QUICK ? 4 : 12;
const FRESHNESS_S = QUICK ? 4 : 10;
const FRESH_RATE = 10_000;
const FRESH_BATCH = 100;
const P = "bench";

// ---------------------------------------------------------------- child: one online service
if (process.argv.includes("--serve")) {
  const env = JSON.parse(process.env["BENCH_ONLINE_ENV"]!) as Record<string, string>;
  const logger = createLogger({ level: "warn", service: "bench" });
  const service = env["BENCH_OFFLINE"] ? await startOfflineService(loadOfflineConfig(env), logger) : await startOnlineService(loadOnlineConfig(env), logger);
  process.send!({ address: service.address });
  process.on("message", () => {
    void service.stop().then(() => process.exit(0));
  });
} else {
  await main();
}

function startChild(env: Record<string, string>): Promise<{ child: ChildProcess; address: string }> {
  const child = fork(new URL(import.meta.url).pathname, ["--serve"], {
    env: { ...process.env, BENCH_ONLINE_ENV: JSON.stringify(env) },
    execArgv: ["--import", "tsx"],
  });
  return new Promise((resolve, reject) => {
    child.once("message", (m: { address: string }) => resolve({ child, address: m.address }));
    child.once("exit", (code) => reject(new Error(`online child exited with ${code}`)));
  });
}

function batchOf(firstKey: bigint, n: number, micros: bigint): ColumnarRows {
  const keys = Array.from({ length: n }, (_, i) => firstKey + BigInt(i));
  const doubles = (f: number): ColumnData => ({ values: { case: "doubles", value: { values: keys.map((k) => Number(k % 1000n) + f) } } }) as ColumnData;
  return create(ColumnarRowsSchema, {
    rowCount: n,
    columns: [
      { name: "id", data: { values: { case: "int64s", value: { values: keys } } } },
      ...Array.from({ length: FEATURES }, (_, f) => ({ name: `f${f}`, data: doubles(f) })),
      { name: "event_time", data: { values: { case: "timestamps", value: { values: keys.map(() => micros) } } } },
    ],
  } as never);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const load = [loadavg()[0]!];
  const keys = testKeys();
  const id = randomBytes(4).toString("hex");
  const stream = `BENCH_STREAM_${id}`;
  const prefix = `bench-stream-${id}`;
  const dir = mkdtempSync(join(tmpdir(), "granary-bench-stream-"));
  const logger = createLogger({ level: "warn", service: "bench" });
  const db = await createTestDatabase("bench_stream");
  const metadata = await startMetadataService(
    loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir, DATABASE_URL: db.url }),
    logger,
  );
  const md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "events",
      version: 1,
      columns: [
        { name: "id", type: { scalar: ScalarType.INT64 } },
        ...Array.from({ length: FEATURES }, (_, f) => ({ name: `f${f}`, type: { scalar: ScalarType.DOUBLE } })),
        { name: "event_time", type: { scalar: ScalarType.TIMESTAMP } },
      ],
      primaryKey: ["id"],
      eventTime: "event_time",
      onlineEnabled: true,
    },
  });
  await md.createFeatureView({ featureView: { project: P, name: "events", version: 1, query: { featureGroup: { name: "events", version: 1 } } } });

  const common = { ...keys.env, GRANARY_ONLINE_PORT: "0", GRANARY_DATA_DIR: dir, GRANARY_METADATA_ADDRESS: metadata.address, GRANARY_LOG_LEVEL: "warn" };
  const logged = (name: string) => ({
    ...common,
    GRANARY_ONLINE_LMDB_PATH: join(dir, `online-${name}`),
    GRANARY_ONLINE_REPLICA: name,
    GRANARY_NATS_URL: NATS_URL,
    GRANARY_NATS_STREAM: stream,
    GRANARY_NATS_SUBJECT_PREFIX: prefix,
    GRANARY_ONLINE_READ_WAIT_MS: "5000",
  });
  const children = await Promise.all([
    startChild(logged("a")),
    startChild(logged("b")),
    startChild({ ...common, GRANARY_ONLINE_LMDB_PATH: join(dir, "online-direct") }),
  ]);
  const offlineChild = await startChild({
    ...keys.env,
    BENCH_OFFLINE: "1",
    GRANARY_OFFLINE_PORT: "0",
    GRANARY_DATA_DIR: join(dir, "offline"),
    GRANARY_METADATA_ADDRESS: metadata.address,
    GRANARY_ONLINE_ADDRESS: children[0].address,
    GRANARY_NATS_URL: NATS_URL,
    GRANARY_NATS_STREAM: stream,
    GRANARY_NATS_SUBJECT_PREFIX: prefix,
    GRANARY_LOG_LEVEL: "warn",
  });
  children.push(offlineChild);
  await waitForServing(offlineChild.address, 60_000);
  /** Rows offline history holds from the log: the sum of the group's commits' rows_inserted. */
  const offlineRows = async () => {
    let total = 0n;
    let pageToken = "";
    do {
      const page = await md.listCommits({ project: P, featureGroup: { name: "events", version: 1 }, pageSize: 1000, pageToken });
      for (const c of page.commits) total += c.rowsInserted;
      pageToken = page.nextPageToken;
    } while (pageToken);
    return Number(total);
  };
  const client = (c: { address: string }) => createServiceClient(OnlineService, c.address, { apiKey: keys.adminKey });
  const a = client(children[0]);
  const b = client(children[1]);
  const direct = client(children[2]);
  await Promise.all(children.map((c) => waitForServing(c.address, 30_000)));
  const log = await JetStreamWriteLog.connect({
    url: NATS_URL,
    stream,
    deadStream: `${stream}_DEAD`,
    subjectPrefix: prefix,
    deadSubjectPrefix: `${prefix}-dead`,
  });

  try {
    // (a) replica apply at full speed
    let next = 0n;
    let appended = 0;
    let last = 0n;
    const started = performance.now();
    const until = started + THROUGHPUT_S * 1000;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (performance.now() < until) {
          const rows = batchOf(next, BATCH, BigInt(Date.now()) * 1000n);
          next += BigInt(BATCH);
          const { sequence } = await log.append({ project: P, group: "events", version: 1, kind: "upsert", origin: "external", rows });
          if (sequence > last) last = sequence;
          appended += BATCH;
        }
      }),
    );
    const publishS = (performance.now() - started) / 1000;
    const appliedAt = async (client: typeof a) => {
      for (;;) {
        const s = await client.getReplicaStatus({});
        if (s.appliedSequence >= last) return (performance.now() - started) / 1000;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const committedAt = async () => {
      while ((await offlineRows()) < appended) await new Promise((r) => setTimeout(r, 100));
      return (performance.now() - started) / 1000;
    };
    const [aS, bS, offS] = await Promise.all([appliedAt(a), appliedAt(b), committedAt()]);
    const replicaRowsPerS = Math.round(appended / Math.max(aS, bS));
    load.push(loadavg()[0]!);

    // (b) freshness at a fixed rate
    const freshness: number[] = [];
    const interval = (FRESH_BATCH / FRESH_RATE) * 1000;
    const pending: Promise<void>[] = [];
    const freshStart = performance.now();
    for (let i = 0; performance.now() - freshStart < FRESHNESS_S * 1000; i++) {
      const due = freshStart + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const key = 10_000_000n + BigInt(i * FRESH_BATCH);
      const t0 = performance.now();
      pending.push(
        (async () => {
          const { sequence } = await log.append({
            project: P,
            group: "events",
            version: 1,
            kind: "upsert",
            origin: "external",
            rows: batchOf(key, FRESH_BATCH, BigInt(Date.now()) * 1000n),
          });
          const lookup = (client: typeof a) =>
            client.getFeatureVectors({
              project: P,
              featureView: { name: "events", version: 1 },
              entities: { rowCount: 1, servingKeys: [{ name: "id", data: { values: { case: "int64s", value: { values: [key] } } } as ColumnData }] },
              options: { minLogSequence: sequence },
            });
          await Promise.all([lookup(a), lookup(b)]);
          freshness.push(performance.now() - t0);
        })(),
      );
    }
    await Promise.all(pending);
    freshness.sort((x, y) => x - y);
    load.push(loadavg()[0]!);

    // (c) direct WriteRows into one replica without the log
    let directRows = 0;
    let directNext = 20_000_000n;
    const dStart = performance.now();
    const dUntil = dStart + THROUGHPUT_S * 1000;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (performance.now() < dUntil) {
          const rows = batchOf(directNext, BATCH, BigInt(Date.now()) * 1000n);
          directNext += BigInt(BATCH);
          await direct.writeRows({ project: P, featureGroup: { name: "events", version: 1 }, rows: { case: "columns", value: rows } });
          directRows += BATCH;
        }
      }),
    );
    const directRowsPerS = Math.round(directRows / ((performance.now() - dStart) / 1000));
    load.push(loadavg()[0]!);

    const result = {
      bench: "stream",
      quick: QUICK,
      replica_rows_per_s: replicaRowsPerS,
      replica_a_caught_up_s: Number(aS.toFixed(2)),
      replica_b_caught_up_s: Number(bS.toFixed(2)),
      publish_rows_per_s: Math.round(appended / publishS),
      offline_rows_per_s: Math.round(appended / offS),
      offline_caught_up_s: Number(offS.toFixed(2)),
      freshness_p50_ms: Number(percentile(freshness, 50).toFixed(1)),
      freshness_p99_ms: Number(percentile(freshness, 99).toFixed(1)),
      freshness_batches: freshness.length,
      direct_rows_per_s: directRowsPerS,
      replica_vs_direct: Number((replicaRowsPerS / directRowsPerS).toFixed(2)),
      load_average: load.map((l) => Number(l.toFixed(2))),
    };
    console.log(JSON.stringify(result));
  } finally {
    await log.close();
    for (const c of children) {
      c.child.send("stop");
      await once(c.child, "exit");
    }
    await metadata.stop();
    await db.drop();
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    for (const s of [stream, `${stream}_DEAD`]) await jsm.streams.delete(s).catch(() => false);
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
