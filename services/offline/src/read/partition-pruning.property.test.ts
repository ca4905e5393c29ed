import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { CommitKind, FeatureGroupSchema, FilterOperator, FilterSchema, OnlineSyncState, type Filter } from "@granary/proto/metadata";
import { ScalarType, type Value } from "@granary/proto/types";
import { seededRandom } from "@granary/testing";
import { DuckEngine, timestampLiteral } from "../duck/index.js";
import { sequenceName } from "../store/commit-paths.js";
import type { FilesOf } from "../store/commit-files.js";
import type { CommitEntry } from "../store/commit-log.js";
import { filterPredicate, pruneEventTimeRange, pruneRead, writeGroupFiles } from "../store/partitions.js";
import { groupSourceSql } from "./group-source.js";
import { readSql } from "./read-group.js";

// The property: pruning never changes what a read returns. Random histories of a partitioned
// group (inserts that append and replace rows, rows moving between partitions, deletes), random
// filters over partition and other columns; each read runs over every file and over the pruned
// files, and the rows must be the same. Written with the real writer and read by DuckDB.

const HOUR = 3_600_000_000n;
const group = create(FeatureGroupSchema, {
  project: "p",
  name: "g",
  version: 1,
  primaryKey: ["id"],
  eventTime: "et",
  partitionKey: ["region", "bucket"],
  columns: [
    { name: "id", type: { scalar: ScalarType.INT64 } },
    { name: "et", type: { scalar: ScalarType.TIMESTAMP } },
    { name: "region", type: { scalar: ScalarType.STRING } },
    { name: "bucket", type: { scalar: ScalarType.INT32 } },
    { name: "v", type: { scalar: ScalarType.INT32 } },
  ],
});
const REGIONS = ["eu", "us", "NULL", "", "a/b", null];
const BUCKETS = [-1, 0, 1, null];

let base: string;
let engine: DuckEngine;
beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "granary-prune-"));
  engine = await DuckEngine.open({ dataRoot: base, threads: 2, memoryLimit: "256MB", maxQueries: 1 });
});
afterAll(() => {
  engine.close();
  rmSync(base, { recursive: true, force: true });
});

type Row = { id: number; et: number; region: string | null; bucket: number | null; v: number };
const lit = (x: string | number | null) => (x === null ? "NULL" : typeof x === "number" ? String(x) : `'${x.replace(/'/g, "''")}'`);
const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/** A random history written to `<base>/<case>/p/g/v1/<sequence>/…`, as commit entries. */
async function history(rand: () => number, root: string): Promise<CommitEntry[]> {
  const commits: CommitEntry[] = [];
  const seen = new Set<string>();
  for (let n = 1; n <= 2 + Math.floor(rand() * 5); n++) {
    const dir = `p/g/v1/${sequenceName(BigInt(n))}`;
    mkdirSync(join(root, dir), { recursive: true });
    if (n > 1 && rand() < 0.2) {
      const ids = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 2) }, () => Math.floor(rand() * 6)))];
      const select = `SELECT * FROM (VALUES ${ids.map((id) => `(${id}::BIGINT, ${n}::BIGINT)`).join(", ")}) t(id, _seq)`;
      const files = await engine.withConnection((c) => writeGroupFiles(c, { ...group, partitionKey: [] }, select, join(root, dir)));
      commits.push(
        entry(
          n,
          CommitKind.DELETE,
          files.map((f) => `${dir}/${f}`),
          0n,
          undefined,
          undefined,
        ),
      );
      continue;
    }
    const rows = new Map<string, Row>();
    for (let i = 0; i < 1 + Math.floor(rand() * 8); i++) {
      const row = {
        id: Math.floor(rand() * 6),
        et: Math.floor(rand() * 4),
        region: pick(rand, REGIONS),
        bucket: pick(rand, BUCKETS),
        v: Math.floor(rand() * 100),
      };
      rows.set(`${row.id}/${row.et}`, row);
    }
    const updated = [...rows.keys()].filter((k) => seen.has(k)).length;
    for (const k of rows.keys()) seen.add(k);
    const values = [...rows.values()].map(
      (r) => `(${r.id}::BIGINT, ${timestampLiteral(BigInt(r.et) * HOUR)}, ${lit(r.region)}::VARCHAR, ${lit(r.bucket)}::INTEGER, ${r.v}::INTEGER, ${n}::BIGINT)`,
    );
    const select = `SELECT * FROM (VALUES ${values.join(", ")}) t(id, et, region, bucket, v, _seq)`;
    const files = await engine.withConnection((c) => writeGroupFiles(c, group, select, join(root, dir)));
    const ets = [...rows.values()].map((r) => BigInt(r.et) * HOUR);
    const min = ets.reduce((a, b) => (b < a ? b : a));
    const max = ets.reduce((a, b) => (b > a ? b : a));
    commits.push(
      entry(
        n,
        CommitKind.INSERT,
        files.map((f) => `${dir}/${f}`),
        BigInt(updated),
        min,
        max,
      ),
    );
  }
  return commits;
}

