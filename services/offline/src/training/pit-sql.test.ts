import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ColumnRole, CommitKind, FilterOperator, JoinType, SelectionMode } from "@granary/proto/metadata";
import { create } from "@bufbuild/protobuf";
import { DataTypeSchema, ScalarType } from "@granary/proto/types";
import { DAY, PitHarness } from "../testing/pit-harness.js";
import { pitSql } from "./pit-sql.js";
import { compileViewPlan } from "./view-plan.js";

// A hand-computed point-in-time fixture: labels (the spine) → users (10-day TTL) → merchants
// (nested: the merchant key is read from the user row as of the label's time).
let h: PitHarness;
const d = (n: number) => BigInt(n * DAY);
const ROLES = new Set([ColumnRole.FEATURE, ColumnRole.LABEL]);

beforeAll(async () => {
  h = await PitHarness.open();
  h.group(
    "labels",
    [
      ["tid", ScalarType.INT64],
      ["et", ScalarType.TIMESTAMP],
      ["user", ScalarType.INT64],
      ["label", ScalarType.BOOL],
    ],
    ["tid"],
    "et",
  );
  h.group(
    "users",
    [
      ["user", ScalarType.INT64],
      ["et", ScalarType.TIMESTAMP],
      ["merchant", ScalarType.INT64],
      ["score", ScalarType.DOUBLE],
    ],
    ["user"],
    "et",
    10,
  );
  h.group(
    "merchants",
    [
      ["merchant", ScalarType.INT64],
      ["et", ScalarType.TIMESTAMP],
      ["risk", ScalarType.DOUBLE],
    ],
    ["merchant"],
    "et",
  );
  await h.commit("users", [
    { user: 1, et: d(1), merchant: 1, score: 0.1 },
    { user: 1, et: d(5), merchant: 2, score: 0.5 },
    { user: 2, et: d(1), merchant: 1, score: 0.2 },
  ]);
  await h.commit("users", [
    { user: 1, et: d(5), merchant: 1, score: 0.55 }, // tie on (user, et): the later commit wins
    { user: 3, et: d(2), merchant: 2, score: 0.3 }, // late data: older event time, later commit
    { user: 2, et: d(20), merchant: 2, score: null }, // a real null
  ]);
  await h.commit("merchants", [
    { merchant: 1, et: d(1), risk: 1.0 },
    { merchant: 2, et: d(3), risk: 2.0 },
  ]);
  await h.commit("merchants", [{ merchant: 1, et: d(6), risk: 1.5 }]);
  await h.commit("labels", [
    { tid: 1, et: d(5), user: 1, label: true },
    { tid: 2, et: d(4), user: 1, label: false },
    { tid: 3, et: d(12), user: 2, label: true },
    { tid: 4, et: d(2), user: 3, label: false },
    { tid: 5, et: d(30), user: 1, label: true },
    { tid: 6, et: d(1), user: 9, label: false },
    { tid: 7, et: d(21), user: 2, label: true },
  ]);
}, 30_000);

afterAll(() => h.close());

const view = () =>
  h.view(
    {
      featureGroup: { name: "labels", version: 1 },
      selection: { mode: SelectionMode.INCLUDE, columns: ["tid", "label"] },
      joins: [
        {
          query: {
            featureGroup: { name: "users", version: 1 },
            selection: { mode: SelectionMode.INCLUDE, columns: ["score"] },
            joins: [{ query: { featureGroup: { name: "merchants", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["risk"] } } }],
          },
          on: ["user"],
        },
      ],
    } as never,
    ["label"],
  );

async function run(commitsOf = h.commitsOf, includeEventTimes = false) {
  const v = view();
  const plan = compileViewPlan(v, (name) => h.groups.get(name));
  const { sql } = pitSql(plan, { kind: "range", startMicros: undefined, endMicros: undefined }, commitsOf, h.files, {
    roles: ROLES,
    includeEventTimes,
    requestParameters: new Map(),
  });
  return h.rows(sql);
}

