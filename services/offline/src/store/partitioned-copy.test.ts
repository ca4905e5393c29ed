import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@granary/errors";
import { FeatureGroupSchema, type FeatureGroup } from "@granary/proto/metadata";
import { ScalarType } from "@granary/proto/types";
import { DuckEngine } from "../duck/index.js";
import { pathProblem } from "./confined-path.js";
import { partitionTextsOfFile, SCHEMA_FILE } from "./partition-paths.js";
import { MAX_PARTITIONS_PER_COMMIT, partitionValuesOf, writeGroupFiles } from "./partitions.js";

/** The data files (not the schema file) of a write. */
const data = (files: readonly string[]) => files.filter((f) => f !== SCHEMA_FILE);

const SEQ = "00000000000000000007";
let base: string;
let engine: DuckEngine;
let n = 0;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "granary-partitioned-"));
  engine = await DuckEngine.open({ dataRoot: base, threads: 2, memoryLimit: "256MB", maxQueries: 1 });
});
afterAll(() => {
  engine.close();
  rmSync(base, { recursive: true, force: true });
});

function group(partitionKey: string[], columns: Record<string, ScalarType> = { id: ScalarType.INT64, s: ScalarType.STRING, d: ScalarType.DATE }): FeatureGroup {
  return create(FeatureGroupSchema, {
    project: "p",
    name: "g",
    version: 1,
    primaryKey: ["id"],
    partitionKey,
    columns: Object.entries(columns).map(([name, scalar]) => ({ name, type: { scalar } })),
  });
}

/** A fresh commit directory `<base>/p/g/v1/<n>/<SEQ>`; returns it and its path relative to `base`. */
function commitDir(): { dir: string; rel: string } {
  const rel = `p/g/v1/t${n++}/${SEQ}`;
  const dir = join(base, rel);
  mkdirSync(dir, { recursive: true });
  return { dir, rel };
}

const HOSTILE = [
  "a/b",
  "..",
  ".",
  "../../../../etc",
  "x=y",
  "50%",
  "%2F",
  "NULL",
  "null",
  "Null",
  "__HIVE_DEFAULT_PARTITION__",
  "__hive_default_partition__",
  "",
  "a*b?[c]{d}",
  "back\\slash",
  "new\nline",
  "tab\there",
  "\u0000",
  "é ü 😀",
  "sp ace",
  "'quote\"",
  "a+b",
  "plain",
];

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

