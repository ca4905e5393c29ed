import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { CommitSchema, FeatureGroupSchema, ValidationPolicy, type Commit } from "@granary/proto/metadata";
import { ColumnarRowsSchema, ScalarType, type ColumnarRows } from "@granary/proto/types";
import { createLogger } from "@granary/telemetry";
import { scratchDir } from "@granary/testing";
import { LocalWriteLog, type ConsumedBatch, type LogBatch, type WriteLog } from "@granary/write-log";
import { DuckEngine, fileList } from "../duck/index.js";
import type { StatisticsUpdater } from "../stats/statistics-updater.js";
import { CommitLayout } from "../store/commit-layout.js";
import { CommitLog } from "../store/commit-log.js";
import type { MetadataWriter } from "../upstream/metadata-writer.js";
import { CommitSequencer } from "./commit-sequencer.js";
import { LogIngester } from "./log-ingester.js";

// The offline consumer of the write log (issue 16) on the local log adapter and a real DuckDB:
// what it commits, skips and refuses, and that a redelivery never commits a batch twice.
const logger = createLogger({ level: "silent", service: "test" });
const dir = scratchDir("log-ingester");
const group = create(FeatureGroupSchema, {
  project: "p",
  name: "g",
  version: 1,
  columns: [
    { name: "id", type: { scalar: ScalarType.INT64 } },
    { name: "amount", type: { scalar: ScalarType.DOUBLE } },
    { name: "event_time", type: { scalar: ScalarType.TIMESTAMP } },
  ],
  primaryKey: ["id"],
  eventTime: "event_time",
  validationRules: [{ name: "amount_positive", column: "amount", policy: ValidationPolicy.FAIL, rule: { case: "between", value: { min: 0 } } }],
});
const T0 = BigInt(Date.UTC(2026, 0, 1)) * 1000n;
let engine: DuckEngine;
let log: LocalWriteLog;

function rows(ids: number[], amounts = ids.map((i) => i * 10)): ColumnarRows {
  return create(ColumnarRowsSchema, {
    rowCount: ids.length,
    columns: [
      { name: "id", data: { values: { case: "int64s", value: { values: ids.map(BigInt) } } } },
      { name: "amount", data: { values: { case: "doubles", value: { values: amounts } } } },
      { name: "event_time", data: { values: { case: "timestamps", value: { values: ids.map(() => T0) } } } },
    ],
  });
}

const batch = (ids: number[], extra: Partial<LogBatch> = {}): LogBatch => ({
  project: "p",
  group: "g",
  version: 1,
  kind: "upsert",
  origin: "write-rows",
  rows: rows(ids),
  ...extra,
});

/** The metadata service as far as commits go: ids assigned in order, every record kept. */
function fakeMetadata() {
  const recorded: Commit[] = [];
  const metadata = {
    createCommit: async (c: Commit) => {
      const stored = create(CommitSchema, { ...c, id: BigInt(recorded.length + 1), ingestionTime: timestampNow() });
      recorded.push(stored);
      return stored;
    },
    updateCommit: async (c: Commit) => recorded.find((r) => r.id === c.id)!,
    createValidationReport: async (r: unknown) => r,
    commitsSince: async () => [...recorded],
  } as unknown as MetadataWriter;
  return { metadata, recorded };
}

/** The log with the acknowledgements of the first `lose` fetches failing, as if the connection dropped after the commit. */
function losingAcks(inner: WriteLog, lose: { count: number }): WriteLog {
  return {
    ...inner,
    append: (b) => inner.append(b),
    deadLetter: (m, r) => inner.deadLetter(m, r),
    listDeadLetters: (p, n) => inner.listDeadLetters(p, n),
    lastSequence: () => inner.lastSequence(),
    consumer: async (options) => {
      const consumer = await inner.consumer(options);
      return {
        close: () => consumer.close(),
        fetch: async (o) => {
          const fetched: ConsumedBatch = await consumer.fetch(o);
          return {
            entries: fetched.entries,
            nak: () => fetched.nak(),
            ack: async () => {
              if (fetched.entries.length > 0 && lose.count > 0) {
                lose.count--;
                throw new Error("the acknowledgement was lost with the connection");
              }
              await fetched.ack();
            },
          };
        },
      };
    },
  } as WriteLog;
}

