// Offline service: point-in-time training data streamed to a @grpc/grpc-js client that decodes
// every batch with apache-arrow, against the floor (DuckDB running the same SQL over the same files,
// every column produced, no Arrow, no gRPC), against the reference (a hand-written DuckDB ASOF LEFT
// JOIN over the same files: what the SQL shape could cost) and against PostgreSQL LATERAL joins on a
// subset of the spine; the service's peak RSS; Insert throughput of 20-column rows into an
// online-enabled group.
// Uses DATABASE_URL's server (a fresh database on it) when set, else an embedded PostgreSQL.
//
//   npm run bench:offline             # spine and three feature groups of 10,000,000 rows
//   npm run bench:offline -- --quick  # 1,000,000 rows, under two minutes
//
// The feature groups are bulk-loaded: Parquet written with DuckDB in the service's layout and the
// commits recorded in the metadata service (Insert is measured separately).
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import duckdb from "@duckdb/node-bindings";
import { DuckDBInstance } from "@duckdb/node-api";
import * as arrow from "apache-arrow";
import pg from "pg";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { arrowPayloads, pointInTimeSql } from "@granary/offline";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { findFreePort, startEmbeddedPostgres } from "@granary/postgres";
import { CommitKind, FilterOperator, MetadataService, SelectionMode, type Commit, type FeatureGroup } from "@granary/proto/metadata";
import { GetTrainingDataRequestSchema, GetTrainingDataResponseSchema, OfflineService, ReadRequestSchema, ReadResponseSchema } from "@granary/proto/offline";
import { ScalarType, ValueStatus } from "@granary/proto/types";
import { OnlineService } from "@granary/proto/online";
import { TEST_NATS_URL, isolatedLog, probeNats } from "@granary/write-log/testing/nats";
import { createLogger } from "@granary/telemetry";
import { startServiceProcess, testKeys, waitFor, waitForServing } from "@granary/testing";

const quick = process.argv.includes("--quick");
const SPINE = quick ? 1_000_000 : 10_000_000;
const ROWS = quick ? 1_000_000 : 10_000_000;
const KEYS = ROWS / 10;
const INGEST = quick ? 300_000 : 2_000_000;
const PG_SPINE = quick ? 20_000 : 100_000;
const THREADS = 2;
const MEMORY = "512MB";
const P = "bench";
const GROUPS = ["g1", "g2", "g3"] as const;
const log = (msg: string) => process.stderr.write(`[bench:offline] ${msg}\n`);
const started = performance.now();

const keys = testKeys();
const dir = mkdtempSync(join(tmpdir(), "granary-bench-offline-"));
chmodSync(dir, 0o755);
const dataRoot = join(dir, "offline");
const logger = createLogger({ level: "warn", service: "bench" });

// PostgreSQL: a fresh database on DATABASE_URL's server, or an embedded server.
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: join(dir, "pg") });
const serverUrl = process.env.DATABASE_URL ?? embedded!.url;
const dbName = `bench_offline_${Date.now().toString(36)}`;
await withPg(serverUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
const dbUrl = Object.assign(new URL(serverUrl), { pathname: `/${dbName}` }).toString();

const metadata = await startMetadataService(
  loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: join(dir, "md"), DATABASE_URL: dbUrl }),
  logger,
);
const online = await startOnlineService(
  loadOnlineConfig({ ...keys.env, GRANARY_ONLINE_PORT: "0", GRANARY_DATA_DIR: join(dir, "on"), GRANARY_METADATA_ADDRESS: metadata.address }),
  logger,
);
const md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
// The bulk load records commits itself, as only the offline service may: with the service key.
const mdService = createServiceClient(MetadataService, metadata.address, { apiKey: keys.serviceKey });
let offlineProc: ReturnType<typeof startServiceProcess> | undefined;
// The write-log measurement's services and stream.
let offlineLogProc: ReturnType<typeof startServiceProcess> | undefined;
let onlineLog: Awaited<ReturnType<typeof startOnlineService>> | undefined;
let writeLog: ReturnType<typeof isolatedLog> | undefined;

