// The write log (issue 16, libs/write-log) on its own, no services: batches of 1,000 rows × 20
// double features (+ an int64 key and a timestamp).
//   (a) the payload codecs, in one process, interleaved: Arrow IPC stream vs protobuf ColumnarRows
//       (granary.types.v1, what WriteRows carries) vs EntityRows (granary.online.v1): encode and
//       decode ms per batch, bytes; and what a replica would add for Arrow, whose apply path takes
//       ColumnarRows (services/online arrowToColumnarRows);
//   (b) appends/s (awaited one at a time, and 16 in flight) and follow throughput (rows/s, decoded)
//       for the local LMDB log (committed and flushed) and JetStream (R1 file stream on the NATS at
//       GRANARY_NATS_URL, default 127.0.0.1:4222; skipped with the reason when unreachable).
// The last line is one JSON object. Machines are noisy: compare numbers of one run only.
//
//   npm run bench:write-log [-- --quick]
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as arrow from "apache-arrow";
import { FeatureGroupSchema } from "@granary/proto/metadata";
import { EntityRowsSchema } from "@granary/proto/online";
import { ColumnarRowsSchema, DataTypeSchema, ScalarType, type ColumnarRows } from "@granary/proto/types";
import { JetStreamWriteLog, LocalWriteLog, type LogBatch, type WriteLog } from "@granary/write-log";
import { arrowToColumnarRows } from "../services/online/src/vectors/arrow-rows.js";

const QUICK = process.argv.includes("--quick");
const ROWS = 1000;
const FEATURES = 20;
const CODEC_ROUNDS = QUICK ? 200 : 1000;
const BATCHES = QUICK ? 100 : 500;
const NATS_URL = process.env["GRANARY_NATS_URL"] ?? "nats://127.0.0.1:4222";

interface Columns {
  ids: BigInt64Array;
  times: BigInt64Array;
  features: Float64Array[];
}

function columns(seed: number): Columns {
  const ids = new BigInt64Array(ROWS);
  const times = new BigInt64Array(ROWS);
  for (let i = 0; i < ROWS; i++) {
    ids[i] = BigInt(seed * ROWS + i);
    times[i] = 1_700_000_000_000_000n + BigInt(seed * ROWS + i);
  }
  const features = Array.from({ length: FEATURES }, (_, f) => Float64Array.from({ length: ROWS }, (_, i) => Math.sin(seed + i * 31 + f) * 1000));
  return { ids, times, features };
}

function columnarRows(c: Columns): ColumnarRows {
  return create(ColumnarRowsSchema, {
    rowCount: ROWS,
    columns: [
      { name: "entity_id", data: { values: { case: "int64s", value: { values: Array.from(c.ids) } } } },
      { name: "event_time", data: { values: { case: "timestamps", value: { values: Array.from(c.times) } } } },
      ...c.features.map((values, f) => ({ name: `f${f}`, data: { values: { case: "doubles" as const, value: { values: Array.from(values) } } } })),
    ],
  });
}

function arrowIpc(c: Columns): Uint8Array {
  const vectors: Record<string, arrow.Vector> = {
    entity_id: arrow.makeVector(c.ids),
    event_time: arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMicrosecond(), length: ROWS, data: c.times })),
  };
  c.features.forEach((values, f) => (vectors[`f${f}`] = arrow.makeVector(values)));
  return arrow.tableToIPC(new arrow.Table(vectors), "stream");
}

/** What a consumer needs from an Arrow payload: the columns as typed arrays. */
function readArrow(bytes: Uint8Array): number {
  const table = arrow.tableFromIPC(bytes);
  let sum = 0;
  for (const field of table.schema.fields) sum += (table.getChild(field.name)!.toArray() as ArrayLike<unknown>).length;
  return sum;
}

