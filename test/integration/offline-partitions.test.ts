import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { metrics } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import * as arrow from "apache-arrow";
import { arrowPayloads, tableFromChunks } from "@granary/offline";
import { FilterOperator, SelectionMode, type MetadataService } from "@granary/proto/metadata";
import type { OfflineService, TrainingDataQuery } from "@granary/proto/offline";
import { ScalarType } from "@granary/proto/types";
import { failure, scratchDir, testKeys, waitFor, waitForServing } from "@granary/testing";
import { startOfflineStack, type OfflineStack } from "./support/offline-stack.js";

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const keys = testKeys();
const P = "shop";
const dir = scratchDir("offline-partitions");
const root = join(dir.path, "offline");
const reader = new TestReader();
let stack: OfflineStack;
let md: Client<typeof MetadataService>;
let off: Client<typeof OfflineService>;

const T = (scalar: ScalarType) => ({ scalar });
const ref = (name: string) => ({ name, version: 1 });
const DAY_MS = 86_400_000;
const day = (d: number) => Date.UTC(2025, 0, d);

function insert(group: string, table: arrow.Table) {
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: ref(group) } } };
    for (const ipc of arrowPayloads(table, 4096)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return off.insert(requests());
}

const read = (group: string, extra: object = {}) => tableFromChunks(off.read({ project: P, featureGroup: ref(group), ...extra }));
const rows = (t: arrow.Table) =>
  t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === "bigint" ? Number(v) : v))) as Record<string, unknown>);
const byId = (t: arrow.Table, key: string) => rows(t).sort((a, b) => Number(a[key]) - Number(b[key]));

async function* trainingQuery(query: object) {
  yield { message: { case: "query" as const, value: query as TrainingDataQuery } };
}
const trainingData = (query: object) => tableFromChunks(off.getTrainingData(trainingQuery(query)));

// Filters as the Read request carries them.
const str = (value: string) => ({ kind: { case: "stringValue" as const, value } });
const date = (ms: number) => ({ kind: { case: "dateValue" as const, value: ms / DAY_MS } });
const cond = (column: string, operator: FilterOperator, value?: object, values: object[] = []) => ({
  kind: { case: "condition" as const, value: { column, operator, value, values } },
});
const and = (...filters: object[]) => ({ kind: { case: "and" as const, value: { filters } } });

function sales(ids: number[], days: number[], regions: (string | null)[]) {
  return new arrow.Table({
    sale_id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
    day: arrow.vectorFromArray(
      days.map((d) => new Date(d)),
      new arrow.DateDay(),
    ),
    region: arrow.vectorFromArray(regions, new arrow.Utf8()),
    amount: arrow.vectorFromArray(
      ids.map((i) => i * 1.5),
      new arrow.Float64(),
    ),
    label: arrow.vectorFromArray(
      ids.map((i) => i % 2 === 0),
      new arrow.Bool(),
    ),
  });
}

/** Every file under the data root, relative to it. */
function filesOnDisk(): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(relative(root, full));
    }
  };
  walk(root);
  return out.sort();
}

async function commitFiles(group: string): Promise<string[]> {
  const { commits } = await md.listCommits({ project: P, featureGroup: ref(group), pageSize: 1000 });
  return commits.flatMap((c) => c.files);
}

/** The read_files and read_files_pruned counters of a group so far. */
async function readFiles(group: string): Promise<{ scanned: number; pruned: number }> {
  const { resourceMetrics } = await reader.collect();
  const sum = (name: string) =>
    resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .filter((m) => m.descriptor.name === name)
      .flatMap((m) => m.dataPoints as { attributes: Record<string, unknown>; value: unknown }[])
      .filter((d) => d.attributes["feature_group"] === group)
      .reduce((n, d) => n + Number(d.value), 0);
  return { scanned: sum("granary.offline.read_files"), pruned: sum("granary.offline.read_files_pruned") };
}

