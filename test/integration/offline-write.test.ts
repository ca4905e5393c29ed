import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import * as arrow from "apache-arrow";
import { validationReportOf } from "@granary/client";
import { arrowPayloads, tableFromChunks } from "@granary/offline";
import { CommitKind, FilterOperator, type MetadataService, OnlineSyncState, ValidationPolicy, ValidationReportSchema } from "@granary/proto/metadata";
import { type OfflineService } from "@granary/proto/offline";
import { type OnlineService } from "@granary/proto/online";
import { ScalarType, ValueStatus } from "@granary/proto/types";
import { scratchDir, testKeys, waitFor, waitForServing, failure } from "@granary/testing";
import { startOfflineStack, type OfflineStack } from "./support/offline-stack.js";

const keys = testKeys();
const P = "shop";
const dir = scratchDir("offline-write");
let stack: OfflineStack;
let md: Client<typeof MetadataService>;
let off: Client<typeof OfflineService>;
let on: Client<typeof OnlineService>;

const T = (scalar: ScalarType, list = false) => ({ scalar, list });
const day = (d: number) => new Date(Date.UTC(2025, 0, d));
const ref = (name: string) => ({ name, version: 1 });

function insert(group: string, table: arrow.Table, bytes = 4096) {
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: ref(group) } } };
    for (const ipc of arrowPayloads(table, bytes)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return off.insert(requests());
}

function deleteKeys(group: string, table: arrow.Table) {
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: ref(group) } } };
    for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return off.deleteRows(requests());
}

const read = (group: string, extra: object = {}) => tableFromChunks(off.read({ project: P, featureGroup: ref(group), ...extra }));
const rows = (t: arrow.Table) =>
  t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === "bigint" ? Number(v) : v))) as Record<string, unknown>);
const byId = (t: arrow.Table, key = "user_id") => rows(t).sort((a, b) => Number(a[key]) - Number(b[key]));

function profiles(ids: number[], times: Date[], ages: (number | null)[], cities: (string | null)[]) {
  return new arrow.Table({
    user_id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
    event_time: arrow.vectorFromArray(
      times.map((d) => d.getTime()),
      new arrow.TimestampMillisecond(),
    ),
    age: arrow.vectorFromArray(ages, new arrow.Int32()),
    city: arrow.vectorFromArray(cities, new arrow.Utf8()),
  });
}

beforeAll(async () => {
  stack = await startOfflineStack({ name: "offline_write", dataDir: dir.path, keys });
  ({ md, on, off } = stack);
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "profiles",
      version: 1,
      onlineEnabled: true,
      primaryKey: ["user_id"],
      eventTime: "event_time",
      columns: [
        { name: "user_id", type: T(ScalarType.INT64) },
        { name: "event_time", type: T(ScalarType.TIMESTAMP) },
        { name: "age", type: T(ScalarType.INT32) },
        { name: "city", type: T(ScalarType.STRING) },
      ],
    },
  });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "orders",
      version: 1,
      primaryKey: ["order_id"],
      eventTime: "ts",
      columns: [
        { name: "order_id", type: T(ScalarType.STRING) },
        { name: "ts", type: T(ScalarType.TIMESTAMP) },
        { name: "amount", type: T(ScalarType.DOUBLE) },
        { name: "merchant", type: T(ScalarType.STRING) },
        { name: "embedding", type: T(ScalarType.FLOAT, true) },
      ],
      statisticsConfig: { enabled: true, histograms: true },
      validationRules: [
        { name: "merchant_known", column: "merchant", policy: ValidationPolicy.FAIL, rule: { case: "notNull", value: {} } },
        { name: "amount_sane", column: "amount", policy: ValidationPolicy.WARN, rule: { case: "between", value: { min: 0, max: 1000 } } },
      ],
    },
  });
  await md.createFeatureView({ featureView: { project: P, name: "profile_view", version: 1, query: { featureGroup: ref("profiles") } } });
  await Promise.all([waitForServing(stack.addresses.online, 20_000), waitForServing(stack.addresses.offline, 20_000)]);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  dir.remove();
}, 30_000);

