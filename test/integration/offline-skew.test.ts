import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import * as arrow from "apache-arrow";
import { arrowPayloads, tableFromChunks } from "@granary/offline";
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { DatasetSplit, type MetadataService, SelectionMode } from "@granary/proto/metadata";
import { type OfflineService } from "@granary/proto/offline";
import { ScalarType } from "@granary/proto/types";
import { scratchDir, testKeys, waitFor } from "@granary/testing";
import { startOfflineStack, type OfflineStack } from "./support/offline-stack.js";

// Offline's side of issue 14's skews: defaults of appended columns apply to rows written before
// the column existed and to nothing else.

const keys = testKeys();
const P = "skew";
const dir = scratchDir("offline-skew");
let stack: OfflineStack;
let md: Client<typeof MetadataService>;
let off: Client<typeof OfflineService>;

const T = (scalar: ScalarType) => ({ scalar });
const day = (d: number) => Date.UTC(2025, 0, d);
const ref = (name: string) => ({ name, version: 1 });
const VIEW = { name: "users_view", version: 1 };

function insert(group: string, table: arrow.Table) {
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: ref(group) } } };
    for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return off.insert(requests());
}

const plain = (t: arrow.Table) =>
  t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === "bigint" ? Number(v) : v))) as Record<string, unknown>);
const byId = (t: arrow.Table) => plain(t).sort((a, b) => Number(a.user_id) - Number(b.user_id));
const read = (group: string, extra: object = {}) => tableFromChunks(off.read({ project: P, featureGroup: ref(group), ...extra }));

function users(ids: number[], d: number, scores: number[], tiers?: (string | null)[]) {
  return new arrow.Table({
    user_id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
    event_time: arrow.vectorFromArray(
      ids.map(() => day(d)),
      new arrow.TimestampMillisecond(),
    ),
    score: arrow.vectorFromArray(scores, new arrow.Float64()),
    ...(tiers ? { tier: arrow.vectorFromArray(tiers, new arrow.Utf8()) } : {}),
  });
}

beforeAll(async () => {
  stack = await startOfflineStack({ name: "offline_skew", dataDir: dir.path, keys });
  ({ md, off } = stack);
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "users",
      version: 1,
      primaryKey: ["user_id"],
      eventTime: "event_time",
      columns: [
        { name: "user_id", type: T(ScalarType.INT64) },
        { name: "event_time", type: T(ScalarType.TIMESTAMP) },
        { name: "score", type: T(ScalarType.DOUBLE) },
      ],
    },
  });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "scores",
      version: 1,
      primaryKey: ["user_id"],
      eventTime: "event_time",
      columns: [
        { name: "user_id", type: T(ScalarType.INT64) },
        { name: "event_time", type: T(ScalarType.TIMESTAMP) },
        { name: "a", type: T(ScalarType.DOUBLE) },
        { name: "b", type: T(ScalarType.INT64) },
        { name: "label", type: T(ScalarType.STRING) },
      ],
      statisticsConfig: { enabled: true, histograms: false, correlations: true },
    },
  });
  await waitFor(
    async () =>
      await read("users")
        .then(() => read("scores"))
        .then(
          () => true,
          () => false,
        ),
    { timeoutMs: 10_000, what: "the groups visible offline" },
  );
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  dir.remove();
}, 30_000);