/** What a read scanned and pruned, measured around it. */
async function counted<T>(group: string, call: () => Promise<T>): Promise<{ result: T; scanned: number; pruned: number }> {
  const before = await readFiles(group);
  const result = await call();
  const after = await readFiles(group);
  return { result, scanned: after.scanned - before.scanned, pruned: after.pruned - before.pruned };
}

const firstIds = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const first = sales(
  firstIds,
  firstIds.map((i) => day(1 + Math.floor((i - 1) / 3))),
  firstIds.map((i) => ["eu", "us", "ap"][(i - 1) % 3]!),
);
const second = sales([10, 11, 12], [day(4), day(4), day(4)], ["eu", "us", null]);

const LONG = "é/".repeat(60);
const HOSTILE = ["1", "2", "NULL", "null", null, "../../escape", "a/b", "%", "x=y", "", "__HIVE_DEFAULT_PARTITION__", "é*?[]{}\\", "..", LONG];

beforeAll(async () => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  stack = await startOfflineStack({ name: "offline_partitions", dataDir: dir.path, keys });
  ({ md, off } = stack);
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "sales",
      version: 1,
      primaryKey: ["sale_id"],
      eventTime: "day",
      partitionKey: ["day", "region"],
      columns: [
        { name: "sale_id", type: T(ScalarType.INT64) },
        { name: "day", type: T(ScalarType.DATE) },
        { name: "region", type: T(ScalarType.STRING) },
        { name: "amount", type: T(ScalarType.DOUBLE) },
        { name: "label", type: T(ScalarType.BOOL) },
      ],
    },
  });
  // The same as sales, for compaction (the last test of sales damages a file).
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "sales_compacted",
      version: 1,
      primaryKey: ["sale_id"],
      eventTime: "day",
      partitionKey: ["day", "region"],
      columns: [
        { name: "sale_id", type: T(ScalarType.INT64) },
        { name: "day", type: T(ScalarType.DATE) },
        { name: "region", type: T(ScalarType.STRING) },
        { name: "amount", type: T(ScalarType.DOUBLE) },
        { name: "label", type: T(ScalarType.BOOL) },
      ],
    },
  });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "tagged",
      version: 1,
      primaryKey: ["id"],
      partitionKey: ["tag"],
      columns: [
        { name: "id", type: T(ScalarType.INT64) },
        { name: "tag", type: T(ScalarType.STRING) },
        { name: "flag", type: T(ScalarType.BOOL) },
      ],
    },
  });
  await md.createFeatureView({
    featureView: {
      project: P,
      name: "sales_view",
      version: 1,
      labels: ["label"],
      query: { featureGroup: ref("sales"), selection: { mode: SelectionMode.INCLUDE, columns: ["region", "amount", "label"] } },
    },
  });
  await waitForServing(stack.addresses.offline, 20_000);
  await waitFor(
    async () =>
      await read("tagged").then(
        () => true,
        () => false,
      ),
    { timeoutMs: 10_000, what: "groups visible offline" },
  );
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  metrics.disable();
  dir.remove();
}, 30_000);