describe("Insert and Read", () => {
  it("writes a commit, resolves duplicates in one insert (last wins), and reads it back", async () => {
    const res = await insert("profiles", profiles([1, 2, 3, 2], [day(1), day(1), day(2), day(1)], [30, 40, 50, 41], ["Oslo", null, "Rome", "Pisa"]));
    expect(res.commitId).toBe(1n);
    expect([res.rowsInserted, res.rowsUpdated]).toEqual([3n, 0n]);
    const t = await read("profiles");
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      "user_id:Int64",
      "event_time:Timestamp<MICROSECOND, UTC>",
      "age:Int32",
      "city:Utf8",
    ]);
    expect(byId(t)).toEqual([
      { user_id: 1, event_time: day(1).getTime(), age: 30, city: "Oslo" },
      { user_id: 2, event_time: day(1).getTime(), age: 41, city: "Pisa" },
      { user_id: 3, event_time: day(2).getTime(), age: 50, city: "Rome" },
    ]);
  });

  it("upserts by (key, event time): a later commit replaces an equal row, time travel sees the old one", async () => {
    const before = new Date();
    await new Promise((r) => setTimeout(r, 20));
    const res = await insert("profiles", profiles([1, 4], [day(1), day(3)], [31, 60], ["Bergen", "Nice"]));
    expect([res.commitId, res.rowsInserted, res.rowsUpdated]).toEqual([2n, 1n, 1n]);
    expect(byId(await read("profiles")).map((r) => [r.user_id, r.age])).toEqual([
      [1, 31],
      [2, 41],
      [3, 50],
      [4, 60],
    ]);
    expect(byId(await read("profiles", { asOf: { case: "asOfCommit", value: 1n } })).map((r) => [r.user_id, r.age])).toEqual([
      [1, 30],
      [2, 41],
      [3, 50],
    ]);
    expect(byId(await read("profiles", { asOf: { case: "asOfTime", value: timestampFromMs(before.getTime()) } })).map((r) => r.age)).toEqual([30, 41, 50]);
    expect((await read("profiles", { asOf: { case: "asOfTime", value: timestampFromMs(Date.UTC(2000, 0, 1)) } })).numRows).toBe(0);
  });

  it("reads chosen columns with a filter and a limit", async () => {
    const t = await read("profiles", {
      columns: ["city", "user_id"],
      filter: { kind: { case: "condition", value: { column: "age", operator: FilterOperator.GE, value: { kind: { case: "int32Value", value: 41 } } } } },
    });
    expect(t.schema.fields.map((f) => f.name)).toEqual(["city", "user_id"]);
    expect(byId(t).map((r) => r.city)).toEqual(["Pisa", "Rome", "Nice"]);
    expect((await read("profiles", { limit: 2n })).numRows).toBe(2);
  });

  it("returns the changes committed in an ingestion-time window", async () => {
    const { commits } = await md.listCommits({ project: P, featureGroup: ref("profiles") });
    const second = commits.find((c) => c.id === 2n)!;
    const t = await tableFromChunks(off.readChanges({ project: P, featureGroup: ref("profiles"), window: { start: second.ingestionTime } }));
    expect(rows(t).map((r) => [r.user_id, r.age, r._commit_id, r._deleted])).toEqual([
      [1, 31, 2, false],
      [4, 60, 2, false],
    ]);
  });

  it("pushes the rows of online-enabled groups to the online store, and marks the commit SYNCED", async () => {
    const { vectors } = await on.getFeatureVectors({
      project: P,
      featureView: ref("profile_view"),
      entities: { rowCount: 2, servingKeys: [{ name: "user_id", data: { values: { case: "int64s", value: { values: [1n, 4n] } } } }] },
    });
    const age = vectors!.columns.find((c) => c.name === "age")!;
    expect((age.values!.values.value as { values: number[] }).values).toEqual([31, 60]);
    await waitFor(async () => (await md.getCommit({ project: P, featureGroup: ref("profiles"), id: 2n })).commit?.onlineSyncState === OnlineSyncState.SYNCED, {
      timeoutMs: 5000,
      what: "commit 2 synced",
    });
  });

  it("accepts nanosecond timestamps and narrower integer types", async () => {
    const t = new arrow.Table({
      user_id: arrow.vectorFromArray([5], new arrow.Int32()),
      event_time: arrow.makeVector(
        arrow.makeData({
          type: new arrow.TimestampNanosecond(),
          length: 1,
          nullCount: 0,
          data: BigInt64Array.of(BigInt(day(4).getTime()) * 1_000_000n + 123_456n),
        }),
      ),
    });
    await insert("profiles", t);
    const row = byId(await read("profiles", { columns: ["user_id", "event_time", "age"] })).find((r) => r.user_id === 5)!;
    expect(row).toEqual({ user_id: 5, event_time: day(4).getTime() + 0.123, age: null });
  });
});

