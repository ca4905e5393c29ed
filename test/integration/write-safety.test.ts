import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import * as arrow from "apache-arrow";
import { arrowPayloads, tableFromChunks } from "@granary/offline";
import { type MetadataService, TrainingDatasetStatus, TransformationFunction, ValidationPolicy } from "@granary/proto/metadata";
import { type OfflineService, type TrainingDataQuery } from "@granary/proto/offline";
import { type OnlineService } from "@granary/proto/online";
import { ScalarType, type ColumnData } from "@granary/proto/types";
import { scratchDir, testKeys, waitForServing, failure } from "@granary/testing";
import { startOfflineStack, type OfflineStack } from "./support/offline-stack.js";

// "No silent corruption": ±Infinity and NaN are stored on every write path and kept out of
// statistics; regex rules DuckDB's RE2 cannot run are refused at creation; an insert's Arrow
// stream is one stream ending with its end-of-stream marker.

const keys = testKeys();
const P = "safety";
const dir = scratchDir("write-safety");
const GROUP = { name: "measures", version: 1 };
const VIEW = { name: "measures_view", version: 1 };

let stack: OfflineStack;
let md: Client<typeof MetadataService>;
let off: Client<typeof OfflineService>;
let on: Client<typeof OnlineService>;

const T = (scalar: ScalarType) => ({ scalar });
const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;
const f64 = (values: number[]): ColumnData => ({ values: { case: "doubles", value: { values } } }) as ColumnData;
const f32 = (values: number[]): ColumnData => ({ values: { case: "floats", value: { values } } }) as ColumnData;
const tsCol = (values: bigint[]): ColumnData => ({ values: { case: "timestamps", value: { values } } }) as ColumnData;
const DAY_MS = 86_400_000;
const BASE_MS = Date.UTC(2024, 0, 1);

function measures(ids: number[], v: number[], r: number[]) {
  return new arrow.Table({
    id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
    ts: arrow.vectorFromArray(
      ids.map((i) => BASE_MS + i * DAY_MS),
      new arrow.TimestampMillisecond(),
    ),
    v: arrow.vectorFromArray(v, new arrow.Float64()),
    r: arrow.vectorFromArray(r, new arrow.Float32()),
  });
}

function insertChunks(chunks: Uint8Array[]) {
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: GROUP } } };
    for (const ipc of chunks) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return off.insert(requests());
}

async function* query(q: object) {
  yield { message: { case: "query" as const, value: { project: P, featureView: VIEW, ...q } as TrainingDataQuery } };
}

async function lookup(id: bigint) {
  const { vectors } = await on.getFeatureVectors({ project: P, featureView: VIEW, entities: { rowCount: 1, servingKeys: [{ name: "id", data: i64([id]) }] } });
  return (name: string) => (vectors!.columns.find((x) => x.name === name)!.values?.values.value as { values: number[] }).values[0];
}

const rowCount = async () => (await off.computeStatistics({ project: P, featureGroup: GROUP })).statistics!.rowCount;

beforeAll(async () => {
  stack = await startOfflineStack({ name: "write_safety", dataDir: dir.path, keys });
  ({ md, on, off } = stack);
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      ...GROUP,
      onlineEnabled: true,
      primaryKey: ["id"],
      eventTime: "ts",
      columns: [
        { name: "id", type: T(ScalarType.INT64) },
        { name: "ts", type: T(ScalarType.TIMESTAMP) },
        { name: "v", type: T(ScalarType.DOUBLE) },
        { name: "r", type: T(ScalarType.FLOAT) },
      ],
    },
  });
  await md.createFeatureView({
    featureView: { project: P, ...VIEW, query: { featureGroup: GROUP }, transformations: [{ column: "v", function: TransformationFunction.STANDARD_SCALER }] },
  });
  await Promise.all([waitForServing(stack.addresses.online, 20_000), waitForServing(stack.addresses.offline, 20_000)]);
  for (let i = 0; i < 200; i++) {
    const ok = await Promise.all([lookup(0n), rowCount()]).then(
      () => true,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  dir.remove();
}, 30_000);