describe("a column appended with a default", () => {
  it("reads its default for rows written before it existed, and an explicit null written after as null (Read, ReadChanges, GetTrainingData)", async () => {
    await insert("users", users([1, 2], 1, [0.5, 1.5]));
    await md.appendFeatures({
      project: P,
      name: "users",
      version: 1,
      columns: [{ name: "tier", type: T(ScalarType.STRING), defaultValue: { kind: { case: "stringValue", value: "basic" } } }],
    });
    await waitFor(async () => (await read("users")).schema.fields.some((f) => f.name === "tier"), { timeoutMs: 5000, what: "the appended column" });
    // Written after the append: an explicit null, a value, and a row without the column (filled with the default on insert).
    await insert("users", users([3, 4], 2, [2.5, 3.5], [null, "gold"]));
    await insert("users", users([5], 3, [4.5]));
    const expected = [
      [1, "basic"],
      [2, "basic"],
      [3, null],
      [4, "gold"],
      [5, "basic"],
    ];

    expect(byId(await read("users", { columns: ["user_id", "tier"] })).map((r) => [r.user_id, r.tier])).toEqual(expected);

    const changes = byId(await tableFromChunks(off.readChanges({ project: P, featureGroup: ref("users"), window: {}, columns: ["user_id", "tier"] })));
    expect(changes.map((r) => [r.user_id, r.tier])).toEqual(expected);

    await md.createFeatureView({
      featureView: {
        project: P,
        ...VIEW,
        query: { featureGroup: ref("users"), selection: { mode: SelectionMode.INCLUDE, columns: ["user_id", "score", "tier"] } },
      },
    });
    await waitFor(
      async () =>
        await tableFromChunks(off.getTrainingData(spineless())).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 10_000, what: "the view visible offline" },
    );
    const training = plain(await tableFromChunks(off.getTrainingData(spineless()))).sort((a, b) => Number(a.user_id) - Number(b.user_id));
    expect(training.map((r) => [r.user_id, r.tier])).toEqual(expected);
  }, 60_000);
});