describe("the point-in-time join", () => {
  it("is inclusive, TTL-aware, LEFT, ties to the latest commit, nested through the parent's row as of the spine time", async () => {
    const rows = await run();
    expect(rows.map((r) => [Number(r.tid), r.label, r.score, r.risk])).toEqual([
      [6, false, null, null], // d1, user 9 unknown
      [4, false, 0.3, null], // d2, late user 3 row at d2 (inclusive); merchant 2 only from d3
      [2, false, 0.1, 1.0], // d4: user 1's d1 row; merchant 1 as of d4
      [1, true, 0.55, 1.0], // d5: the d5 tie goes to commit 2 (merchant 1, 0.55); merchant 1's d6 row is future
      [3, true, null, null], // d12: user 2's d1 row is 11 days old (TTL 10): null, and so is the nested join
      [7, true, null, 2.0], // d21: user 2's d20 row has a null score; its merchant 2 at d3
      [5, true, null, null], // d30: user 1's d5 row is 25 days old: expired
    ]);
  });

  it("sees only the commits of a watermark, and rows deleted by a later delete commit vanish", async () => {
    const asOfFirst = (g: Parameters<typeof h.commitsOf>[0]) => h.commitsOf(g).filter((c) => c.id === 1n);
    const early = await run(asOfFirst);
    // Without commit 2 of users: t1 at d5 sees the (d5, merchant 2, 0.5) row and merchant 2's d3 risk.
    expect(early.find((r) => Number(r.tid) === 1)).toMatchObject({ score: 0.5, risk: 2.0 });
    expect(early.find((r) => Number(r.tid) === 4)).toMatchObject({ score: null });
    await h.commit("users", [{ user: 1 }], CommitKind.DELETE);
    const after = await run();
    expect(after.filter((r) => [1, 2].includes(Number(r.tid))).map((r) => r.score)).toEqual([null, null]);
    h.commits.get("users")!.pop();
  });

  it("joins a group without event time on its key alone, its latest commit's row", async () => {
    h.group(
      "regions",
      [
        ["user", ScalarType.INT64],
        ["region", ScalarType.STRING],
      ],
      ["user"],
      "",
    );
    await h.commit("regions", [
      { user: 1, region: "north" },
      { user: 2, region: "south" },
    ]);
    await h.commit("regions", [{ user: 1, region: "east" }]);
    const v = h.view({
      featureGroup: { name: "labels", version: 1 },
      selection: { mode: SelectionMode.INCLUDE, columns: ["tid"] },
      joins: [{ query: { featureGroup: { name: "regions", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["region"] } }, on: ["user"] }],
    } as never);
    const plan = compileViewPlan(v, (name) => h.groups.get(name));
    const { sql } = pitSql(plan, { kind: "range", startMicros: undefined, endMicros: undefined }, h.commitsOf, h.files, {
      roles: ROLES,
      includeEventTimes: false,
      requestParameters: new Map(),
    });
    const rows = await h.rows(sql);
    expect(rows.map((r) => [Number(r.tid), r.region])).toEqual([
      [6, null],
      [4, null],
      [2, "east"],
      [1, "east"],
      [3, "south"],
      [7, "south"],
      [5, "east"],
    ]);
  });

  it("returns each group's event time when asked", async () => {
    const rows = await run(h.commitsOf, true);
    const t2 = rows.find((r) => Number(r.tid) === 2)!;
    expect((t2.users_event_time as Date).getTime()).toBe(Number(d(1) / 1000n));
    expect(t2.merchants_event_time as Date).toEqual(new Date(Number(d(1) / 1000n)));
    expect(rows.find((r) => Number(r.tid) === 3)!.users_event_time).toBeNull();
  });

  it("fills the root's event-time column with the found row's event time, not a caller spine's instant", async () => {
    const v = h.view({ featureGroup: { name: "users", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["user", "et", "score"] } } as never);
    const plan = compileViewPlan(v, (name) => h.groups.get(name));
    await h.rows(`CREATE OR REPLACE TABLE spine_et AS SELECT 1::BIGINT AS "user", make_timestamp(${d(7)}::BIGINT) AS et`);
    const columns = new Map([
      ["user", create(DataTypeSchema, { scalar: ScalarType.INT64 })],
      ["et", create(DataTypeSchema, { scalar: ScalarType.TIMESTAMP })],
    ]);
    const spine = { kind: "table" as const, table: "spine_et", columns, time: "et", nowMicros: d(40) };
    const { sql } = pitSql(plan, spine, h.commitsOf, h.files, { roles: ROLES, includeEventTimes: false, requestParameters: new Map() });
    const [row] = await h.rows(sql);
    // As of d7, user 1's newest row is the d5 one (the tie went to commit 2): its event time is d5.
    expect(row).toMatchObject({ score: 0.55 });
    expect((row!.et as Date).getTime()).toBe(Number(d(5) / 1000n));
  });

  it("does not apply the root's filter when a caller's spine lacks the root's key (the root is not read)", async () => {
    const v = h.view({
      featureGroup: { name: "labels", version: 1 },
      selection: { mode: SelectionMode.INCLUDE, columns: ["label"] },
      filter: { kind: { case: "condition", value: { column: "label", operator: FilterOperator.EQ, value: { kind: { case: "boolValue", value: true } } } } },
      joins: [{ query: { featureGroup: { name: "users", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["score"] } }, on: ["user"] }],
    } as never);
    const plan = compileViewPlan(v, (name) => h.groups.get(name));
    await h.rows(`CREATE OR REPLACE TABLE spine_keys AS SELECT 1::BIGINT AS "user", make_timestamp(${d(7)}::BIGINT) AS et`);
    const columns = new Map([
      ["user", create(DataTypeSchema, { scalar: ScalarType.INT64 })],
      ["et", create(DataTypeSchema, { scalar: ScalarType.TIMESTAMP })],
    ]);
    const spine = { kind: "table" as const, table: "spine_keys", columns, time: "et", nowMicros: d(40) };
    const { sql } = pitSql(plan, spine, h.commitsOf, h.files, { roles: ROLES, includeEventTimes: false, requestParameters: new Map() });
    // Online serves this entity (filters select training rows; a lookup by key has no root row to test).
    expect(await h.rows(sql)).toEqual([{ label: null, score: 0.55 }]);
  });

  it("selects rows by filters and inner joins for training, and none when asked to serve every key (selectRows false)", async () => {
    const v = h.view({
      featureGroup: { name: "labels", version: 1 },
      selection: { mode: SelectionMode.INCLUDE, columns: ["tid", "label"] },
      filter: { kind: { case: "condition", value: { column: "label", operator: FilterOperator.EQ, value: { kind: { case: "boolValue", value: true } } } } },
      joins: [
        {
          type: JoinType.INNER,
          query: { featureGroup: { name: "users", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["score"] } },
          on: ["user"],
        },
      ],
    } as never);
    const plan = compileViewPlan(v, (name) => h.groups.get(name));
    const tids = async (selectRows: boolean) => {
      const { sql } = pitSql(plan, { kind: "range", startMicros: undefined, endMicros: undefined }, h.commitsOf, h.files, {
        roles: ROLES,
        includeEventTimes: false,
        requestParameters: new Map(),
        selectRows,
      });
      return (await h.rows(sql)).map((r) => Number(r.tid));
    };
    // Training: label true and a users row found within its TTL (t3 and t5 find only expired rows).
    expect(await tids(true)).toEqual([1, 7]);
    // Every spine row: a time range's spine is the root's rows its filter keeps; the inner join drops none.
    expect(await tids(false)).toEqual([1, 3, 7, 5]);
  });
});
