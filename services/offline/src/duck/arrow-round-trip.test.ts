import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { ScalarType, type DataType } from "@granary/proto/types";
import { DuckEngine } from "./duckdb-engine.js";
import { ArrowStager, stageColumn } from "./arrow-to-duck.js";
import { arrowPayloads } from "@granary/arrow";
import { queryBatches } from "./query-batches.js";
import { IpcFraming } from "../ipc-framing.js";

let engine: DuckEngine;
const root = mkdtempSync(join(tmpdir(), "granary-arrow-"));
beforeAll(async () => {
  engine = await DuckEngine.open({ dataRoot: root, threads: 2, memoryLimit: "256MB", maxQueries: 2 });
});
afterAll(() => {
  engine.close();
  rmSync(root, { recursive: true, force: true });
});

const type = (scalar: ScalarType, list = false) => ({ scalar, list, dimension: 0 }) as DataType;

describe("Arrow into DuckDB and back", () => {
  it("keeps values and nulls of every type, across chunk boundaries and unaligned validity", async () => {
    const n = 5003;
    const nth = <T>(k: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => (i % k === 0 ? null : f(i)));
    const input = new arrow.Table({
      i64: arrow.vectorFromArray(
        nth(3, (i) => BigInt(i) * 1_000_000_007n),
        new arrow.Int64(),
      ),
      i32: arrow.vectorFromArray(
        nth(5, (i) => i),
        new arrow.Int16(),
      ),
      f32: arrow.vectorFromArray(
        nth(7, (i) => i / 4),
        new arrow.Float32(),
      ),
      f64: arrow.vectorFromArray(
        nth(2, (i) => i / 3),
        new arrow.Float64(),
      ),
      b: arrow.vectorFromArray(
        nth(11, (i) => i % 3 === 0),
        new arrow.Bool(),
      ),
      s: arrow.vectorFromArray(
        nth(13, (i) => `value ${i} ${"é".repeat(i % 17)}`),
        new arrow.Utf8(),
      ),
      bin: arrow.vectorFromArray(
        nth(9, (i) => new Uint8Array([i & 255, 1, 2])),
        new arrow.Binary(),
      ),
      ts: arrow.vectorFromArray(
        nth(4, (i) => 1_700_000_000_000 + i),
        new arrow.TimestampMillisecond(),
      ),
      d: arrow.vectorFromArray(
        nth(6, (i) => 86_400_000 * i),
        new arrow.DateDay(),
      ),
      l: arrow.vectorFromArray(
        nth(8, (i) => Array.from({ length: i % 4 }, (_, k) => i + k)),
        new arrow.List(new arrow.Field("item", new arrow.Float64(), true)),
      ),
    });
    const targets: Record<string, DataType> = {
      i64: type(ScalarType.INT64),
      i32: type(ScalarType.INT32),
      f32: type(ScalarType.FLOAT),
      f64: type(ScalarType.DOUBLE),
      b: type(ScalarType.BOOL),
      s: type(ScalarType.STRING),
      bin: type(ScalarType.BYTES),
      ts: type(ScalarType.TIMESTAMP),
      d: type(ScalarType.DATE),
      l: type(ScalarType.DOUBLE, true),
    };
    // Slices make Arrow offsets that are not multiples of eight.
    const sliced = input.slice(3);
    const columns = sliced.schema.fields.map((f, i) => stageColumn(f.name, i, f.type, targets[f.name]!));
    const output = await engine.withConnection(async (c) => {
      const stager = await ArrowStager.create(c, "t", columns);
      for (const batch of sliced.batches) await stager.append(batch);
      await stager.close();
      const { batches } = await queryBatches(c, `SELECT * FROM t ORDER BY rowid`, 1000);
      const out: arrow.RecordBatch[] = [];
      for await (const b of batches) out.push(b);
      return new arrow.Table(out);
    });
    expect(output.numRows).toBe(n - 3);
    const json = (t: arrow.Table, r: number) =>
      JSON.stringify(t.get(r)?.toJSON(), (_, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Array.from(v) : v));
    for (const r of [0, 1, 2, 3, 64, 2045, 2046, 2047, 2048, 4000, n - 4]) {
      const expected = JSON.parse(json(sliced, r));
      const actual = JSON.parse(json(output, r));
      expect(actual).toEqual(expected);
    }
  });
});

describe("IpcFraming", () => {
  it("sees the end-of-stream marker however the stream is cut, and not before", () => {
    const table = new arrow.Table({ x: arrow.vectorFromArray([1, 2, 3], new arrow.Int32()), s: arrow.vectorFromArray(["a", "b", "c"], new arrow.Utf8()) });
    for (const size of [1, 7, 64, 100_000]) {
      const framing = new IpcFraming();
      const parts = [...arrowPayloads(table, size)];
      parts.forEach((p, i) => {
        expect(framing.ended).toBe(false);
        framing.push(p);
        expect(framing.ended).toBe(i === parts.length - 1);
      });
    }
  });
});