function ingester(deps: { log: WriteLog; commits: CommitLog; metadata: MetadataWriter; layout: CommitLayout }) {
  return new LogIngester({
    ...deps,
    engine,
    sequencer: new CommitSequencer(),
    catalogue: { featureGroup: (p, n, v) => (p === "p" && n === "g" && v === 1 ? group : undefined), revision: 0n },
    statistics: { refresh: async () => {} } as unknown as StatisticsUpdater,
    crashAt: undefined,
    logger,
    maxRows: 1000,
    maxMs: 50,
    unknownGroupWaitMs: 0,
    pollMs: 20,
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every row of the recorded commits' files, (id, amount) sorted: a row committed twice shows twice. */
async function committedRows(layout: CommitLayout, recorded: readonly Commit[]): Promise<[number, number][]> {
  if (recorded.length === 0) return [];
  const files = fileList(recorded.flatMap((c) => c.files.map((f) => layout.absolute(f))));
  const out = await engine.rows(`SELECT id, amount FROM read_parquet(${files}) ORDER BY id, amount`);
  return out.map((r) => [Number(r.id), Number(r.amount)]);
}

beforeAll(async () => {
  engine = await DuckEngine.open({ dataRoot: `${dir.path}/offline`, threads: 1, memoryLimit: "128MB", maxQueries: 2 });
  log = new LocalWriteLog({ path: `${dir.path}/log`, durability: "committed" });
});

afterAll(async () => {
  await log.close();
  engine.close();
  dir.remove();
});

describe("LogIngester", () => {
  it("commits a micro-batch once per group, skips inserts' copies and deletes, refuses unknown groups and FAIL rows, and never commits a redelivery twice", async () => {
    const layout = new CommitLayout(`${dir.path}/offline`);
    const commits = new CommitLog();
    const { metadata, recorded } = fakeMetadata();
    await log.append(batch([1, 2]));
    await log.append(batch([3]));
    await log.append(batch([3], { msgId: "again" })); // the same (key, event time) again: kept once
    await log.append(batch([9], { origin: "insert" }));
    await log.append(batch([1], { kind: "delete", rows: create(ColumnarRowsSchema, { rowCount: 1, columns: [rows([1]).columns[0]!] }) }));
    await log.append(batch([5], { group: "nope" }));
    const bad = await log.append({ ...batch([6]), rows: rows([6], [-1]) });
    const last = await log.append(batch([4]));

    // A first run commits the micro-batch, and every acknowledgement is lost: nothing is acknowledged when it stops.
    const first = ingester({ log: losingAcks(log, { count: Number.POSITIVE_INFINITY }), commits, metadata, layout });
    first.start();
    await until("the micro-batch committed", () => recorded.length === 1);
    await first.stop();
    expect(recorded).toHaveLength(1);
    expect(await layout.logSequenceOf("p", "g", 1, commits.commits("p", "g", 1)[0]!.sequence)).toBe(last.sequence);

    // A restart (no position in memory) gets it all again: the position beside the commit skips it;
    // the next batch commits, its acknowledgement is lost once, and the redelivery is skipped too.
    const more = await log.append(batch([7]));
    const lose = { count: 1 };
    const second = ingester({ log: losingAcks(log, lose), commits, metadata, layout });
    second.start();
    await until("everything acknowledged", () => lose.count === 0 && second.lag === 0n && recorded.length === 2);
    await second.stop();
    expect(recorded).toHaveLength(2);
    expect(await committedRows(layout, recorded)).toEqual([
      [1, 10],
      [2, 20],
      [3, 30],
      [4, 40],
      [7, 70],
    ]);
    expect(await layout.logSequenceOf("p", "g", 1, commits.commits("p", "g", 1)[1]!.sequence)).toBe(more.sequence);

    const dead = await log.listDeadLetters("p", 10);
    expect(dead.map((d) => [d.originalSequence, d.reason])).toEqual([
      [expect.any(BigInt), 'feature group "nope" version 1 does not exist in project "p"'],
      [bad.sequence, "breaks validation rules with policy FAIL (rule amount_positive on amount: 1 values outside [0, inf])"],
    ]);
  }, 30_000);
});