describe("writeGroupFiles", () => {
  it("writes one file for a group without partition key", async () => {
    const { dir } = commitDir();
    const files = await engine.withConnection((c) => writeGroupFiles(c, group([]), "SELECT 1::BIGINT AS id", dir));
    expect(files).toEqual(["part-00000.parquet"]);
  });

  it("keeps hostile string values inside their commit directory and reads them back exactly, with or without DuckDB's Hive reading", async () => {
    const { dir, rel } = commitDir();
    const values = [...HOSTILE.map((s, i) => `(${i}::BIGINT, ${s === "\u0000" ? "chr(0)" : lit(s)}, DATE '2025-01-01')`), `(999::BIGINT, NULL, NULL)`];
    const select = `SELECT * FROM (VALUES ${values.join(", ")}) v(id, s, d)`;
    const files = await engine.withConnection((c) => writeGroupFiles(c, group(["s"]), select, dir));
    expect(files[0]).toBe(SCHEMA_FILE);
    expect(data(files)).toHaveLength(HOSTILE.length + 1);
    for (const f of data(files)) {
      // One directory level, then the file: nothing escapes, nothing nests deeper.
      expect(f.split("/")).toHaveLength(2);
      expect(f).toMatch(/^s=[A-Za-z0-9_%-]*\/part-00000\.parquet$/);
      expect(pathProblem(`${rel}/${f}`, "p/g/v1/")).toBeUndefined();
    }
    expect(readdirSync(dir).sort()).toEqual(files.map((f) => f.split("/")[0]).sort());
    const all = `[${files.map((f) => lit(join(dir, f))).join(", ")}]`;
    const list = `[${data(files)
      .map((f) => lit(join(dir, f)))
      .join(", ")}]`;
    // Every file holds exactly the rows of its partition, and its path says which.
    await engine.withConnection(async (c) => {
      for (const f of data(files)) {
        const rows = await c.rows(`SELECT id, s FROM read_parquet(${lit(join(dir, f))}, hive_partitioning = false)`);
        expect(rows).toHaveLength(1);
        const [text] = partitionTextsOfFile(["s"], `${rel}/${f}`)!;
        expect(text).toBe(rows[0]!.s);
      }
      const plain = await c.rows(`SELECT id, s FROM read_parquet(${all}, hive_partitioning = false) ORDER BY id`);
      const asReadersRead = await c.rows(`SELECT id, s FROM read_parquet(${all}, union_by_name = true) ORDER BY id`);
      const hive = await c.rows(`SELECT id, s FROM read_parquet(${list}, union_by_name = true) ORDER BY id`);
      const expected = [...HOSTILE.map((s, i) => ({ id: BigInt(i), s })), { id: 999n, s: null }];
      expect(plain).toEqual(expected);
      expect(asReadersRead).toEqual(expected);
      // Over the data files alone DuckDB detects the Hive layout and takes values from the path: ours decode to the same values.
      expect(hive).toEqual(expected);
    });
  });

  it("nests one level per partition column, typed values parsed back from the path", async () => {
    const { dir, rel } = commitDir();
    const g = group(["d", "s"], { id: ScalarType.INT64, s: ScalarType.INT32, d: ScalarType.DATE });
    const select = "SELECT i::BIGINT AS id, (i % 3 - 1)::INTEGER AS s, DATE '2024-02-28' + (i % 2)::INTEGER AS d FROM range(12) t(i)";
    const files = await engine.withConnection((c) => writeGroupFiles(c, g, select, dir));
    expect(files).toEqual([
      SCHEMA_FILE,
      "d=2024-02-28/s=-1/part-00000.parquet",
      "d=2024-02-28/s=0/part-00000.parquet",
      "d=2024-02-28/s=1/part-00000.parquet",
      "d=2024-02-29/s=-1/part-00000.parquet",
      "d=2024-02-29/s=0/part-00000.parquet",
      "d=2024-02-29/s=1/part-00000.parquet",
    ]);
    expect(partitionValuesOf(g, `${rel}/${SCHEMA_FILE}`)).toBeUndefined();
    const values = partitionValuesOf(g, `${rel}/${files[4]}`)!;
    expect(values.get("d")).toBe(BigInt(Date.UTC(2024, 1, 29) / 86_400_000));
    expect(values.get("s")).toBe(-1n);
    const rows = await engine.withConnection((c) =>
      c.rows(`SELECT count(*) AS n, count(DISTINCT (d, s)) AS k FROM read_parquet(${lit(join(dir, files[4]!))}, hive_partitioning = false)`),
    );
    expect(rows[0]).toEqual({ n: 2n, k: 1n });
  });

  it("reads typed values (bool, int, extreme dates, nulls) back the same through DuckDB's Hive reading", async () => {
    const { dir } = commitDir();
    const g = group(["b", "n", "d"], { id: ScalarType.INT64, b: ScalarType.BOOL, n: ScalarType.INT64, d: ScalarType.DATE });
    const select =
      "SELECT * FROM (VALUES (1::BIGINT, true, (-9223372036854775807 - 1)::BIGINT, DATE '0001-01-01' - 1000), (2, false, 0, 'infinity'::DATE), " +
      "(3, NULL, NULL, NULL), (4, true, 42, DATE '9999-12-31'), (5, false, 7, '-infinity'::DATE)) v(id, b, n, d)";
    const files = await engine.withConnection((c) => writeGroupFiles(c, g, select, dir));
    expect(data(files)).toHaveLength(5);
    const all = `[${files.map((f) => lit(join(dir, f))).join(", ")}]`;
    const list = `[${data(files)
      .map((f) => lit(join(dir, f)))
      .join(", ")}]`;
    await engine.withConnection(async (c) => {
      const plain = await c.rows(`SELECT id, b, n, d::VARCHAR AS d FROM read_parquet(${all}, hive_partitioning = false) ORDER BY id`);
      const asReadersRead = await c.rows(`SELECT id, b, n, d::VARCHAR AS d FROM read_parquet(${all}) ORDER BY id`);
      expect(asReadersRead).toEqual(plain);
      expect(plain.map((r) => r.d)).toEqual(["0003-04-07 (BC)", "infinity", null, "9999-12-31", "-infinity"]);
      expect(plain.map((r) => r.b)).toEqual([true, false, null, true, false]);
      // Why the schema file is there: over the data files alone, DuckDB types the Hive column by guessing.
      const guessed = await c.rows(`SELECT typeof(b) AS t FROM read_parquet(${list}) LIMIT 1`);
      expect(guessed[0]!.t).toBe("VARCHAR");
    });
  });

  it("writes several files into a partition when DuckDB splits it, each named part-NNNNN", async () => {
    const { dir } = commitDir();
    const files = await engine.withConnection(async (c) => {
      await c.run("SET partitioned_write_max_open_files = 2");
      try {
        return await writeGroupFiles(c, group(["s"]), "SELECT i::BIGINT AS id, (i % 5)::VARCHAR AS s FROM range(50000) t(i)", dir);
      } finally {
        await c.run("RESET partitioned_write_max_open_files");
      }
    });
    expect(new Set(data(files).map((f) => f.split("/")[0])).size).toBe(5);
    for (const f of data(files)) expect(f).toMatch(/^s=\d\/part-\d{5}\.parquet$/);
    const rows = await engine.withConnection((c) => c.rows(`SELECT count(*) AS n FROM read_parquet([${files.map((f) => lit(join(dir, f))).join(", ")}])`));
    expect(rows[0]!.n).toBe(50000n);
  });

  it("refuses more partitions than maxPartitions, writing nothing; without it writes them all", async () => {
    const many = commitDir();
    const select = `SELECT i::BIGINT AS id, i::VARCHAR AS s FROM range(${MAX_PARTITIONS_PER_COMMIT + 1}) t(i)`;
    const err = await engine
      .withConnection((c) => writeGroupFiles(c, group(["s"]), select, many.dir, { maxPartitions: MAX_PARTITIONS_PER_COMMIT }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/more than 1024 partitions/);
    expect(readdirSync(many.dir)).toEqual([]);
    const files = await engine.withConnection((c) => writeGroupFiles(c, group(["s"]), select, many.dir));
    expect(data(files)).toHaveLength(MAX_PARTITIONS_PER_COMMIT + 1);
  });

  it("names a value too long for a directory by its hash, reads it back, and never prunes it", async () => {
    const { dir, rel } = commitDir();
    const select = "SELECT * FROM (VALUES (1::BIGINT, repeat('é', 60)), (2::BIGINT, repeat('é', 61)), (3::BIGINT, repeat('a', 200))) v(id, s)";
    const files = data(await engine.withConnection((c) => writeGroupFiles(c, group(["s"]), select, dir)));
    expect(files).toHaveLength(3);
    const hashed = files.filter((f) => /^s=~[0-9a-f]{64}\/part-00000\.parquet$/.test(f));
    expect(hashed).toHaveLength(2);
    for (const f of hashed) expect(partitionTextsOfFile(["s"], `${rel}/${f}`)).toBeUndefined();
    expect(files).toContain(`s=${"a".repeat(200)}/part-00000.parquet`);
    const rows = await engine.withConnection((c) =>
      c.rows(`SELECT id, strlen(s) AS n FROM read_parquet([${[SCHEMA_FILE, ...files].map((f) => lit(join(dir, f))).join(", ")}]) ORDER BY id`),
    );
    expect(rows).toEqual([
      { id: 1n, n: 120n },
      { id: 2n, n: 122n },
      { id: 3n, n: 200n },
    ]);
  });
});