describe("±Infinity and NaN in float and double columns", () => {
  it("are stored by offline Insert and left out of the group's statistics", async () => {
    await insertChunks([...arrowPayloads(measures([1, 2, 3, 4, 5], [1, 3, Infinity, -Infinity, NaN], [2, 4, NaN, Infinity, -Infinity]))]);
    const { statistics } = await off.computeStatistics({ project: P, featureGroup: GROUP });
    const v = statistics!.columns.find((c) => c.column === "v")!;
    expect(v.count).toBe(5n);
    expect([v.min, v.max, v.mean, v.stddev]).toEqual([1, 3, 2, 1]);
    const r = statistics!.columns.find((c) => c.column === "r")!;
    expect([r.min, r.max, r.mean]).toEqual([2, 4, 3]);
  });

  it("let a training dataset be created, its scaler fitted on the finite values", async () => {
    const { trainingDataset: ds } = await off.createTrainingDataset(query({}));
    expect(ds!.status).toBe(TrainingDatasetStatus.READY);
    const v = ds!.statistics.find((s) => s.column === "v")!;
    expect([v.mean, v.stddev]).toEqual([2, 1]);
    const rows = (await tableFromChunks(off.getTrainingData(query({})))).toArray().map((row) => row.toJSON() as { id: bigint; v: number });
    const scaled = new Map(rows.map((row) => [Number(row.id), row.v]));
    expect([1, 2, 3, 4].map((id) => scaled.get(id))).toEqual([-1, 1, Infinity, -Infinity]);
    expect(scaled.get(5)).toBeNaN();
  });

  it("are stored by online WriteRows, as Arrow and as columns", async () => {
    const now = BigInt(Date.now()) * 1000n;
    const ipc = arrow.tableToIPC(
      new arrow.Table({
        id: arrow.vectorFromArray([101n], new arrow.Int64()),
        ts: arrow.vectorFromArray([Date.now()], new arrow.TimestampMillisecond()),
        v: arrow.vectorFromArray([Infinity], new arrow.Float64()),
        r: arrow.vectorFromArray([NaN], new arrow.Float32()),
      }),
      "stream",
    );
    await on.writeRows({ project: P, featureGroup: GROUP, rows: { case: "arrowIpc", value: ipc } });
    await on.writeRows({
      project: P,
      featureGroup: GROUP,
      rows: {
        case: "columns",
        value: {
          rowCount: 1,
          columns: [
            { name: "id", data: i64([102n]) },
            { name: "ts", data: tsCol([now]) },
            { name: "v", data: f64([NaN]) },
            { name: "r", data: f32([-Infinity]) },
          ],
        },
      },
    });
    const a = await lookup(101n);
    expect(a("v")).toBe(Infinity);
    expect(a("r")).toBeNaN();
    const b = await lookup(102n);
    expect(b("v")).toBeNaN();
    expect(b("r")).toBe(-Infinity);
  });
});

describe("regex validation rules", () => {
  const group = (name: string, pattern: string) => ({
    featureGroup: {
      project: P,
      name,
      version: 1,
      primaryKey: ["id"],
      eventTime: "ts",
      columns: [
        { name: "id", type: T(ScalarType.INT64) },
        { name: "ts", type: T(ScalarType.TIMESTAMP) },
        { name: "s", type: T(ScalarType.STRING) },
      ],
      validationRules: [{ name: "shape", column: "s", policy: ValidationPolicy.FAIL, rule: { case: "regexMatch" as const, value: { pattern } } }],
    },
  });

  it.each([
    ["lookahead", "^(?=a)\\w+$", "(?="],
    ["lookbehind", "(?<!x)y", "(?<"],
    ["a back-reference", "(a)\\1", "\\1"],
    ["a possessive quantifier", "a++", "++"],
    ["an atomic group", "(?>a)", "(?>"],
  ])("refuses %s at CreateFeatureGroup, naming the rule and the construct", async (_, pattern, construct) => {
    const err = await failure(md.createFeatureGroup(group(`re_${construct.charCodeAt(1)}_${pattern.length}`, pattern)));
    expect(Code[err.code]).toBe("InvalidArgument");
    expect(err.rawMessage).toContain(`rule "shape"`);
    expect(err.rawMessage).toContain(construct);
  });

  it("accepts RE2 syntax JavaScript lacks, such as inline flags", async () => {
    await md.createFeatureGroup(group("re_ok", "(?i)^[a-z]+$"));
  });
});

describe("an insert's Arrow stream", () => {
  it("refuses a second stream appended after the end-of-stream marker, writing nothing", async () => {
    const before = await rowCount();
    const err = await failure(insertChunks([...arrowPayloads(measures([11], [1], [1])), ...arrowPayloads(measures([12], [2], [2]))]));
    expect(Code[err.code]).toBe("InvalidArgument");
    expect(err.rawMessage).toContain("end-of-stream marker");
    expect(await rowCount()).toBe(before);
  });

  it("refuses a second stream appended in the same chunk", async () => {
    const one = arrow.tableToIPC(measures([13], [1], [1]), "stream");
    const two = arrow.tableToIPC(measures([14], [1], [1]), "stream");
    const both = new Uint8Array(one.byteLength + two.byteLength);
    both.set(one);
    both.set(two, one.byteLength);
    expect(Code[(await failure(insertChunks([both]))).code]).toBe("InvalidArgument");
  });

  it("refuses a stream without its end-of-stream marker", async () => {
    const before = await rowCount();
    const ipc = arrow.tableToIPC(measures([15], [1], [1]), "stream");
    const err = await failure(insertChunks([ipc.subarray(0, ipc.byteLength - 8)]));
    expect(Code[err.code]).toBe("InvalidArgument");
    expect(err.rawMessage).toContain("end-of-stream marker");
    expect(await rowCount()).toBe(before);
  });
});