function readColumnar(bytes: Uint8Array): number {
  const rows = fromBinary(ColumnarRowsSchema, bytes);
  let sum = 0;
  for (const c of rows.columns) {
    const v = c.data?.values.value;
    if (v !== undefined && "values" in v) sum += v.values.length;
  }
  return sum;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

function codecs() {
  const c = columns(1);
  const message = columnarRows(c);
  const entityRows = create(EntityRowsSchema, { rowCount: ROWS, servingKeys: message.columns.slice(0, 1), passedFeatures: message.columns.slice(1) });
  const double = create(DataTypeSchema, { scalar: ScalarType.DOUBLE });
  const group = create(FeatureGroupSchema, {
    name: "g",
    version: 1,
    primaryKey: ["entity_id"],
    eventTime: "event_time",
    columns: [
      { name: "entity_id", type: { scalar: ScalarType.INT64 } },
      { name: "event_time", type: { scalar: ScalarType.TIMESTAMP } },
      ...Array.from({ length: FEATURES }, (_, f) => ({ name: `f${f}`, type: double })),
    ],
  });
  const ipc = arrowIpc(c);
  const pb = toBinary(ColumnarRowsSchema, message);
  const eb = toBinary(EntityRowsSchema, entityRows);
  const ops: Record<string, () => unknown> = {
    arrow_encode: () => arrowIpc(c),
    arrow_decode: () => readArrow(ipc),
    arrow_to_columnar_rows: () => arrowToColumnarRows(ipc, group),
    columnar_rows_encode: () => toBinary(ColumnarRowsSchema, message),
    columnar_rows_encode_from_arrays: () => toBinary(ColumnarRowsSchema, columnarRows(c)),
    columnar_rows_decode: () => readColumnar(pb),
    entity_rows_encode: () => toBinary(EntityRowsSchema, entityRows),
    entity_rows_decode: () => fromBinary(EntityRowsSchema, eb),
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((k) => [k, []]));
  for (let r = 0; r < CODEC_ROUNDS; r++) {
    for (const [name, op] of Object.entries(ops)) {
      const t0 = performance.now();
      op();
      samples[name]!.push(performance.now() - t0);
    }
  }
  const ms = (name: string) => round3(median(samples[name]!.slice(Math.floor(CODEC_ROUNDS / 10))));
  return {
    arrow_ipc: { bytes: ipc.byteLength, encode_ms: ms("arrow_encode"), decode_ms: ms("arrow_decode"), to_columnar_rows_ms: ms("arrow_to_columnar_rows") },
    columnar_rows: {
      bytes: pb.byteLength,
      encode_ms: ms("columnar_rows_encode"),
      encode_from_typed_arrays_ms: ms("columnar_rows_encode_from_arrays"),
      decode_ms: ms("columnar_rows_decode"),
    },
    entity_rows: { bytes: eb.byteLength, encode_ms: ms("entity_rows_encode"), decode_ms: ms("entity_rows_decode") },
  };
}

async function throughput(log: WriteLog, label: string) {
  const batches: LogBatch[] = Array.from({ length: 8 }, (_, i) => ({
    project: "bench",
    group: "features",
    version: 1,
    kind: "upsert",
    origin: "write-rows",
    rows: columnarRows(columns(i)),
  }));
  // Warm-up (JIT, the file or stream's first pages): not measured, but followed below.
  for (let i = 0; i < 20; i++) await log.append(batches[i % batches.length]!);
  const sequential = performance.now();
  for (let i = 0; i < BATCHES; i++) await log.append(batches[i % batches.length]!);
  const sequentialS = (performance.now() - sequential) / 1000;

  const inFlight = 16;
  const concurrent = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < BATCHES) {
        next++;
        await log.append(batches[next % batches.length]!);
      }
    }),
  );
  const concurrentS = (performance.now() - concurrent) / 1000;

  const total = await log.lastSequence();
  let rows = 0;
  const follow = performance.now();
  let caughtUp = () => {};
  const done = new Promise<void>((resolve) => (caughtUp = resolve));
  const follower = log.follow(0n, (entry) => {
    rows += entry.rows.rowCount;
    if (entry.sequence === total) caughtUp();
  });
  await Promise.race([done, follower.done]);
  const followS = (performance.now() - follow) / 1000;
  await follower.stop();
  const result = {
    appends_per_s: Math.round(BATCHES / sequentialS),
    rows_per_s: Math.round((BATCHES * ROWS) / sequentialS),
    appends_per_s_16_in_flight: Math.round(BATCHES / concurrentS),
    rows_per_s_16_in_flight: Math.round((BATCHES * ROWS) / concurrentS),
    follow_rows_per_s: Math.round(rows / followS),
    follow_batches: Number(total),
  };
  console.log(label, JSON.stringify(result));
  return result;
}

async function local(durability: "committed" | "flushed") {
  const dir = mkdtempSync(join(tmpdir(), "granary-bench-write-log-"));
  const log = new LocalWriteLog({ path: dir, durability, mapSizeBytes: 4 * 1024 ** 3 });
  try {
    return await throughput(log, `local ${durability}`);
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function jetStream() {
  const id = `${process.pid}_${Date.now()}`;
  let log: JetStreamWriteLog;
  try {
    log = await JetStreamWriteLog.connect({
      url: NATS_URL,
      stream: `BENCH_WL_${id}`,
      deadStream: `BENCH_WL_${id}_DEAD`,
      subjectPrefix: `bench-wl-${id}`,
      deadSubjectPrefix: `bench-wl-${id}-dead`,
      connectTimeoutMs: 2000,
    });
  } catch (err) {
    return { not_run: err instanceof Error ? err.message : String(err) };
  }
  try {
    return await throughput(log, "jetstream");
  } finally {
    await log.destroy();
    await log.close();
  }
}

const codecResult = codecs();
console.log("codecs", JSON.stringify(codecResult));
const summary = {
  bench: "write-log",
  rows_per_batch: ROWS,
  features: FEATURES,
  batches: BATCHES,
  load: round3(loadavg()[0]!),
  codecs: codecResult,
  local_committed: await local("committed"),
  local_flushed: await local("flushed"),
  jetstream: await jetStream(),
  load_after: round3(loadavg()[0]!),
};
console.log(JSON.stringify(summary));
