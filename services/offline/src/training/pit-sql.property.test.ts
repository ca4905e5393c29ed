import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ColumnRole, CommitKind, SelectionMode } from "@granary/proto/metadata";
import { ScalarType } from "@granary/proto/types";
import { DAY, PitHarness, type Cell } from "../testing/pit-harness.js";
import { pitSql } from "./pit-sql.js";
import { compileViewPlan } from "./view-plan.js";
import { seededRandom } from "@granary/testing";

// GetTrainingData's join against a brute-force reference on random data: small key and time
// ranges make ties (same key and event time in several commits), late data, deletes, TTL expiry
// and missing rows common.
const CASES = 220;
let h: PitHarness;

beforeAll(async () => {
  h = await PitHarness.open();
}, 30_000);
afterAll(() => h.close());

type Row = Record<string, Cell>;
interface Commit {
  kind: CommitKind;
  rows: Row[];
}

/** The rows a list of commits leaves: latest commit per (key, event time), minus later deletes. */
function visible(commits: Commit[], key: string, et: string): (Row & { _c: number })[] {
  const byKey = new Map<string, Row & { _c: number }>();
  commits.forEach((c, i) => {
    if (c.kind === CommitKind.DELETE) {
      for (const r of c.rows) for (const [k, v] of byKey) if (v[key] === r[key] && v._c < i) byKey.delete(k);
      return;
    }
    for (const r of c.rows) byKey.set(`${String(r[key])}@${String(r[et])}`, { ...r, _c: i });
  });
  return [...byKey.values()];
}

function asOf(rows: Row[], key: string, value: Cell, time: number, ttl: number | undefined): Row | undefined {
  let best: Row | undefined;
  for (const r of rows) if (r[key] === value && Number(r.et) <= time && (!best || Number(r.et) > Number(best.et))) best = r;
  if (best && ttl !== undefined && Number(best.et) < time - ttl) return undefined;
  return best;
}

describe("point-in-time join against a brute-force reference", () => {
  it(`agrees on ${CASES} random cases`, async () => {
    for (let n = 0; n < CASES; n++) {
      const rand = seededRandom(1000 + n);
      const int = (k: number) => Math.floor(rand() * k);
      const ttlUsers = rand() < 0.5 ? (1 + int(4)) * DAY : undefined;
      const ttlMerchants = rand() < 0.3 ? (1 + int(4)) * DAY : undefined;
      const [L, U, M] = [`labels_${n}`, `users_${n}`, `merchants_${n}`];
      h.group(
        L,
        [
          ["tid", ScalarType.INT64],
          ["et", ScalarType.TIMESTAMP],
          ["user", ScalarType.INT64],
          ["label", ScalarType.DOUBLE],
        ],
        ["tid"],
        "et",
      );
      h.group(
        U,
        [
          ["user", ScalarType.INT64],
          ["et", ScalarType.TIMESTAMP],
          ["merchant", ScalarType.INT64],
          ["score", ScalarType.DOUBLE],
        ],
        ["user"],
        "et",
        ttlUsers === undefined ? undefined : ttlUsers / DAY,
      );
      h.group(
        M,
        [
          ["merchant", ScalarType.INT64],
          ["et", ScalarType.TIMESTAMP],
          ["risk", ScalarType.DOUBLE],
        ],
        ["merchant"],
        "et",
        ttlMerchants === undefined ? undefined : ttlMerchants / DAY,
      );
      const day = () => int(8) * DAY;
      const maybe = (v: number) => (rand() < 0.1 ? null : v);
      const history: Record<string, Commit[]> = { [L]: [], [U]: [], [M]: [] };
      const write = async (g: string, kind: CommitKind, rows: Row[]) => {
        // One commit holds each (key, event time) once (an insert resolves duplicates before writing).
        const key = g === L ? "tid" : g === U ? "user" : "merchant";
        const unique = kind === CommitKind.DELETE ? rows : [...new Map(rows.map((r) => [`${String(r[key])}@${String(r.et)}`, r])).values()];
        history[g]!.push({ kind, rows: unique });
        await h.commit(g, unique, kind);
      };
      for (let c = 0; c < 1 + int(3); c++)
        await write(
          U,
          CommitKind.INSERT,
          Array.from({ length: int(7) }, () => ({ user: int(4), et: day(), merchant: int(3), score: maybe(Math.round(rand() * 100)) })),
        );
      if (rand() < 0.3) await write(U, CommitKind.DELETE, [{ user: int(4) }]);
      if (rand() < 0.3) await write(U, CommitKind.INSERT, [{ user: int(4), et: day(), merchant: int(3), score: 7 }]);
      for (let c = 0; c < 1 + int(2); c++)
        await write(
          M,
          CommitKind.INSERT,
          Array.from({ length: int(5) }, () => ({ merchant: int(3), et: day(), risk: maybe(Math.round(rand() * 10)) })),
        );
      await write(
        L,
        CommitKind.INSERT,
        Array.from({ length: 1 + int(8) }, (_, i) => ({ tid: i, et: day(), user: int(5), label: i % 2 })),
      );
      const start = rand() < 0.3 ? int(4) * DAY : undefined;
      const end = rand() < 0.3 ? (4 + int(4)) * DAY : undefined;

      const view = h.view(
        {
          featureGroup: { name: L, version: 1 },
          selection: { mode: SelectionMode.INCLUDE, columns: ["tid", "label"] },
          joins: [
            {
              query: {
                featureGroup: { name: U, version: 1 },
                selection: { mode: SelectionMode.INCLUDE, columns: ["score"] },
                joins: [{ query: { featureGroup: { name: M, version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["risk"] } } }],
              },
              on: ["user"],
            },
          ],
        } as never,
        ["label"],
      );
      const plan = compileViewPlan(view, (name) => h.groups.get(name));
      const { sql } = pitSql(
        plan,
        { kind: "range", startMicros: start === undefined ? undefined : BigInt(start), endMicros: end === undefined ? undefined : BigInt(end) },
        h.commitsOf,
        h.files,
        { roles: new Set([ColumnRole.FEATURE, ColumnRole.LABEL]), includeEventTimes: false, requestParameters: new Map() },
      );
      const actual = (await h.rows(sql)).map((r) => [Number(r.tid), r.label, r.score, r.risk]);

      const users = visible(history[U]!, "user", "et");
      const merchants = visible(history[M]!, "merchant", "et");
      const expected = visible(history[L]!, "tid", "et")
        .filter((r) => (start === undefined || Number(r.et) >= start) && (end === undefined || Number(r.et) < end))
        .sort((a, b) => Number(a.et) - Number(b.et) || Number(a.tid) - Number(b.tid))
        .map((s) => {
          const u = asOf(users, "user", s.user!, Number(s.et), ttlUsers);
          const m = u ? asOf(merchants, "merchant", u.merchant!, Number(s.et), ttlMerchants) : undefined;
          return [Number(s.tid), s.label, u ? u.score : null, m ? m.risk : null];
        });
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        throw new Error(
          `case ${n} differs\nexpected ${JSON.stringify(expected)}\nactual   ${JSON.stringify(actual)}\nusers ${JSON.stringify(history[U])}\nmerchants ${JSON.stringify(history[M])}`,
        );
      }
      expect(actual).toEqual(expected);
    }
  }, 120_000);
});