describe("statistics", () => {
  const subjectOf = (name: string) => ({ kind: { case: "featureGroup" as const, value: ref(name) } });
  const groupStats = async (name: string) => (await md.getStatistics({ project: P, subject: subjectOf(name) })).statistics!;
  const scores = (ids: number[], d: number, a: number[], b: number[]) =>
    new arrow.Table({
      user_id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
      event_time: arrow.vectorFromArray(
        ids.map(() => day(d)),
        new arrow.TimestampMillisecond(),
      ),
      a: arrow.vectorFromArray(a, new arrow.Float64()),
      b: arrow.vectorFromArray(b.map(BigInt), new arrow.Int64()),
      label: arrow.vectorFromArray(
        ids.map((i) => `l${i % 2}`),
        new arrow.Utf8(),
      ),
    });

  it("a group's statistics follow every commit (the whole group as of it), with correlations when configured", async () => {
    const missing = await md.getStatistics({ project: P, subject: subjectOf("scores") }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(ConnectError.from(missing).code).toBe(Code.NotFound);

    const first = await insert("scores", scores([1, 2, 3], 1, [1, 2, 3], [10, 20, 30]));
    let stats = await groupStats("scores");
    expect(stats.rowCount).toBe(3n);
    expect(stats.columns.find((c) => c.column === "a")!.mean).toBe(2);
    expect(stats.correlations.map((c) => [c.columnA, c.columnB])).toEqual([
      ["user_id", "a"],
      ["user_id", "b"],
      ["a", "b"],
    ]);
    expect(stats.correlations.find((c) => c.columnA === "a" && c.columnB === "b")!.coefficient).toBeCloseTo(1, 12);

    // A second commit: the statistics describe the group (5 rows), not the commit's 2.
    const second = await insert("scores", scores([4, 5], 2, [4, 0], [40, 100]));
    stats = await groupStats("scores");
    expect(stats.rowCount).toBe(5n);
    expect(stats.columns.find((c) => c.column === "a")!.max).toBe(4);
    expect(stats.correlations.find((c) => c.columnA === "a" && c.columnB === "b")!.coefficient).toBeLessThan(0.5);
    const atCommit = async (commitId: bigint) =>
      (await md.getStatistics({ project: P, subject: { kind: { case: "commit", value: { featureGroup: ref("scores"), commitId } } } })).statistics!.rowCount;
    expect([await atCommit(first.commitId), await atCommit(second.commitId)]).toEqual([3n, 5n]);

    // A delete is a commit too.
    async function* keys() {
      yield { message: { case: "header" as const, value: { project: P, featureGroup: ref("scores") } } };
      for (const ipc of arrowPayloads(new arrow.Table({ user_id: arrow.vectorFromArray([5n], new arrow.Int64()) })))
        yield { message: { case: "chunk" as const, value: { ipc } } };
    }
    await off.deleteRows(keys());
    expect((await groupStats("scores")).rowCount).toBe(4n);

    // Without statistics_config.enabled nothing is computed on commit.
    const none = await md.getStatistics({ project: P, subject: subjectOf("users") }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(ConnectError.from(none).code).toBe(Code.NotFound);
  });
});

describe("a training dataset's watermarks", () => {
  const TD_VIEW = { name: "clicks_view", version: 1 };
  const clicks = (ids: number[], users: number[], days: number[], x: number[]) =>
    new arrow.Table({
      click_id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
      event_time: arrow.vectorFromArray(days.map(day), new arrow.TimestampMillisecond()),
      user_id: arrow.vectorFromArray(users.map(BigInt), new arrow.Int64()),
      x: arrow.vectorFromArray(x, new arrow.Float64()),
      clicked: arrow.vectorFromArray(
        x.map((v) => v > 2),
        new arrow.Bool(),
      ),
    });
  const ages = (users: number[], days: number[], age: number[]) =>
    new arrow.Table({
      user_id: arrow.vectorFromArray(users.map(BigInt), new arrow.Int64()),
      event_time: arrow.vectorFromArray(days.map(day), new arrow.TimestampMillisecond()),
      age: arrow.vectorFromArray(age.map(BigInt), new arrow.Int64()),
    });
  const readTd = (version: number) => tableFromChunks(off.readTrainingDataset({ project: P, featureView: TD_VIEW, version, untransformed: true }));

  it("rebuilds a dataset whose files are gone from its recorded commits: late data that arrived since changes nothing", async () => {
    const group = (name: string, columns: [string, ScalarType][], pk: string) =>
      md.createFeatureGroup({
        featureGroup: { project: P, name, version: 1, primaryKey: [pk], eventTime: "event_time", columns: columns.map(([n, t]) => ({ name: n, type: T(t) })) },
      });
    await group(
      "clicks",
      [
        ["click_id", ScalarType.INT64],
        ["event_time", ScalarType.TIMESTAMP],
        ["user_id", ScalarType.INT64],
        ["x", ScalarType.DOUBLE],
        ["clicked", ScalarType.BOOL],
      ],
      "click_id",
    );
    await group(
      "ages",
      [
        ["user_id", ScalarType.INT64],
        ["event_time", ScalarType.TIMESTAMP],
        ["age", ScalarType.INT64],
      ],
      "user_id",
    );
    await md.createFeatureView({
      featureView: {
        project: P,
        ...TD_VIEW,
        labels: ["clicked"],
        query: {
          featureGroup: ref("clicks"),
          selection: { mode: SelectionMode.INCLUDE, columns: ["x", "clicked"] },
          joins: [{ query: { featureGroup: ref("ages"), selection: { mode: SelectionMode.INCLUDE, columns: ["age"] } }, on: ["user_id"] }],
        },
      },
    });
    await waitFor(
      async () =>
        await read("ages")
          .then(() => read("clicks"))
          .then(
            () => true,
            () => false,
          ),
      { timeoutMs: 10_000, what: "the groups visible offline" },
    );
    await insert("ages", ages([1, 2], [1, 1], [30, 40]));
    await insert("clicks", clicks([1, 2, 3, 4, 5, 6], [1, 2, 1, 2, 1, 2], [2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6]));

    const range = { start: timestampFromMs(day(1)), end: timestampFromMs(day(20)) };
    async function* create() {
      yield {
        message: {
          case: "query" as const,
          value: {
            project: P,
            featureView: TD_VIEW,
            spine: { kind: { case: "eventTimeRange" as const, value: range } },
            split: { kind: { case: "random" as const, value: { seed: 3n, train: 0.5, validation: 0.25, test: 0.25 } } },
          },
        },
      };
    }
    const { trainingDataset: ds } = await off.createTrainingDataset(create());
    const original = plain(await readTd(ds!.version));
    expect(original).toHaveLength(6);
    expect(ds!.watermarks.map((w) => [w.featureGroup!.name, w.commitId])).toEqual([
      ["clicks", 1n],
      ["ages", 1n],
    ]);

    // Late data inside the dataset's range: new clicks, a changed age, a replaced click (same key and event time).
    await insert("ages", ages([1], [3], [99]));
    await insert("clicks", clicks([7, 8, 2], [1, 2, 2], [4, 5, 3], [7, 8, 20]));
    expect(plain(await readTd(ds!.version))).toEqual(original);
    async function* now() {
      yield {
        message: {
          case: "query" as const,
          value: { project: P, featureView: TD_VIEW, untransformed: true, spine: { kind: { case: "eventTimeRange" as const, value: range } } },
        },
      };
    }
    expect((await tableFromChunks(off.getTrainingData(now()))).numRows).toBe(8);

    // The dataset's directory is lost: the read rebuilds it from the watermarks, identical.
    const datasetDir = join(dir.path, "offline", dirname(ds!.files[0]!.path));
    rmSync(datasetDir, { recursive: true });
    expect(plain(await readTd(ds!.version))).toEqual(original);
    expect(ds!.files.every((f) => existsSync(join(dir.path, "offline", f.path)))).toBe(true);
    const split = (s: DatasetSplit) =>
      tableFromChunks(off.readTrainingDataset({ project: P, featureView: TD_VIEW, version: ds!.version, split: s, untransformed: true }));
    expect(
      (await split(DatasetSplit.TRAIN)).numRows +
        (await split(DatasetSplit.VALIDATION).then(
          (t) => t.numRows,
          () => 0,
        )) +
        (await split(DatasetSplit.TEST).then(
          (t) => t.numRows,
          () => 0,
        )),
    ).toBe(6);

    // Its statistics are a Statistics record too.
    const stats = (
      await md.getStatistics({ project: P, subject: { kind: { case: "trainingDataset", value: { featureView: TD_VIEW, version: ds!.version } } } })
    ).statistics!;
    expect(stats.columns.map((c) => c.column)).toEqual(["x", "clicked", "age"]);
    expect(stats.rowCount).toBe(ds!.files.find((f) => f.split === DatasetSplit.TRAIN)!.rowCount);
  }, 60_000);

  it("offline as of now leaves out rows dated ahead of now (accepted within GRANARY_MAX_FUTURE_EVENT_TIME_S) until their time comes", async () => {
    const hour = 3_600_000;
    const soon = Date.now() + hour;
    await insert(
      "clicks",
      new arrow.Table({
        click_id: arrow.vectorFromArray([100n, 1n], new arrow.Int64()),
        event_time: arrow.vectorFromArray([soon, soon], new arrow.TimestampMillisecond()),
        user_id: arrow.vectorFromArray([1n, 1n], new arrow.Int64()),
        x: arrow.vectorFromArray([100, 100], new arrow.Float64()),
        clicked: arrow.vectorFromArray([true, true], new arrow.Bool()),
      }),
    );
    async function* latest() {
      yield {
        message: {
          case: "query" as const,
          value: { project: P, featureView: TD_VIEW, selection: { case: "latest" as const, value: true }, untransformed: true },
        },
      };
    }
    const rows = plain(await tableFromChunks(off.getBatchData(latest())));
    // Clicks 1..8 as of now: click 1 keeps its day-2 row, click 100 does not exist yet.
    expect(rows).toHaveLength(8);
    expect(rows.map((r) => r.x)).not.toContain(100);
  });
});

async function* spineless() {
  yield {
    message: {
      case: "query" as const,
      value: {
        project: P,
        featureView: VIEW,
        untransformed: true,
        spine: { kind: { case: "eventTimeRange" as const, value: { start: timestampFromMs(day(1)), end: timestampFromMs(day(30)) } } },
      },
    },
  };
}