describe("a partitioned group", () => {
  it("writes each insert under <col>=<value>/ directories, lists every file in the commit, and reads back the rows", async () => {
    expect((await insert("sales", first)).rowsInserted).toBe(9n);
    expect((await insert("sales", second)).rowsInserted).toBe(3n);

    const recorded = await commitFiles("sales");
    const data = recorded.filter((f) => !f.endsWith("/schema.parquet"));
    expect(data).toHaveLength(12);
    for (const f of data) expect(f).toMatch(/^shop\/sales\/v1\/\d{20}\/day=2025-01-0\d\/region=(eu|us|ap|NULL)\/part-00000\.parquet$/);
    expect(recorded.filter((f) => f.endsWith("/schema.parquet"))).toHaveLength(2);
    expect(data).toContain(data.find((f) => /day=2025-01-04\/region=NULL\//.test(f)));
    // The disk holds exactly the recorded files (nothing left in temporary directories).
    expect(filesOnDisk().filter((f) => f.startsWith("shop/sales/"))).toEqual([...recorded].sort());
    for (const f of recorded) expect(statSync(join(root, f)).size).toBeGreaterThan(0);

    const t = await read("sales");
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      "sale_id:Int64",
      "day:Date32<DAY>",
      "region:Utf8",
      "amount:Float64",
      "label:Bool",
    ]);
    expect(byId(t, "sale_id")).toEqual([...rows(first), ...rows(second)]);
  });

  it("reads only the partitions a filter on partition columns can match", async () => {
    const filter = and(cond("region", FilterOperator.EQ, str("eu")), cond("day", FilterOperator.GE, date(day(2))));
    const { result, scanned, pruned } = await counted("sales", () => read("sales", { filter }));
    expect(byId(result, "sale_id").map((r) => r["sale_id"])).toEqual([4, 7, 10]);
    expect({ scanned, pruned }).toEqual({ scanned: 3, pruned: 9 });

    const nulls = await counted("sales", () => read("sales", { filter: cond("region", FilterOperator.IS_NULL) }));
    expect(byId(nulls.result, "sale_id").map((r) => r["sale_id"])).toEqual([12]);
    expect({ scanned: nulls.scanned, pruned: nulls.pruned }).toEqual({ scanned: 1, pruned: 11 });

    const amounts = await counted("sales", () => read("sales", { filter: cond("amount", FilterOperator.GT, { kind: { case: "doubleValue", value: 15 } }) }));
    expect(byId(amounts.result, "sale_id").map((r) => r["sale_id"])).toEqual([11, 12]);
    expect({ scanned: amounts.scanned, pruned: amounts.pruned }).toEqual({ scanned: 12, pruned: 0 });
  });

  it("still prunes once compacted: the compaction keeps one file per partition and holds no replaced row", async () => {
    await insert("sales_compacted", first);
    await insert("sales_compacted", second);
    const filter = and(cond("region", FilterOperator.EQ, str("eu")), cond("day", FilterOperator.GE, date(day(2))));
    const before = await counted("sales_compacted", () => read("sales_compacted", { filter }));
    const compacted = await off.compact({ project: P, featureGroup: ref("sales_compacted") });
    expect(compacted.stats).toMatchObject({ rowsBefore: 12n, rowsAfter: 12n });
    const after = await counted("sales_compacted", () => read("sales_compacted", { filter }));
    expect(byId(after.result, "sale_id")).toEqual(byId(before.result, "sale_id"));
    expect(byId(after.result, "sale_id").map((r) => r["sale_id"])).toEqual([4, 7, 10]);
    // Three partitions hold the rows, one file each; every other partition's file is left out.
    expect(after.scanned).toBe(3);
    expect(after.pruned).toBeGreaterThanOrEqual(8);
  });

  it("serves a time-range training spine with the same rows as the unpartitioned reading", async () => {
    const range = {
      spine: { kind: { case: "eventTimeRange", value: { start: { seconds: BigInt(day(2) / 1000) }, end: { seconds: BigInt(day(4) / 1000) } } } },
    };
    const t = await trainingData({ project: P, featureView: ref("sales_view"), untransformed: true, ...range });
    const expected = [...rows(first)]
      .filter((r) => (r["sale_id"] as number) >= 4)
      .map((r) => ({ region: r["region"], amount: r["amount"], label: r["label"] }));
    expect(rows(t)).toEqual(expected);
    const all = await trainingData({ project: P, featureView: ref("sales_view"), untransformed: true });
    expect(all.numRows).toBe(12);
  });

  it("refuses an insert spanning too many partitions, writing nothing", async () => {
    const before = filesOnDisk();
    const commits = (await commitFiles("sales")).length;
    const ids = Array.from({ length: 1025 }, (_, i) => 100 + i);
    const many = await failure(
      insert(
        "sales",
        sales(
          ids,
          ids.map(() => day(5)),
          ids.map((i) => `r${i}`),
        ),
      ),
    );
    expect(Code[many.code]).toBe("InvalidArgument");
    expect(many.rawMessage).toMatch(/more than 1024 partitions/);
    expect(filesOnDisk()).toEqual(before);
    expect((await commitFiles("sales")).length).toBe(commits);
  });

  it("keeps hostile string values inside the commit directory and reads them back exactly, typed", async () => {
    const table = new arrow.Table({
      id: arrow.vectorFromArray(
        HOSTILE.map((_, i) => BigInt(i)),
        new arrow.Int64(),
      ),
      tag: arrow.vectorFromArray(HOSTILE, new arrow.Utf8()),
      flag: arrow.vectorFromArray(
        HOSTILE.map((_, i) => i % 2 === 0),
        new arrow.Bool(),
      ),
    });
    await insert("tagged", table);
    const recorded = await commitFiles("tagged");
    expect(recorded.filter((f) => !f.endsWith("/schema.parquet"))).toHaveLength(HOSTILE.length);
    for (const f of recorded)
      expect(f).toMatch(/^shop\/tagged\/v1\/\d{20}\/(schema\.parquet|tag=[A-Za-z0-9_%-]*\/part-00000\.parquet|tag=~[0-9a-f]{64}\/part-00000\.parquet)$/);
    // A value too long for a directory name is named by its hash.
    expect(recorded.filter((f) => f.includes("/tag=~"))).toHaveLength(1);
    // Nothing was created outside the group's directory.
    expect(filesOnDisk().filter((f) => !f.startsWith("shop/sales/") && !f.startsWith("shop/sales_compacted/") && !f.startsWith("shop/tagged/v1/"))).toEqual([]);
    expect(existsSync(join(root, "shop", "escape"))).toBe(false);

    const t = await read("tagged");
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(["id:Int64", "tag:Utf8", "flag:Bool"]);
    expect(byId(t, "id")).toEqual(rows(table));

    const one = await counted("tagged", () =>
      read("tagged", { filter: cond("tag", FilterOperator.IN, undefined, [str("../../escape"), str("NULL"), str("1")]) }),
    );
    expect(byId(one.result, "id").map((r) => r["tag"])).toEqual(["1", "NULL", "../../escape"]);
    // The hashed directory cannot be judged by its name: it is read too (and its row filtered out).
    expect({ scanned: one.scanned, pruned: one.pruned }).toEqual({ scanned: 4, pruned: HOSTILE.length - 4 });
    const long = await read("tagged", { filter: cond("tag", FilterOperator.EQ, str(LONG)) });
    expect(rows(long).map((r) => r["tag"])).toEqual([LONG]);
    // ReadChanges reads every file of each commit, typed columns from the files too.
    const changes = await tableFromChunks(off.readChanges({ project: P, featureGroup: ref("tagged"), window: {} }));
    expect(changes.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(["id:Int64", "tag:Utf8", "flag:Bool", "_commit_id:Int64", "_deleted:Bool"]);
    expect(byId(changes, "id").map((r) => r["tag"])).toEqual(HOSTILE);
  });

  it("never opens a pruned file: a damaged file of another partition fails only the reads that need it", async () => {
    const victim = (await commitFiles("sales")).find((f) => /day=2025-01-01\/region=us\//.test(f))!;
    writeFileSync(join(root, victim), "not a parquet file");
    // The filter's partitions and the training range (days 2 and 3) never touch day 1 / us.
    const eu = await read("sales", { filter: cond("region", FilterOperator.EQ, str("eu")) });
    expect(byId(eu, "sale_id").map((r) => r["sale_id"])).toEqual([1, 4, 7, 10]);
    const range = {
      spine: { kind: { case: "eventTimeRange", value: { start: { seconds: BigInt(day(2) / 1000) }, end: { seconds: BigInt(day(4) / 1000) } } } },
    };
    expect((await trainingData({ project: P, featureView: ref("sales_view"), untransformed: true, ...range })).numRows).toBe(6);
    // A read that needs it does open it, and fails.
    const err = await read("sales").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
  });
});
