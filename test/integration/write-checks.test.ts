import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import * as arrow from "apache-arrow";
import { arrowPayloads, tableFromChunks } from "@granary/offline";
import { type MetadataService } from "@granary/proto/metadata";
import { type OfflineService } from "@granary/proto/offline";
import { type OnlineService } from "@granary/proto/online";
import { ScalarType, ValueStatus, type ColumnData } from "@granary/proto/types";
import { scratchDir, testKeys, waitForServing, failure } from "@granary/testing";
import { startOfflineStack, type OfflineStack } from "./support/offline-stack.js";

// "No silent corruption": every write path (online WriteRows as Arrow or columns, offline Insert)
// refuses mistyped Arrow columns and event times out of bounds, and writes nothing when it does.

const keys = testKeys();
const P = "checks";
const dir = scratchDir("write-checks");
const INT64_MAX = 9_223_372_036_854_775_807n;
/** 0000-01-01T00:00:00Z: year 0, one year before the earliest accepted event time. */
const YEAR_0_MICROS = -62_167_219_200_000_000n;
const HOUR_MICROS = 3_600_000_000n;
const nowMicros = () => BigInt(Date.now()) * 1000n;

let stack: OfflineStack;
let md: Client<typeof MetadataService>;
let off: Client<typeof OfflineService>;
let on: Client<typeof OnlineService>;

const T = (scalar: ScalarType) => ({ scalar });
const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;
const f64 = (values: number[]): ColumnData => ({ values: { case: "doubles", value: { values } } }) as ColumnData;
const str = (values: string[]): ColumnData => ({ values: { case: "strings", value: { values } } }) as ColumnData;
const tsMicros = (values: bigint[]): ColumnData => ({ values: { case: "timestamps", value: { values } } }) as ColumnData;

const micros = (values: bigint[]) =>
  arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMicrosecond(), length: values.length, nullCount: 0, data: BigInt64Array.from(values) }));
const ids = (values: bigint[]) => arrow.vectorFromArray(values, new arrow.Int64());

function writeArrow(columns: Record<string, arrow.Vector>) {
  const ipc = arrow.tableToIPC(new arrow.Table(columns), "stream");
  return on.writeRows({ project: P, featureGroup: { name: "typed", version: 1 }, rows: { case: "arrowIpc", value: ipc } });
}

function writeColumns(rowCount: number, columns: { name: string; data: ColumnData }[]) {
  return on.writeRows({ project: P, featureGroup: { name: "typed", version: 1 }, rows: { case: "columns", value: { rowCount, columns } } });
}

async function lookup(id: bigint) {
  const { vectors } = await on.getFeatureVectors({
    project: P,
    featureView: { name: "typed_view", version: 1 },
    entities: { rowCount: 1, servingKeys: [{ name: "id", data: i64([id]) }] },
  });
  const column = (name: string) => {
    const c = vectors!.columns.find((x) => x.name === name)!;
    return { value: (c.values?.values.value as { values: unknown[] }).values[0], status: ValueStatus[c.statuses[0]!] };
  };
  return column;
}

function insert(table: arrow.Table) {
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: { name: "events", version: 1 } } } };
    for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return off.insert(requests());
}

async function invalid(call: Promise<unknown>, ...mentions: string[]): Promise<void> {
  const err = await failure(call);
  expect(Code[err.code]).toBe("InvalidArgument");
  for (const m of mentions) expect(err.rawMessage).toContain(m);
}

