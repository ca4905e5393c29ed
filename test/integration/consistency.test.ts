// CheckConsistency against the real metadata, online and offline services: data inserted through
// offline Insert (which pushes online) is consistent; rows written only online (WriteRows never
// reaches offline today) are reported as skew, with examples.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import * as arrow from "apache-arrow";
import { connect, consistencySummary } from "@granary/client";
import { arrowPayloads } from "@granary/offline";
import { SelectionMode } from "@granary/proto/metadata";
import type { CheckConsistencyRequestSchema, CheckConsistencyResponse, ConsistencyReport } from "@granary/proto/offline";
import { ScalarType, ValueStatus, type ColumnData } from "@granary/proto/types";
import { scratchDir, testKeys, waitFor } from "@granary/testing";
import { startOfflineStack, type OfflineStack } from "./support/offline-stack.js";

const keys = testKeys();
const dir = scratchDir("consistency");
const P = "skew";
const VIEW = { name: "cards_view", version: 1 };
const TX_VIEW = { name: "tx_view", version: 1 };
const N = 600;
const NOW = Date.now();
const HOUR = 3_600_000;
const T = (scalar: ScalarType) => ({ scalar });
let stack: OfflineStack;

const i64c = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;
const f64c = (values: number[]): ColumnData => ({ values: { case: "doubles", value: { values } } }) as ColumnData;
const tsc = (ms: number[]): ColumnData => ({ values: { case: "timestamps", value: { values: ms.map((m) => BigInt(m) * 1000n) } } }) as ColumnData;
const avg = (cc: number) => cc * 1.5 + 0.1;

async function insert(group: string, columns: Record<string, arrow.Vector>) {
  const table = new arrow.Table(columns);
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: { name: group, version: 1 } } } };
    for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return stack.off.insert(requests());
}

async function check(
  request: Omit<MessageInitShape<typeof CheckConsistencyRequestSchema>, "project" | "$typeName">,
): Promise<{ progress: CheckConsistencyResponse[]; report: ConsistencyReport }> {
  const messages: CheckConsistencyResponse[] = [];
  for await (const m of stack.off.checkConsistency({ project: P, featureView: VIEW, ...request })) messages.push(m);
  const last = messages[messages.length - 1]!;
  if (last.message.case !== "report") throw new Error("the stream did not end with a report");
  return { progress: messages.slice(0, -1), report: last.message.value };
}

const entities = (ccs: number[]) => ({
  case: "entityRows" as const,
  value: { rowCount: ccs.length, columns: [{ name: "cc_num", data: i64c(ccs.map(BigInt)) }] },
});
const feature = (report: ConsistencyReport, name: string) => report.features.find((f) => f.name === name)!;
const mismatchesByFeature = (report: ConsistencyReport) =>
  Object.fromEntries(report.features.filter((f) => !f.notComparedReason).map((f) => [f.name, Number(f.mismatches)]));