function entry(n: number, kind: CommitKind, files: string[], rowsUpdated: bigint, min: bigint | undefined, max: bigint | undefined): CommitEntry {
  return {
    id: BigInt(n),
    kind,
    sequence: BigInt(n),
    files,
    ingestionMicros: BigInt(n),
    rowsUpdated,
    minEventMicros: min,
    maxEventMicros: max,
    onlineSyncState: OnlineSyncState.NOT_APPLICABLE,
    erase: false,
  } as CommitEntry;
}

const value = (kind: Value["kind"]): Value => ({ $typeName: "granary.types.v1.Value", kind });
const OPS = [
  FilterOperator.EQ,
  FilterOperator.NE,
  FilterOperator.LT,
  FilterOperator.LE,
  FilterOperator.GT,
  FilterOperator.GE,
  FilterOperator.IN,
  FilterOperator.IS_NULL,
  FilterOperator.IS_NOT_NULL,
];

function randomFilter(rand: () => number, depth = 0): Filter {
  if (depth < 2 && rand() < 0.35) {
    const filters = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => randomFilter(rand, depth + 1));
    return create(FilterSchema, { kind: { case: rand() < 0.5 ? "and" : "or", value: { filters } } });
  }
  const column = pick(rand, ["region", "region", "bucket", "bucket", "v"]);
  const literal = (): Value =>
    column === "region"
      ? value({ case: "stringValue", value: pick(rand, ["eu", "us", "NULL", "", "a/b", "zz"]) })
      : column === "bucket"
        ? value({ case: "int32Value", value: pick(rand, [-1, 0, 1, 2]) })
        : value({ case: "int32Value", value: Math.floor(rand() * 100) });
  const operator = pick(rand, OPS);
  const values = operator === FilterOperator.IN ? Array.from({ length: 1 + Math.floor(rand() * 3) }, literal) : [];
  const one = operator === FilterOperator.IN || operator === FilterOperator.IS_NULL || operator === FilterOperator.IS_NOT_NULL ? undefined : literal();
  return create(FilterSchema, { kind: { case: "condition", value: { column, operator, value: one, values } } });
}

async function rowsOf(sql: string): Promise<string[]> {
  const rows = await engine.withConnection((c) => c.rows(sql));
  return rows.map((r) => JSON.stringify(r, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).sort();
}

describe("partition pruning (property)", () => {
  it("never changes the rows of a filtered Read or of a time-range spine, over 60 random histories", async () => {
    let pruned = 0;
    let kept = 0;
    for (let n = 0; n < 60; n++) {
      const rand = seededRandom(7000 + n);
      const root = join(base, `case-${n}`);
      const commits = await history(rand, root);
      const all: FilesOf = (c) => c.files.map((f) => join(root, f));
      const columns = group.columns.map((c) => c.name);
      for (let f = 0; f < 6; f++) {
        const filter = randomFilter(rand);
        const read = pruneRead(commits, all, group, filterPredicate(group, filter));
        pruned += read.insertFiles - read.scannedFiles;
        kept += read.scannedFiles;
        const expected = await rowsOf(readSql(all, group, commits, columns, filter, 0n));
        const actual = await rowsOf(readSql(read.filesOf, group, read.commits, columns, filter, 0n));
        expect({ n, filter: JSON.stringify(filter, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)), actual }).toEqual({
          n,
          filter: JSON.stringify(filter, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
          actual: expected,
        });
      }
      const start = BigInt(Math.floor(rand() * 4)) * HOUR;
      const end = start + BigInt(1 + Math.floor(rand() * 3)) * HOUR;
      const range = (source: string) => `SELECT * FROM ${source} r WHERE r.et >= ${timestampLiteral(start)} AND r.et < ${timestampLiteral(end)}`;
      const spine = pruneEventTimeRange(group, commits, all, start, end);
      expect(await rowsOf(range(groupSourceSql(spine.filesOf, group, spine.commits)))).toEqual(await rowsOf(range(groupSourceSql(all, group, commits))));
    }
    // The property is only worth something if pruning happened, and not everywhere.
    expect(pruned).toBeGreaterThan(50);
    expect(kept).toBeGreaterThan(50);
  }, 120_000);
});