beforeAll(async () => {
  stack = await startOfflineStack({ name: "write_checks", dataDir: dir.path, keys });
  ({ md, on, off } = stack);
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "typed",
      version: 1,
      onlineEnabled: true,
      primaryKey: ["id"],
      eventTime: "event_time",
      columns: [
        { name: "id", type: T(ScalarType.INT64) },
        { name: "event_time", type: T(ScalarType.TIMESTAMP) },
        { name: "flag", type: T(ScalarType.BOOL) },
        { name: "n32", type: T(ScalarType.INT32) },
        { name: "n64", type: T(ScalarType.INT64) },
        { name: "ratio", type: T(ScalarType.FLOAT) },
      ],
    },
  });
  await md.createFeatureView({ featureView: { project: P, name: "typed_view", version: 1, query: { featureGroup: { name: "typed", version: 1 } } } });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "events",
      version: 1,
      primaryKey: ["id"],
      eventTime: "ts",
      columns: [
        { name: "id", type: T(ScalarType.INT64) },
        { name: "ts", type: T(ScalarType.TIMESTAMP) },
        { name: "v", type: T(ScalarType.DOUBLE) },
      ],
    },
  });
  await Promise.all([waitForServing(stack.addresses.online, 20_000), waitForServing(stack.addresses.offline, 20_000)]);
  // The online service learns of groups and views from the catalogue; wait until it serves the view.
  for (let i = 0; i < 200; i++) {
    const ok = await lookup(0n).then(
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

describe("online WriteRows with Arrow data checks types as offline Insert does", () => {
  it("refuses Utf8 into a bool column, naming the column and both types, and writes nothing", async () => {
    await invalid(
      writeArrow({ id: ids([1n]), event_time: micros([nowMicros()]), flag: arrow.vectorFromArray(["false"], new arrow.Utf8()) }),
      `"flag"`,
      "Utf8",
      "bool",
    );
    expect((await lookup(1n))("flag").status).toBe("NOT_FOUND");
  });

  it("refuses Float64 into an int32 column", async () => {
    await invalid(
      writeArrow({ id: ids([2n]), event_time: micros([nowMicros()]), n32: arrow.vectorFromArray([1.7], new arrow.Float64()) }),
      `"n32"`,
      "Float64",
      "int32",
    );
    expect((await lookup(2n))("n32").status).toBe("NOT_FOUND");
  });

  it("refuses Utf8 into an int64 column", async () => {
    await invalid(
      writeArrow({ id: ids([3n]), event_time: micros([nowMicros()]), n64: arrow.vectorFromArray(["123"], new arrow.Utf8()) }),
      `"n64"`,
      "Utf8",
      "int64",
    );
    expect((await lookup(3n))("n64").status).toBe("NOT_FOUND");
  });

  it("refuses Float64 into a float column, as offline does (it would round)", async () => {
    await invalid(
      writeArrow({ id: ids([5n]), event_time: micros([nowMicros()]), ratio: arrow.vectorFromArray([0.1], new arrow.Float64()) }),
      `"ratio"`,
      "Float64",
      "float",
    );
  });

  it("accepts lossless widening, exactly (Int32 into int64, nanosecond timestamps)", async () => {
    const t = nowMicros();
    const ns = arrow.makeVector(
      arrow.makeData({ type: new arrow.TimestampNanosecond(), length: 1, nullCount: 0, data: BigInt64Array.from([t * 1000n + 999n]) }),
    );
    await writeArrow({
      id: ids([4n]),
      event_time: ns,
      n64: arrow.vectorFromArray([-7], new arrow.Int32()),
      flag: arrow.vectorFromArray([false], new arrow.Bool()),
    });
    const read = await lookup(4n);
    expect(read("n64")).toEqual({ value: -7n, status: "PRESENT" });
    expect(read("flag")).toEqual({ value: false, status: "PRESENT" });
    expect(read("event_time").value).toBe(t);
  });
});

describe("online WriteRows with columns refuses a ColumnData case that does not fit the column", () => {
  it("refuses strings into bool and int64, doubles into int32 and float", async () => {
    const base = [
      { name: "id", data: i64([6n]) },
      { name: "event_time", data: tsMicros([nowMicros()]) },
    ];
    await invalid(writeColumns(1, [...base, { name: "flag", data: str(["false"]) }]), `"flag"`);
    await invalid(writeColumns(1, [...base, { name: "n64", data: str(["123"]) }]), `"n64"`);
    await invalid(writeColumns(1, [...base, { name: "n32", data: f64([1.7]) }]), `"n32"`);
    await invalid(writeColumns(1, [...base, { name: "ratio", data: f64([0.1]) }]), `"ratio"`);
    expect((await lookup(6n))("flag").status).toBe("NOT_FOUND");
  });
});

describe("event times out of bounds are refused on every write path", () => {
  it("online, Arrow: int64-max and year 0 are refused naming column, row and value; the key is not pinned", async () => {
    await invalid(writeArrow({ id: ids([10n, 11n]), event_time: micros([nowMicros(), INT64_MAX]) }), `"event_time"`, "row 1", String(INT64_MAX));
    await invalid(writeArrow({ id: ids([12n]), event_time: micros([YEAR_0_MICROS]) }), `"event_time"`, "row 0", String(YEAR_0_MICROS));
    for (const id of [10n, 11n, 12n]) expect((await lookup(id))("event_time").status).toBe("NOT_FOUND");
    await writeArrow({ id: ids([11n]), event_time: micros([nowMicros()]), n64: ids([1n]) });
    expect((await lookup(11n))("n64")).toEqual({ value: 1n, status: "PRESENT" });
  });

  it("online, columns: int64-max, year 0 and two days ahead are refused; an hour ahead is accepted", async () => {
    const at = (id: bigint, t: bigint) =>
      writeColumns(1, [
        { name: "id", data: i64([id]) },
        { name: "event_time", data: tsMicros([t]) },
        { name: "n64", data: i64([id]) },
      ]);
    await invalid(at(20n, INT64_MAX), `"event_time"`, "row 0", String(INT64_MAX));
    await invalid(at(20n, YEAR_0_MICROS), `"event_time"`, "row 0", String(YEAR_0_MICROS));
    await invalid(at(20n, nowMicros() + 48n * HOUR_MICROS), `"event_time"`, "GRANARY_MAX_FUTURE_EVENT_TIME_S");
    expect((await lookup(20n))("n64").status).toBe("NOT_FOUND");
    await at(21n, nowMicros() + HOUR_MICROS);
    expect((await lookup(21n))("n64")).toEqual({ value: 21n, status: "PRESENT" });
  });

  it("offline Insert: int64-max (µs and ns) and year 0 are refused with nothing written; an hour ahead is accepted", async () => {
    const events = (idList: bigint[], ts: arrow.Vector) =>
      new arrow.Table({ id: ids(idList), ts, v: arrow.vectorFromArray(idList.map(Number), new arrow.Float64()) });
    const now = nowMicros();
    await invalid(insert(events([1n, 2n], micros([now, INT64_MAX]))), `"ts"`, "row 1", String(INT64_MAX));
    const ns = arrow.makeVector(arrow.makeData({ type: new arrow.TimestampNanosecond(), length: 1, nullCount: 0, data: BigInt64Array.from([INT64_MAX]) }));
    await invalid(insert(events([3n], ns)), `"ts"`, "row 0");
    await invalid(insert(events([4n], micros([YEAR_0_MICROS]))), `"ts"`, "row 0", String(YEAR_0_MICROS));
    await invalid(insert(events([5n], micros([now + 48n * HOUR_MICROS]))), `"ts"`, "GRANARY_MAX_FUTURE_EVENT_TIME_S");
    await insert(events([6n], micros([now + HOUR_MICROS])));
    const table = await tableFromChunks(off.read({ project: P, featureGroup: { name: "events", version: 1 } }));
    expect(table.toArray().map((r) => Number(r.id))).toEqual([6]);
  });
});