beforeAll(async () => {
  stack = await startOfflineStack({ name: "consistency", dataDir: dir.path, keys });
  const { md } = stack;
  await md.createProject({ name: P });
  const group = (name: string, columns: [string, ScalarType][], pk: string[]) =>
    md.createFeatureGroup({
      featureGroup: {
        project: P,
        name,
        version: 1,
        columns: columns.map(([n, s]) => ({ name: n, type: T(s) })),
        primaryKey: pk,
        eventTime: "event_time",
        onlineEnabled: true,
      },
    });
  await group(
    "cards",
    [
      ["cc_num", ScalarType.INT64],
      ["event_time", ScalarType.TIMESTAMP],
      ["account_id", ScalarType.INT64],
      ["avg_amount", ScalarType.DOUBLE],
      ["category", ScalarType.STRING],
      ["n_tx", ScalarType.INT64],
    ],
    ["cc_num"],
  );
  await group(
    "accounts",
    [
      ["account_id", ScalarType.INT64],
      ["event_time", ScalarType.TIMESTAMP],
      ["balance", ScalarType.DOUBLE],
    ],
    ["account_id"],
  );
  // A label group, offline only (as in the fraud demo): online never looks it up.
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "transactions",
      version: 1,
      primaryKey: ["tid"],
      eventTime: "event_time",
      onlineEnabled: false,
      columns: [
        ["tid", ScalarType.INT64],
        ["event_time", ScalarType.TIMESTAMP],
        ["cc_num", ScalarType.INT64],
        ["amount", ScalarType.DOUBLE],
      ].map(([n, t]) => ({ name: n as string, type: T(t as ScalarType) })),
    },
  });
  await md.createFeatureView({
    featureView: {
      project: P,
      ...VIEW,
      query: {
        featureGroup: { name: "cards", version: 1 },
        selection: { mode: SelectionMode.EXCEPT, columns: ["event_time"] },
        joins: [
          { query: { featureGroup: { name: "accounts", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["balance"] } }, on: ["account_id"] },
        ],
      },
      onDemandFeatures: [
        { name: "avg_x2", type: T(ScalarType.DOUBLE), expression: "avg_amount * 2.0" },
        {
          name: "amount_ratio",
          type: T(ScalarType.DOUBLE),
          expression: "amount / avg_amount",
          requestParameters: [{ name: "amount", type: T(ScalarType.DOUBLE) }],
        },
      ],
    },
  });
  await md.createFeatureView({
    featureView: {
      project: P,
      ...TX_VIEW,
      query: {
        featureGroup: { name: "transactions", version: 1 },
        selection: { mode: SelectionMode.INCLUDE, columns: ["amount"] },
        joins: [
          {
            query: { featureGroup: { name: "cards", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["avg_amount", "n_tx"] } },
            on: ["cc_num"],
          },
        ],
      },
      onDemandFeatures: [
        { name: "amount_over_avg", type: T(ScalarType.DOUBLE), expression: "amount / avg_amount" },
        { name: "n_tx_x2", type: T(ScalarType.INT64), expression: "n_tx * 2" },
      ],
    },
  });
  await waitFor(
    async () =>
      await stack.off.computeStatistics({ project: P, featureGroup: { name: "accounts", version: 1 } }).then(
        () => true,
        () => false,
      ),
    { timeoutMs: 20_000, what: "groups visible offline" },
  );
  const ccs = Array.from({ length: N }, (_, i) => i + 1);
  // Card 1 also has an older row: online serves the newer one, as offline as of now does.
  await insert("cards", {
    cc_num: arrow.vectorFromArray([...ccs, 1].map(BigInt), new arrow.Int64()),
    event_time: arrow.vectorFromArray([...ccs.map(() => NOW - 2 * HOUR), NOW - 10 * HOUR], new arrow.TimestampMillisecond()),
    account_id: arrow.vectorFromArray(
      [...ccs, 1].map((c) => BigInt((c % 5) + 1)),
      new arrow.Int64(),
    ),
    avg_amount: arrow.vectorFromArray([...ccs.map((c) => (c === 7 ? null : avg(c))), 99], new arrow.Float64()),
    category: arrow.vectorFromArray(
      [...ccs, 1].map((c) => ["a", "b", "c"][c % 3]!),
      new arrow.Utf8(),
    ),
    n_tx: arrow.vectorFromArray([...ccs.map((c) => c * 2), 1].map(BigInt), new arrow.Int64()),
  });
  await insert("accounts", {
    account_id: arrow.vectorFromArray([1n, 2n, 3n, 4n, 5n], new arrow.Int64()),
    event_time: arrow.vectorFromArray(
      [1, 2, 3, 4, 5].map(() => NOW - 3 * HOUR),
      new arrow.TimestampMillisecond(),
    ),
    balance: arrow.vectorFromArray([100.5, 200.25, 300, 400, 500], new arrow.Float64()),
  });
  await insert("transactions", {
    tid: arrow.vectorFromArray(
      Array.from({ length: 50 }, (_, i) => BigInt(i + 1)),
      new arrow.Int64(),
    ),
    event_time: arrow.vectorFromArray(
      Array.from({ length: 50 }, () => NOW - HOUR),
      new arrow.TimestampMillisecond(),
    ),
    cc_num: arrow.vectorFromArray(
      Array.from({ length: 50 }, (_, i) => BigInt((i % 20) + 1)),
      new arrow.Int64(),
    ),
    amount: arrow.vectorFromArray(
      Array.from({ length: 50 }, (_, i) => i * 3.5),
      new arrow.Float64(),
    ),
  });
  // Insert pushes online asynchronously past its wait: the last card and account are served once there.
  await waitFor(
    async () => {
      const { vectors } = await stack.on.getFeatureVectors({
        project: P,
        featureView: VIEW,
        entities: { rowCount: 1, servingKeys: [{ name: "cc_num", data: i64c([BigInt(N)]) }] },
        options: { untransformed: true },
      });
      return vectors!.columns.filter((c) => c.name === "avg_amount" || c.name === "balance").every((c) => c.statuses[0] === ValueStatus.PRESENT) || undefined;
    },
    { timeoutMs: 20_000, what: "rows pushed online" },
  );
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  dir.remove();
}, 30_000);