describe("DeleteRows", () => {
  it("removes every row of the keys from later reads and from the online store; time travel still sees them", async () => {
    const before = (await md.listCommits({ project: P, featureGroup: ref("profiles") })).commits.length;
    const res = await deleteKeys("profiles", new arrow.Table({ user_id: arrow.vectorFromArray([2n, 99n], new arrow.Int64()) }));
    expect(res.rowsDeleted).toBe(1n);
    expect(res.commitId).toBe(BigInt(before + 1));
    expect(byId(await read("profiles")).map((r) => r.user_id)).toEqual([1, 3, 4, 5]);
    expect(byId(await read("profiles", { asOf: { case: "asOfCommit", value: 2n } })).map((r) => r.user_id)).toEqual([1, 2, 3, 4]);
    const { vectors } = await on.getFeatureVectors({
      project: P,
      featureView: ref("profile_view"),
      entities: { rowCount: 1, servingKeys: [{ name: "user_id", data: { values: { case: "int64s", value: { values: [2n] } } } }] },
    });
    expect(vectors!.columns.find((c) => c.name === "age")!.statuses).toEqual([ValueStatus.NOT_FOUND]);
    const commit = (await md.getCommit({ project: P, featureGroup: ref("profiles"), id: res.commitId })).commit!;
    expect(commit.kind).toBe(CommitKind.DELETE);
    // A key inserted again after its deletion is visible again.
    await insert("profiles", profiles([2], [day(5)], [42], ["Lund"]));
    expect(byId(await read("profiles")).map((r) => r.user_id)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe("appended columns", () => {
  it("reads rows written before a column was appended as its default, later rows as written", async () => {
    await md.appendFeatures({
      project: P,
      name: "profiles",
      version: 1,
      columns: [{ name: "tier", type: T(ScalarType.STRING), defaultValue: { kind: { case: "stringValue", value: "basic" } } }],
    });
    await waitFor(async () => (await read("profiles")).schema.fields.some((f) => f.name === "tier"), { timeoutMs: 5000, what: "the appended column" });
    expect(byId(await read("profiles", { columns: ["user_id", "tier"] })).map((r) => r.tier)).toEqual(["basic", "basic", "basic", "basic", "basic"]);
    const t = new arrow.Table({
      user_id: arrow.vectorFromArray([9n], new arrow.Int64()),
      event_time: arrow.vectorFromArray([day(9).getTime()], new arrow.TimestampMillisecond()),
      tier: arrow.vectorFromArray(["gold"], new arrow.Utf8()),
    });
    await insert("profiles", t);
    expect(byId(await read("profiles", { columns: ["user_id", "tier"] })).map((r) => r.tier)).toEqual(["basic", "basic", "basic", "basic", "basic", "gold"]);
  });
});

describe("schema checks", () => {
  it("rejects unknown, missing and mistyped columns with INVALID_ARGUMENT and writes nothing", async () => {
    const before = (await md.listCommits({ project: P, featureGroup: ref("profiles") })).commits.length;
    const unknown = await failure(
      insert(
        "profiles",
        new arrow.Table({
          user_id: arrow.vectorFromArray([1n], new arrow.Int64()),
          event_time: arrow.vectorFromArray([0], new arrow.TimestampMillisecond()),
          shoe_size: arrow.vectorFromArray([42], new arrow.Int32()),
        }),
      ),
    );
    expect(Code[unknown.code]).toBe("InvalidArgument");
    expect(unknown.rawMessage).toContain('"shoe_size"');
    const missing = await failure(insert("profiles", new arrow.Table({ user_id: arrow.vectorFromArray([1n], new arrow.Int64()) })));
    expect(Code[missing.code]).toBe("InvalidArgument");
    expect(missing.rawMessage).toContain('"event_time" is missing');
    const typed = await failure(
      insert(
        "profiles",
        new arrow.Table({ user_id: arrow.vectorFromArray(["1"], new arrow.Utf8()), event_time: arrow.vectorFromArray([0], new arrow.TimestampMillisecond()) }),
      ),
    );
    expect(Code[typed.code]).toBe("InvalidArgument");
    expect(typed.rawMessage).toContain('"user_id" is Utf8 but must be int64');
    const nullKey = await failure(
      insert(
        "profiles",
        new arrow.Table({
          user_id: arrow.vectorFromArray([1n, null], new arrow.Int64()),
          event_time: arrow.vectorFromArray([0, 0], new arrow.TimestampMillisecond()),
        }),
      ),
    );
    expect(Code[nullKey.code]).toBe("InvalidArgument");
    const garbage = await failure(
      off.insert(
        (async function* () {
          yield { message: { case: "header" as const, value: { project: P, featureGroup: ref("profiles") } } };
          yield { message: { case: "chunk" as const, value: { ipc: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]) } } };
        })(),
      ),
    );
    expect(Code[garbage.code]).toBe("InvalidArgument");
    const nope = await failure(insert("nope", profiles([1], [day(1)], [1], ["x"])));
    expect(Code[nope.code]).toBe("NotFound");
    expect((await md.listCommits({ project: P, featureGroup: ref("profiles") })).commits.length).toBe(before);
  });
});

describe("validation rules and statistics", () => {
  const orders = (ids: string[], amounts: number[], merchants: (string | null)[]) =>
    new arrow.Table({
      order_id: arrow.vectorFromArray(ids, new arrow.Utf8()),
      ts: arrow.vectorFromArray(
        ids.map((_, i) => day(1).getTime() + i),
        new arrow.TimestampMillisecond(),
      ),
      amount: arrow.vectorFromArray(amounts, new arrow.Float64()),
      merchant: arrow.vectorFromArray(merchants, new arrow.Utf8()),
      embedding: arrow.vectorFromArray(
        ids.map((_, i) => [i, i + 0.5]),
        new arrow.List(new arrow.Field("item", new arrow.Float32(), true)),
      ),
    });

  it("rejects an insert breaking a FAIL rule with FAILED_PRECONDITION, the report in the standard error details and stored", async () => {
    const err = await failure(insert("orders", orders(["a", "b"], [1, 2], ["m1", null])));
    expect(Code[err.code]).toBe("FailedPrecondition");
    expect(err.rawMessage).toContain("merchant_known");
    // google.rpc.Status in grpc-status-details-bin: what connect-es, grpcio (rpc_status) and grpc-go read.
    const [report] = err.findDetails(ValidationReportSchema);
    if (!report) throw new Error("no ValidationReport in the error details");
    expect(validationReportOf(err)?.id).toBe(report.id);
    expect(report.ingested).toBe(false);
    expect(report.results.find((r) => r.rule === "merchant_known")?.unexpectedCount).toBe(1n);
    const { reports } = await md.listValidationReports({ project: P, featureGroup: ref("orders") });
    expect(reports[0]?.id).toBe(report.id);
    expect((await read("orders")).numRows).toBe(0);
  });

  it("writes an insert breaking only WARN rules, with the report; stores the commit's statistics", async () => {
    const res = await insert("orders", orders(["a", "b", "c"], [10, 5000, 30], ["m1", "m2", "m1"]));
    expect(res.validationReport?.success).toBe(false);
    expect(res.validationReport?.ingested).toBe(true);
    const warn = res.validationReport!.results.find((r) => r.rule === "amount_sane")!;
    expect([warn.success, warn.unexpectedCount, warn.unexpectedExamples[0]?.kind.value]).toEqual([false, 1n, "5000.0"]);
    const commit = (await md.getCommit({ project: P, featureGroup: ref("orders"), id: res.commitId })).commit!;
    expect(commit.validationReportId).toBe(res.validationReport!.id);
    const t = await read("orders");
    expect(
      rows(t)
        .map((r) => r.embedding)
        .sort(),
    ).toEqual([
      [0, 0.5],
      [1, 1.5],
      [2, 2.5],
    ]);
    const stats = await md.getStatistics({ project: P, subject: { kind: { case: "commit", value: { featureGroup: ref("orders"), commitId: res.commitId } } } });
    const amount = stats.statistics!.columns.find((c) => c.column === "amount")!;
    expect([amount.count, amount.min, amount.max, amount.p50]).toEqual([3n, 10, 5000, 30]);
    expect(amount.histogram.reduce((s, b) => s + b.count, 0n)).toBe(3n);
    const merchant = stats.statistics!.columns.find((c) => c.column === "merchant")!;
    expect(merchant.categories).toEqual(["m1", "m2"]);
    expect(merchant.topValues[0]).toMatchObject({ value: "m1", count: 2n });
    void create;
  });
});