try {
  await md.createProject({ name: P });
  const dbl = (n: string) => ({ name: n, type: { scalar: ScalarType.DOUBLE } });
  const i64 = (n: string) => ({ name: n, type: { scalar: ScalarType.INT64 } });
  const ts = (n: string) => ({ name: n, type: { scalar: ScalarType.TIMESTAMP } });
  const groups: FeatureGroup[] = [];
  groups.push(
    (
      await md.createFeatureGroup({
        featureGroup: {
          project: P,
          name: "labels",
          version: 1,
          columns: [i64("id"), ts("et"), i64("k1"), i64("k2"), i64("k3"), { name: "label", type: { scalar: ScalarType.BOOL } }],
          primaryKey: ["id"],
          eventTime: "et",
        },
      })
    ).featureGroup!,
  );
  for (const g of GROUPS) {
    groups.push(
      (
        await md.createFeatureGroup({
          featureGroup: {
            project: P,
            name: g,
            version: 1,
            columns: [i64("k"), ts("et"), ...Array.from({ length: 10 }, (_, i) => dbl(`${g}_f${i}`))],
            primaryKey: ["k"],
            eventTime: "et",
          },
        })
      ).featureGroup!,
    );
  }
  for (const [name, onlineEnabled] of [
    ["ingest", true],
    ["ingest_offline", false],
  ] as const) {
    await md.createFeatureGroup({
      featureGroup: {
        project: P,
        name,
        version: 1,
        onlineEnabled,
        columns: [i64("id"), ts("et"), ...Array.from({ length: 18 }, (_, i) => dbl(`c${i}`))],
        primaryKey: ["id"],
        eventTime: "et",
      },
    });
  }
  const view = (
    await md.createFeatureView({
      featureView: {
        project: P,
        name: "pit",
        version: 1,
        labels: ["label"],
        query: {
          featureGroup: { name: "labels", version: 1 },
          selection: { mode: SelectionMode.INCLUDE, columns: ["label"] },
          joins: GROUPS.map((g, i) => ({
            query: { featureGroup: { name: g, version: 1 }, selection: { mode: SelectionMode.EXCEPT, columns: ["et"] } },
            leftOn: [`k${i + 1}`],
            rightOn: ["k"],
          })),
        },
      },
    })
  ).featureView!;

  // Bulk load: Parquet in the service's layout (with the commit sequence column), commits recorded.
  log(`writing ${SPINE.toLocaleString()} spine rows and 3 × ${ROWS.toLocaleString()} feature rows`);
  const gen = await DuckDBInstance.create(":memory:", { threads: String(THREADS) });
  const genc = await gen.connect();
  const YEAR_US = 365 * 86_400_000_000;
  const T0 = Date.UTC(2024, 0, 1) * 1000;
  const commits: Commit[] = [];
  const writeGroup = async (name: string, select: string, rows: number) => {
    const rel = `${P}/${name}/v1/${"1".padStart(20, "0")}/part-00000.parquet`;
    mkdirSync(join(dataRoot, rel, ".."), { recursive: true });
    await genc.run(`COPY (SELECT ${select}, 1::BIGINT AS _seq FROM range(${rows}) t(i)) TO '${join(dataRoot, rel)}' (FORMAT parquet)`);
    const c = (
      await mdService.createCommit({
        commit: {
          project: P,
          featureGroup: { name, version: 1 },
          kind: CommitKind.INSERT,
          rowsInserted: BigInt(rows),
          files: [rel],
          minEventTime: timestampFromMs(T0 / 1000),
          maxEventTime: timestampFromMs((T0 + YEAR_US) / 1000),
        },
      })
    ).commit!;
    commits.push(c);
  };
  const randomTime = `make_timestamp(${T0}::BIGINT + (random() * ${YEAR_US})::BIGINT)`;
  for (const g of GROUPS) {
    // Each key has ten rows; (key, time) pairs are unique (time = key-specific step), as inserts leave them.
    const features = Array.from({ length: 10 }, (_, f) => `random() AS ${g}_f${f}`).join(", ");
    await writeGroup(
      g,
      `(i % ${KEYS})::BIGINT AS k, make_timestamp(${T0}::BIGINT + (i // ${KEYS}) * ${YEAR_US / 10} + (hash(i, '${g}') % ${YEAR_US / 10})::BIGINT) AS et, ${features}`,
      ROWS,
    );
  }
  await writeGroup(
    "labels",
    `i::BIGINT AS id, ${randomTime} AS et, (random() * ${KEYS})::BIGINT AS k1, (random() * ${KEYS})::BIGINT AS k2, (random() * ${KEYS})::BIGINT AS k3, random() < 0.1 AS label`,
    SPINE,
  );
  genc.closeSync();

  // The offline service as its own process, so its peak RSS is its own.
  const port = await findFreePort();
  const address = `127.0.0.1:${port}`;
  offlineProc = startServiceProcess("services/offline/src/main.ts", {
    ...keys.env,
    GRANARY_OFFLINE_PORT: String(port),
    GRANARY_DATA_DIR: dir,
    GRANARY_METADATA_ADDRESS: metadata.address,
    GRANARY_ONLINE_ADDRESS: online.address,
    GRANARY_OFFLINE_DUCKDB_THREADS: String(THREADS),
    GRANARY_OFFLINE_DUCKDB_MEMORY: MEMORY,
    GRANARY_LOG_LEVEL: "warn",
    OTEL_SDK_DISABLED: "true",
    // The bench compacts by calling Compact; no background pass in between.
    GRANARY_OFFLINE_COMPACTION_INTERVAL_S: "0",
  });
  await waitForServing(address, 60_000);
  const off = createServiceClient(OfflineService, address, { apiKey: keys.adminKey });
  await waitFor(
    async () => {
      for await (const r of off.read({ project: P, featureGroup: { name: "labels", version: 1 }, limit: 1n })) if (r.chunk) return true;
      return false;
    },
    { timeoutMs: 30_000, what: "commits visible to the offline service" },
  );

  // Ingest: 20-column rows into an online-enabled group (Insert waits for the online push).
  // Batches of 65,536 rows, as Arrow writers (pyarrow, polars) produce them.
  const ingestBatches = [];
  for (let start = 0; start < INGEST; start += 65_536) {
    const n = Math.min(65_536, INGEST - start);
    ingestBatches.push(
      ...new arrow.Table({
        id: arrow.makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(start + i))),
        et: arrow.makeVector(
          arrow.makeData({
            type: new arrow.TimestampMicrosecond(),
            length: n,
            nullCount: 0,
            data: BigInt64Array.from({ length: n }, (_, i) => BigInt(T0 + start + i)),
          }),
        ),
        ...Object.fromEntries(Array.from({ length: 18 }, (_, c) => [`c${c}`, arrow.makeVector(Float64Array.from({ length: n }, () => Math.random()))])),
      }).batches,
    );
  }
  const ingestTable = new arrow.Table(ingestBatches);
  log(`ingesting ${INGEST.toLocaleString()} rows of 20 columns`);
  const ingest = async (group: string) => {
    const start = performance.now();
    await off.insert(
      (async function* () {
        yield { message: { case: "header" as const, value: { project: P, featureGroup: { name: group, version: 1 } } } };
        for (const ipc of arrowPayloads(ingestTable, 1024 * 1024)) yield { message: { case: "chunk" as const, value: { ipc } } };
      })(),
    );
    return (performance.now() - start) / 1000;
  };
  const offlineOnlySeconds = await ingest("ingest_offline");
  const ingestSeconds = await ingest("ingest");

  // The same insert through the write log (issue 16), when NATS is here: the outbox appends the
  // online copy to JetStream and answers once the log holds it; an online replica applies it.
  const nats = await probeNats(TEST_NATS_URL);
  let viaLog: { answered: number; applied: number } | undefined;
  if (!nats.ok) log(`no NATS at ${TEST_NATS_URL} (${nats.reason}): ingest through the write log not measured`);
  else {
    log("ingest through the write log");
    writeLog = isolatedLog("bench");
    onlineLog = await startOnlineService(
      loadOnlineConfig({
        ...keys.env,
        ...writeLog.env,
        GRANARY_ONLINE_PORT: "0",
        GRANARY_DATA_DIR: join(dir, "on-log"),
        GRANARY_METADATA_ADDRESS: metadata.address,
      }),
      logger,
    );
    const logPort = await findFreePort();
    offlineLogProc = startServiceProcess("services/offline/src/main.ts", {
      ...keys.env,
      ...writeLog.env,
      GRANARY_OFFLINE_PORT: String(logPort),
      GRANARY_DATA_DIR: join(dir, "with-log"),
      GRANARY_METADATA_ADDRESS: metadata.address,
      GRANARY_ONLINE_ADDRESS: onlineLog.address,
      GRANARY_OFFLINE_DUCKDB_THREADS: String(THREADS),
      GRANARY_OFFLINE_DUCKDB_MEMORY: MEMORY,
      GRANARY_LOG_LEVEL: "warn",
      OTEL_SDK_DISABLED: "true",
      GRANARY_OFFLINE_COMPACTION_INTERVAL_S: "0",
    });
    await waitForServing(`127.0.0.1:${logPort}`, 60_000);
    const offLog = createServiceClient(OfflineService, `127.0.0.1:${logPort}`, { apiKey: keys.adminKey });
    await md.createFeatureGroup({
      featureGroup: {
        project: P,
        name: "ingest_log",
        version: 1,
        onlineEnabled: true,
        columns: [i64("id"), ts("et"), ...Array.from({ length: 18 }, (_, i) => dbl(`c${i}`))],
        primaryKey: ["id"],
        eventTime: "et",
      },
    });
    await md.createFeatureView({
      featureView: { project: P, name: "ingest_log_view", version: 1, query: { featureGroup: { name: "ingest_log", version: 1 } } },
    });
    const onLog = createServiceClient(OnlineService, onlineLog.address, { apiKey: keys.adminKey });
    const last = async () =>
      (
        await onLog.getFeatureVectors({
          project: P,
          featureView: { name: "ingest_log_view", version: 1 },
          entities: { rowCount: 1, servingKeys: [{ name: "id", data: { values: { case: "int64s", value: { values: [BigInt(INGEST - 1)] } } } }] },
        })
      ).vectors!.columns[0]!.statuses[0];
    await waitFor(
      async () => {
        try {
          await last();
          for await (const _ of offLog.read({ project: P, featureGroup: { name: "ingest_log", version: 1 }, limit: 1n })) void _;
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 30_000, what: "ingest_log known to both services" },
    );
    const start = performance.now();
    await offLog.insert(
      (async function* () {
        yield { message: { case: "header" as const, value: { project: P, featureGroup: { name: "ingest_log", version: 1 } } } };
        for (const ipc of arrowPayloads(ingestTable, 1024 * 1024)) yield { message: { case: "chunk" as const, value: { ipc } } };
      })(),
    );
    const answered = (performance.now() - start) / 1000;
    await waitFor(async () => (await last()) === ValueStatus.PRESENT, { timeoutMs: 300_000, intervalMs: 20, what: "the online replica applying the log" });
    viaLog = { answered, applied: (performance.now() - start) / 1000 };
    await offlineLogProc.stop();
    offlineLogProc = undefined;
  }

  // Compaction: a group of many small commits (as a stream's micro-batches leave them), each a
  // hundredth of the rows, bulk-loaded like the others; a full Read before and after Compact.
  const SMALL = 100;
  log(`compaction: ${SMALL} commits of ${(ROWS / SMALL).toLocaleString()} rows`);
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "history",
      version: 1,
      columns: [i64("k"), ts("et"), ...Array.from({ length: 10 }, (_, i) => dbl(`h${i}`))],
      primaryKey: ["k"],
      eventTime: "et",
    },
  });
  const loader = await (await DuckDBInstance.create(":memory:", { threads: String(THREADS) })).connect();
  for (let c = 0; c < SMALL; c++) {
    const seq = BigInt(c + 1);
    const rel = `${P}/history/v1/${seq.toString().padStart(20, "0")}/part-00000.parquet`;
    mkdirSync(join(dataRoot, rel, ".."), { recursive: true });
    const n = ROWS / SMALL;
    const features = Array.from({ length: 10 }, (_, f) => `random() AS h${f}`).join(", ");
    await loader.run(
      `COPY (SELECT (i % ${KEYS})::BIGINT AS k, make_timestamp(${T0}::BIGINT + ${c} * ${YEAR_US / SMALL} + (hash(i) % ${YEAR_US / SMALL})::BIGINT) AS et, ${features}, ${seq}::BIGINT AS _seq FROM range(${c * n}, ${(c + 1) * n}) t(i)) TO '${join(dataRoot, rel)}' (FORMAT parquet)`,
    );
    await mdService.createCommit({
      commit: {
        project: P,
        featureGroup: { name: "history", version: 1 },
        kind: CommitKind.INSERT,
        rowsInserted: BigInt(n),
        files: [rel],
        minEventTime: timestampFromMs((T0 + (c * YEAR_US) / SMALL) / 1000),
        maxEventTime: timestampFromMs((T0 + ((c + 1) * YEAR_US) / SMALL) / 1000),
      },
    });
  }
  loader.closeSync();
  await waitFor(
    async () => {
      for await (const r of off.read({ project: P, featureGroup: { name: "history", version: 1 }, limit: 1n })) if (r.chunk) return true;
      return false;
    },
    { timeoutMs: 30_000, what: "the small commits visible to the offline service" },
  );
  // Best of two full Reads, before and after (one run is noisy on two cores).
  const bestRead = async () => {
    const a = await readOverGrpc(address, "history", keys.adminKey);
    const b = await readOverGrpc(address, "history", keys.adminKey);
    return a.seconds <= b.seconds ? a : b;
  };
  const readBefore = await bestRead();
  const compactStart = performance.now();
  const compacted = await off.compact({ project: P, featureGroup: { name: "history", version: 1 } }, { timeoutMs: 3_600_000 });
  const compactionSeconds = (performance.now() - compactStart) / 1000;
  const readAfter = await bestRead();

  // Partitions: a group partitioned by a DATE column, inserted through the service (so its files
  // are laid out Hive-style), read whole, read for one day (its partition only), and read for a
  // similar share of rows by a feature column (every file and row group scanned).
  const DAYS = 30;
  const PART_ROWS = quick ? 1_200_000 : 6_000_000;
  log(`partitions: ${PART_ROWS.toLocaleString()} rows over ${DAYS} days`);
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "by_day",
      version: 1,
      columns: [i64("id"), { name: "day", type: { scalar: ScalarType.DATE } }, ...Array.from({ length: 10 }, (_, i) => dbl(`d${i}`))],
      primaryKey: ["id"],
      eventTime: "day",
      partitionKey: ["day"],
    },
  });
  const dayOf = (i: number) => i % DAYS;
  const partBatches = [];
  for (let start = 0; start < PART_ROWS; start += 65_536) {
    const n = Math.min(65_536, PART_ROWS - start);
    partBatches.push(
      ...new arrow.Table({
        id: arrow.makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(start + i))),
        day: arrow.makeVector(
          arrow.makeData({ type: new arrow.DateDay(), length: n, nullCount: 0, data: Int32Array.from({ length: n }, (_, i) => 20_000 + dayOf(start + i)) }),
        ),
        ...Object.fromEntries(Array.from({ length: 10 }, (_, c) => [`d${c}`, arrow.makeVector(Float64Array.from({ length: n }, () => Math.random()))])),
      }).batches,
    );
  }
  const partTable = new arrow.Table(partBatches);
  await waitFor(
    async () => {
      try {
        for await (const _ of off.read({ project: P, featureGroup: { name: "by_day", version: 1 }, limit: 1n })) void _;
        return true;
      } catch {
        return false;
      }
    },
    { timeoutMs: 30_000, what: "the partitioned group known to the offline service" },
  );
  await off.insert(
    (async function* () {
      yield { message: { case: "header" as const, value: { project: P, featureGroup: { name: "by_day", version: 1 } } } };
      for (const ipc of arrowPayloads(partTable, 1024 * 1024)) yield { message: { case: "chunk" as const, value: { ipc } } };
    })(),
  );
  const condition = (column: string, operator: FilterOperator, value: object) => ({ kind: { case: "condition" as const, value: { column, operator, value } } });
  // Bytes the service process reads (read/pread calls, page cache included) during each read.
  const pid = offlineProc.child.pid!;
  const measured = async (filter?: object) => {
    const before = readBytes(pid);
    const r = await readOverGrpc(address, "by_day", keys.adminKey, filter);
    return { ...r, bytes: readBytes(pid) - before };
  };
  const partAll = await measured();
  const partOneDay = await measured(condition("day", FilterOperator.EQ, { kind: { case: "dateValue", value: 20_007 } }));
  // A random feature below 1/30: about as many rows, spread over every file and row group.
  const partUnpruned = await measured(condition("d0", FilterOperator.LT, { kind: { case: "doubleValue", value: 1 / DAYS } }));
  if (partOneDay.rows !== PART_ROWS / DAYS || Math.abs(partUnpruned.rows - PART_ROWS / DAYS) > PART_ROWS / DAYS / 5 || partAll.rows !== PART_ROWS)
    log(`WARNING: partition reads gave ${partAll.rows}, ${partOneDay.rows} and ${partUnpruned.rows} rows`);
  if (readBefore.rows !== ROWS || readAfter.rows !== ROWS)
    log(`WARNING: Read gave ${readBefore.rows} rows before compaction and ${readAfter.rows} after, for ${ROWS}`);

  // Point-in-time training data over gRPC, decoded batch by batch by a plain grpc-js client.
  log("GetTrainingData through the service");
  const pit = await pitOverGrpc(address, view.name, keys.adminKey);

  // The floor: the same SQL in DuckDB, every chunk of the result produced and fetched.
  log("the same SQL in DuckDB alone");
  const sql = pointInTimeSql({ view, groups, commits, dataRoot });
  const floor = await duckdbFloor(sql, dir);

  // The reference (issue 18): what DuckDB does with a hand-written point-in-time join over the same
  // files — ASOF LEFT JOIN of the spine to each group, ordered by spine time and key, no dedup
  // window (this data has no ties on (key, event time)), chunks fetched without conversion to JS.
  log("the reference query (hand-written ASOF join) in DuckDB");
  const fileOf = (name: string) => `'${join(dataRoot, P, name, "v1", "1".padStart(20, "0"), "part-00000.parquet")}'`;
  const referenceSql = [
    `SELECT s.id, s.et, s.label, ${GROUPS.map((g) => `${g}.* EXCLUDE (k, et, _seq)`).join(", ")}`,
    `FROM read_parquet(${fileOf("labels")}) s`,
    ...GROUPS.map((g, i) => `ASOF LEFT JOIN read_parquet(${fileOf(g)}) ${g} ON s.k${i + 1} = ${g}.k AND s.et >= ${g}.et`),
    "ORDER BY s.et, s.id",
  ].join("\n");
  const reference = await duckdbFloor(referenceSql, dir);

  const rss = peakRssMb(offlineProc.child.pid!);
  const rssNow = currentRssMb(offlineProc.child.pid!);

  // PostgreSQL: the same join with LATERAL subqueries, on a spine subset, with the rows it needs.
  log(`PostgreSQL LATERAL on ${PG_SPINE.toLocaleString()} spine rows`);
  const postgres = await postgresLateral(dbUrl, dataRoot, dir).catch((err: unknown) => {
    log(`PostgreSQL comparison failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  });

  const result = {
    bench: "offline",
    quick,
    spine_rows: SPINE,
    feature_rows_per_group: ROWS,
    output_columns: pit.columns,
    pit_rows_per_s: Math.round(pit.rows / pit.seconds),
    pit_seconds: round(pit.seconds),
    pit_mb_per_s: round(pit.bytes / 1e6 / pit.seconds),
    duckdb_rows_per_s: Math.round(floor.rows / floor.seconds),
    duckdb_seconds: round(floor.seconds),
    vs_floor: round(floor.seconds / pit.seconds),
    reference_rows_per_s: Math.round(reference.rows / reference.seconds),
    reference_seconds: round(reference.seconds),
    vs_reference: round(reference.seconds / pit.seconds),
    postgres_rows_per_s: postgres ? Math.round(postgres.rows / postgres.seconds) : null,
    postgres_spine_rows: postgres?.rows ?? null,
    service_peak_rss_mb: rss,
    service_rss_after_mb: rssNow,
    ingest_rows_per_s: Math.round(INGEST / ingestSeconds),
    ingest_offline_only_rows_per_s: Math.round(INGEST / offlineOnlySeconds),
    ingest_vs_offline_only: round(offlineOnlySeconds / ingestSeconds),
    ingest_via_write_log_rows_per_s: viaLog ? Math.round(INGEST / viaLog.answered) : null,
    ingest_via_write_log_vs_offline_only: viaLog ? round(offlineOnlySeconds / viaLog.answered) : null,
    ingest_via_write_log_applied_online_rows_per_s: viaLog ? Math.round(INGEST / viaLog.applied) : null,
    compaction_seconds: round(compactionSeconds),
    compaction_rows: Number(compacted.stats?.rowsAfter ?? 0n),
    compaction_files: `${compacted.stats?.filesBefore ?? 0n} -> ${compacted.stats?.filesAfter ?? 0n}`,
    compaction_rows_per_s: Math.round(ROWS / compactionSeconds),
    read_rows_per_s_before_compaction: Math.round(readBefore.rows / readBefore.seconds),
    read_rows_per_s_after_compaction: Math.round(readAfter.rows / readAfter.seconds),
    partition_days: DAYS,
    partition_read_all_seconds: round(partAll.seconds),
    partition_read_one_day_seconds: round(partOneDay.seconds),
    partition_read_same_share_by_feature_seconds: round(partUnpruned.seconds),
    partition_pruning_speedup: round(partUnpruned.seconds / partOneDay.seconds),
    partition_read_all_mb: round(partAll.bytes / 1e6),
    partition_read_one_day_mb: round(partOneDay.bytes / 1e6),
    partition_read_same_share_by_feature_mb: round(partUnpruned.bytes / 1e6),
    duckdb_threads: THREADS,
    duckdb_memory_limit: MEMORY,
    total_seconds: round((performance.now() - started) / 1000),
  };
  if (pit.rows !== SPINE) log(`WARNING: ${pit.rows} rows came back for a spine of ${SPINE}`);
  if (reference.rows !== SPINE) log(`WARNING: the reference query gave ${reference.rows} rows for a spine of ${SPINE}`);
  console.log(JSON.stringify(result));
} finally {
  await offlineProc?.stop();
  await offlineLogProc?.stop();
  await onlineLog?.stop();
  await writeLog?.remove().catch(() => undefined);
  await online.stop();
  await metadata.stop();
  await withPg(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).catch(() => undefined);
  await embedded?.stop();
  rmSync(dir, { recursive: true, force: true });
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

async function withPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function pitOverGrpc(address: string, viewName: string, apiKey: string): Promise<{ rows: number; seconds: number; bytes: number; columns: number }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    "grpc-node.flow_control_window": 4 * 1024 * 1024,
    "grpc.max_receive_message_length": 8 * 1024 * 1024,
  });
  const start = performance.now();
  const auth = new grpc.Metadata();
  auth.set("authorization", `Bearer ${apiKey}`);
  const call = client.makeBidiStreamRequest(
    "/granary.offline.v1.OfflineService/GetTrainingData",
    (m: Uint8Array) => Buffer.from(m.buffer, m.byteOffset, m.byteLength),
    (b: Buffer) => b,
    auth,
  );
  call.write(
    toBinary(
      GetTrainingDataRequestSchema,
      create(GetTrainingDataRequestSchema, {
        message: { case: "query", value: { project: P, featureView: { name: viewName, version: 1 }, untransformed: true } },
      }),
    ),
  );
  call.end();
  let bytes = 0;
  async function* ipc(): AsyncGenerator<Uint8Array> {
    for await (const raw of call as AsyncIterable<Buffer>) {
      const chunk = fromBinary(GetTrainingDataResponseSchema, raw).chunk!.ipc;
      bytes += chunk.byteLength;
      yield chunk;
    }
  }
  const reader = await arrow.RecordBatchReader.from(ipc());
  let rows = 0;
  let columns = 0;
  let checksum = 0;
  for await (const batch of reader) {
    rows += batch.numRows;
    columns = batch.numCols;
    // Touch every batch: decoded columns, a value read from the last one.
    const last = batch.getChildAt(batch.numCols - 1);
    checksum += Number(last?.get(0) ?? 0);
  }
  const seconds = (performance.now() - start) / 1000;
  client.close();
  void checksum;
  return { rows, seconds, bytes, columns };
}

async function duckdbFloor(sql: string, tmp: string): Promise<{ rows: number; seconds: number }> {
  const config = duckdb.create_config();
  duckdb.set_config(config, "threads", String(THREADS));
  duckdb.set_config(config, "memory_limit", MEMORY);
  duckdb.set_config(config, "temp_directory", join(tmp, "floor-tmp"));
  const db = await duckdb.open(":memory:", config);
  const conn = await duckdb.connect(db);
  const start = performance.now();
  const statement = await duckdb.prepare(conn, sql);
  const result = await duckdb.execute_prepared_streaming(statement);
  let rows = 0;
  for (;;) {
    const chunk = await duckdb.fetch_chunk(result);
    if (!chunk) break;
    const n = duckdb.data_chunk_get_size(chunk);
    if (n === 0) break;
    rows += n;
  }
  const seconds = (performance.now() - start) / 1000;
  duckdb.destroy_prepare_sync(statement);
  duckdb.disconnect_sync(conn);
  duckdb.close_sync(db);
  return { rows, seconds };
}

/** Bytes a process has read through read(2)-like calls so far (/proc/<pid>/io rchar). */
function readBytes(pid: number): number {
  return Number(/rchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? 0);
}

function currentRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

/** A full Read of a group over gRPC, decoded batch by batch. */
async function readOverGrpc(address: string, group: string, apiKey: string, filter?: object): Promise<{ rows: number; seconds: number }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    "grpc-node.flow_control_window": 4 * 1024 * 1024,
    "grpc.max_receive_message_length": 8 * 1024 * 1024,
  });
  const auth = new grpc.Metadata();
  auth.set("authorization", `Bearer ${apiKey}`);
  const start = performance.now();
  const call = client.makeServerStreamRequest(
    "/granary.offline.v1.OfflineService/Read",
    (m: Uint8Array) => Buffer.from(m.buffer, m.byteOffset, m.byteLength),
    (b: Buffer) => b,
    toBinary(ReadRequestSchema, create(ReadRequestSchema, { project: P, featureGroup: { name: group, version: 1 }, ...(filter ? { filter } : {}) } as never)),
    auth,
  );
  async function* ipc(): AsyncGenerator<Uint8Array> {
    for await (const raw of call as AsyncIterable<Buffer>) yield fromBinary(ReadResponseSchema, raw).chunk!.ipc;
  }
  let rows = 0;
  for await (const batch of await arrow.RecordBatchReader.from(ipc())) rows += batch.numRows;
  const seconds = (performance.now() - start) / 1000;
  client.close();
  return { rows, seconds };
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function postgresLateral(url: string, root: string, tmp: string): Promise<{ rows: number; seconds: number }> {
  const csvDir = join(tmp, "pg-csv");
  mkdirSync(csvDir, { recursive: true });
  chmodSync(csvDir, 0o755);
  const inst = await DuckDBInstance.create(":memory:", { threads: String(THREADS) });
  const c = await inst.connect();
  const file = (name: string) => join(root, `${P}/${name}/v1/${"1".padStart(20, "0")}/part-00000.parquet`);
  await c.run(`CREATE TABLE spine AS SELECT id, et, k1, k2, k3, label FROM '${file("labels")}' WHERE id < ${PG_SPINE}`);
  await c.run(`COPY spine TO '${join(csvDir, "spine.csv")}' (HEADER false)`);
  for (const [i, g] of GROUPS.entries()) {
    // Only the rows of keys the spine subset reads: the LATERAL lookups are the same.
    const cols = Array.from({ length: 10 }, (_, f) => `${g}_f${f}`).join(", ");
    await c.run(`COPY (SELECT k, et, ${cols} FROM '${file(g)}' WHERE k IN (SELECT k${i + 1} FROM spine)) TO '${join(csvDir, `${g}.csv`)}' (HEADER false)`);
  }
  c.closeSync();
  for (const f of ["spine", ...GROUPS]) chmodSync(join(csvDir, `${f}.csv`), 0o644);
  return withPg(url, async (client) => {
    await client.query("CREATE TABLE spine (id bigint, et timestamp, k1 bigint, k2 bigint, k3 bigint, label boolean)");
    await client.query(`COPY spine FROM '${join(csvDir, "spine.csv")}' (FORMAT csv)`);
    for (const g of GROUPS) {
      const cols = Array.from({ length: 10 }, (_, f) => `${g}_f${f} double precision`).join(", ");
      await client.query(`CREATE TABLE ${g} (k bigint, et timestamp, ${cols})`);
      await client.query(`COPY ${g} FROM '${join(csvDir, `${g}.csv`)}' (FORMAT csv)`);
      await client.query(`CREATE INDEX ON ${g} (k, et)`);
      await client.query(`ANALYZE ${g}`);
    }
    const lateral = GROUPS.map((g, i) => {
      const cols = Array.from({ length: 10 }, (_, f) => `${g}_f${f}`).join(", ");
      return `LEFT JOIN LATERAL (SELECT ${cols} FROM ${g} x WHERE x.k = s.k${i + 1} AND x.et <= s.et ORDER BY x.et DESC LIMIT 1) ${g} ON true`;
    }).join(" ");
    const start = performance.now();
    const res = await client.query(`SELECT s.id, s.label, g1.*, g2.*, g3.* FROM spine s ${lateral} ORDER BY s.et, s.id`);
    return { rows: res.rowCount ?? 0, seconds: (performance.now() - start) / 1000 };
  });
}