describe("CheckConsistency", () => {
  it("finds no skew in data inserted through offline Insert, streaming progress over a large sample", async () => {
    const { progress, report } = await check({ entities: { case: "sampleSize", value: N }, seed: 7n });
    expect(progress.map((p) => (p.message.case === "progress" ? Number(p.message.value.entitiesChecked) : -1))).toEqual([500, 600]);
    expect(report.entitiesChecked).toBe(BigInt(N));
    expect(report.entitiesCompared).toBe(BigInt(N));
    expect(report.mismatches).toBe(0n);
    expect(report.entitiesMismatched).toBe(0n);
    expect(report.missingOnline?.count ?? 0n).toBe(0n);
    expect(report.missingOffline?.count ?? 0n).toBe(0n);
    expect(report.onlineRowsAhead).toBe(0n);
    expect(report.featureView).toMatchObject(VIEW);
    const compared = report.features.filter((f) => !f.notComparedReason);
    expect(compared.map((f) => f.name).sort()).toEqual(expect.arrayContaining(["avg_amount", "balance", "category", "n_tx", "avg_x2"]));
    for (const f of compared) expect(f.compared).toBe(BigInt(N));
    // Its request parameter was not given: reported, not compared.
    expect(feature(report, "amount_ratio").notComparedReason).toMatch(/amount/);
  });

  it("draws a sample of the requested size, and compares on-demand features given their parameters", async () => {
    const a = await check({ entities: { case: "sampleSize", value: 10 }, seed: 42n, maxExamples: 10 });
    expect(a.progress).toEqual([]);
    expect(a.report.entitiesChecked).toBe(10n);
    const { report } = await check({ entities: entities([1, 2, 3, 7]), requestParameters: { rowCount: 1, columns: [{ name: "amount", data: f64c([30]) }] } });
    expect(report.mismatches).toBe(0n);
    expect(feature(report, "amount_ratio")).toMatchObject({ compared: 4n, mismatches: 0n, notComparedReason: "" });
  });

  it("samples a view whose root is offline only by the root's join keys, and leaves the root's features out", async () => {
    const { report } = await check({ featureView: TX_VIEW, entities: { case: "sampleSize", value: 100 }, seed: 1n });
    // 20 cards among the 50 transactions.
    expect(report.entitiesChecked).toBe(20n);
    expect(report.entitiesCompared).toBe(20n);
    expect(report.mismatches).toBe(0n);
    expect(feature(report, "amount").notComparedReason).toMatch(/offline-only root group "transactions"/);
    expect(feature(report, "amount_over_avg").notComparedReason).toMatch(/reads amount/);
    expect(feature(report, "n_tx_x2")).toMatchObject({ compared: 20n, mismatches: 0n, notComparedReason: "" });
    expect(feature(report, "avg_amount")).toMatchObject({ compared: 20n, mismatches: 0n });
  });

  it("detects rows written only online (WriteRows never reaches offline) as mismatches, with examples", async () => {
    await stack.on.writeRows({
      project: P,
      featureGroup: { name: "cards", version: 1 },
      rows: {
        case: "columns",
        value: {
          rowCount: 2,
          columns: [
            { name: "cc_num", data: i64c([3n, 9999n]) },
            { name: "event_time", data: tsc([NOW - HOUR, NOW - HOUR]) },
            { name: "account_id", data: i64c([5n, 1n]) },
            { name: "avg_amount", data: f64c([1234.5, 1]) },
            { name: "category", data: { values: { case: "strings", value: { values: ["a", "z"] } } } as ColumnData },
            { name: "n_tx", data: i64c([6n, 1n]) },
          ],
        },
      },
    });
    const { report } = await check({ entities: entities([1, 3, 9999, 123456]) });
    expect(report.entitiesChecked).toBe(4n);
    expect(report.entitiesCompared).toBe(2n);
    expect(report.entitiesMismatched).toBe(1n);
    // Card 3 moved to account 5 online only: its account, balance and averages differ.
    expect(mismatchesByFeature(report)).toMatchObject({ avg_amount: 1, avg_x2: 1, account_id: 1, balance: 1, category: 0, n_tx: 0 });
    const example = feature(report, "avg_amount").examples[0]!;
    expect(example.entity.map((k) => [k.name, k.value?.kind.value])).toEqual([["cc_num", 3n]]);
    expect(example.onlineValue?.kind.value).toBe(1234.5);
    expect(example.offlineValue?.kind.value).toBe(avg(3));
    expect([example.onlineStatus, example.offlineStatus]).toEqual([ValueStatus.PRESENT, ValueStatus.PRESENT]);
    // Card 9999 exists online only; 123456 nowhere.
    expect(report.missingOffline?.count).toBe(1n);
    expect(report.missingOffline?.examples[0]?.entity[0]?.value?.kind.value).toBe(9999n);
    expect(report.missingOnline?.count ?? 0n).toBe(0n);
    expect(report.missingBoth).toBe(1n);

    const sampled = await check({ entities: { case: "sampleSize", value: N }, seed: 7n });
    expect(sampled.report.entitiesMismatched).toBe(1n);
    expect(feature(sampled.report, "avg_amount").mismatches).toBe(1n);
  });

  it("compares floats within the tolerance: 1e-9 relative by default, exact on request", async () => {
    await stack.on.writeRows({
      project: P,
      featureGroup: { name: "accounts", version: 1 },
      rows: {
        case: "columns",
        value: {
          rowCount: 1,
          columns: [
            { name: "account_id", data: i64c([2n]) },
            { name: "event_time", data: tsc([NOW - HOUR]) },
            { name: "balance", data: f64c([200.25 * (1 + 1e-12)]) },
          ],
        },
      },
    });
    const loose = await check({ entities: entities([1]) });
    expect(feature(loose.report, "balance").mismatches).toBe(0n);
    const exact = await check({ entities: entities([1]), tolerance: { relative: 0, absolute: 0 } });
    expect(feature(exact.report, "balance").mismatches).toBe(1n);
  });

  it("reports online rows newer than the as-of time (online serves now, offline as of the instant)", async () => {
    const { report } = await check({ entities: entities([1, 2]), asOfTime: timestampFromMs(NOW - 5 * HOUR) });
    expect(report.onlineRowsAhead).toBe(1n);
    expect(report.missingOffline?.count).toBe(1n);
    // Card 1's row of 10 hours ago is what offline sees as of 5 hours ago.
    expect(feature(report, "avg_amount").examples[0]?.offlineValue?.kind.value).toBe(99);
  });

  it("is what the SDK's fv.checkConsistency() returns", async () => {
    const granary = connect({ addresses: { ...stack.addresses, registry: "127.0.0.1:1" }, apiKey: keys.adminKey, env: {} });
    const view = await (await granary.project(P, { create: false })).getFeatureView(VIEW.name, VIEW.version);
    const progress: number[] = [];
    const result = await view.checkConsistency({ sample: N, seed: 7, maxExamples: 2, onProgress: (checked) => progress.push(checked) });
    expect(progress).toEqual([500, 600]);
    expect(result.consistent).toBe(false);
    const avgAmount = result.features.find((f) => f.name === "avg_amount")!;
    expect(avgAmount).toMatchObject({ type: "double", compared: N, mismatches: 1 });
    expect(avgAmount.examples[0]).toMatchObject({ entity: { cc_num: 3 }, online: 1234.5, offline: avg(3), onlineStatus: "PRESENT", offlineStatus: "PRESENT" });
    expect(consistencySummary(result)).toMatch(/avg_amount: 1 of 600 differ/);
    const explicit = await view.checkConsistency({ entities: [{ cc_num: 10 }, { cc_num: 9999 }], requestParameters: { amount: 5 } });
    expect(explicit).toMatchObject({ consistent: true, entitiesCompared: 1, missingOffline: { count: 1, examples: [{ cc_num: 9999 }] } });
  });

  it("refuses a feature view that does not exist", async () => {
    await expect(check({ featureView: { name: "nope", version: 1 }, entities: { case: "sampleSize", value: 1 } })).rejects.toThrow(/does not exist/);
  });
});
