import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import * as arrow from "apache-arrow";
import { Code } from "@connectrpc/connect";
import { toConnectError } from "@granary/errors";
import { FilterOperator, FilterSchema } from "@granary/proto/metadata";
import { DataTypeSchema, ScalarType } from "@granary/proto/types";
import { ArrowStager, stageColumn } from "./arrow-to-duck.js";
import { queryBatches } from "./query-batches.js";
import { DuckEngine } from "./duckdb-engine.js";
import { filterSql } from "./filter-sql.js";
import { fileList, quoteIdent } from "./sql-text.js";

// Decision: offline accepts NUL in string values, as online does. DuckDB and Parquet hold NUL in
// strings; only DuckDB's SQL text cannot (the C API cuts it at a NUL), so literals spell it chr(0).
const STRING = create(DataTypeSchema, { scalar: ScalarType.STRING });
const VALUES = ["a\u0000b", "a", "\u0000", "it's\u0000"];

let engine: DuckEngine;
const root = mkdtempSync(join(tmpdir(), "granary-nul-"));
beforeAll(async () => {
  engine = await DuckEngine.open({ dataRoot: root, threads: 1, memoryLimit: "256MB", maxQueries: 2 });
  const input = new arrow.Table({ s: arrow.vectorFromArray(VALUES, new arrow.Utf8()) });
  await engine.withConnection(async (c) => {
    const stager = await ArrowStager.create(c, "staged", [stageColumn("s", 0, input.schema.fields[0]!.type, STRING)]);
    for (const batch of input.batches) await stager.append(batch);
    await stager.close();
    await c.run(`COPY (SELECT * FROM staged) TO '${join(root, "nul.parquet")}' (FORMAT parquet)`);
  });
});
afterAll(() => {
  engine.close();
  rmSync(root, { recursive: true, force: true });
});

function eq(value: string) {
  return create(FilterSchema, {
    kind: { case: "condition", value: { column: "s", operator: FilterOperator.EQ, value: { kind: { case: "stringValue", value } } } },
  });
}

async function read(where: string): Promise<string[]> {
  return engine.withConnection(async (c) => {
    const { batches } = await queryBatches(c, `SELECT s FROM read_parquet(${fileList([join(root, "nul.parquet")])}) WHERE ${where}`, 100);
    const out: string[] = [];
    for await (const b of batches) for (const row of b) out.push(String(row!.s));
    return out;
  });
}

describe("NUL in offline string values", () => {
  it("round-trips through Arrow staging and Parquet, and a filter on it matches exactly its row", async () => {
    const resolve = (name: string) => (name === "s" ? { expr: quoteIdent("s"), type: STRING } : undefined);
    for (const value of VALUES) expect(await read(filterSql(eq(value), resolve, "filter"))).toEqual([value]);
    expect(await read(filterSql(eq("ab"), resolve, "filter"))).toEqual([]);
  });

  it("a NUL that would reach SQL text raw is refused with INVALID_ARGUMENT, never INTERNAL", async () => {
    const err = await engine.rows("SELECT 'a\u0000b' AS s").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(toConnectError(err).code).toBe(Code.InvalidArgument);
  });
});
