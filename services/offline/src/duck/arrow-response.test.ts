import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { DuckEngine } from "./duckdb-engine.js";
import { streamQuery } from "./arrow-response.js";

const LABELS = { project: "test", source: "query", operation: "read" } as const;

let engine: DuckEngine;
const root = mkdtempSync(join(tmpdir(), "granary-stream-"));

beforeAll(async () => {
  engine = await DuckEngine.open({ dataRoot: root, threads: 2, memoryLimit: "256MB", maxQueries: 1 });
});
afterAll(() => {
  engine.close();
  rmSync(root, { recursive: true, force: true });
});

describe("streamQuery", () => {
  it("streams a result as IPC messages of bounded size that decode to the whole result", async () => {
    const parts: Uint8Array[] = [];
    const controller = new AbortController();
    for await (const m of streamQuery(engine, "SELECT i, i * 0.5::DOUBLE AS x, 'row ' || i AS s FROM range(200000) t(i)", 64 * 1024, controller.signal, LABELS))
      parts.push(m);
    expect(Math.max(...parts.map((p) => p.byteLength))).toBeLessThanOrEqual(64 * 1024);
    const table = arrow.tableFromIPC(parts);
    expect(table.numRows).toBe(200_000);
    expect(table.get(199_999)?.toJSON()).toEqual({ i: 199_999n, x: 99_999.5, s: "row 199999" });
  });

  it("sizes batches to messages, so each message starts a batch; every value and null intact", async () => {
    const parts: Uint8Array[] = [];
    const sql = `SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE i * 0.5::DOUBLE END AS x, i % 2 = 0 AS b,
      CASE WHEN i % 7 = 0 THEN NULL ELSE 'v' || i END AS s, CASE WHEN i % 5 = 0 THEN NULL ELSE [i, i + 1] END AS l
      FROM range(50000) t(i) ORDER BY i`;
    for await (const m of streamQuery(engine, sql, 64 * 1024, new AbortController().signal, LABELS)) parts.push(m.slice());
    // Widths of strings and lists are learnt from the first batches; after them no batch is cut.
    for (const p of parts.slice(4)) expect(Array.from(p.subarray(0, 4))).toEqual([0xff, 0xff, 0xff, 0xff]);
    const table = arrow.tableFromIPC(parts);
    expect(table.batches.length).toBeGreaterThan(10);
    expect(table.numRows).toBe(50_000);
    const wrong: number[] = [];
    const [i, x, b, str, l] = ["i", "x", "b", "s", "l"].map((c) => table.getChild(c)!);
    for (let k = 0; k < 50_000; k++) {
      const list = l!.get(k) as arrow.Vector | null;
      const ok =
        i!.get(k) === BigInt(k) &&
        x!.get(k) === (k % 3 === 0 ? null : k * 0.5) &&
        b!.get(k) === (k % 2 === 0) &&
        str!.get(k) === (k % 7 === 0 ? null : `v${k}`) &&
        (k % 5 === 0 ? list === null : list !== null && list.get(0) === BigInt(k) && list.get(1) === BigInt(k + 1) && list.length === 2);
      if (!ok) wrong.push(k);
    }
    expect(wrong).toEqual([]);
  });

  it("sends the schema even for an empty result", async () => {
    const parts: Uint8Array[] = [];
    for await (const m of streamQuery(engine, "SELECT 1::INTEGER AS a WHERE false", 1024, new AbortController().signal, LABELS)) parts.push(m);
    const table = arrow.tableFromIPC(parts);
    expect([table.numRows, table.schema.fields.map((f) => f.name)]).toEqual([0, ["a"]]);
  });

  it("fails a query that DuckDB ends early with an error, instead of returning a truncated result", async () => {
    const run = async () => {
      for await (const m of streamQuery(
        engine,
        "SELECT CASE WHEN i > 300000 THEN error('boom') ELSE i END AS x FROM range(1000000) t(i)",
        64 * 1024,
        new AbortController().signal,
        LABELS,
      ))
        void m;
    };
    await expect(run()).rejects.toThrow(/before its end marker/);
    expect(engine.busy).toBe(0);
  });

  it("stops a cancelled query promptly and gives its connection back", async () => {
    const controller = new AbortController();
    // Endless unless interrupted: a cross join of a billion rows by a thousand.
    const stream = streamQuery(engine, "SELECT a.i, b.i AS j FROM range(1000000000) a(i), range(1000) b(i)", 64 * 1024, controller.signal, LABELS);
    const first = await stream.next();
    expect(first.done).toBe(false);
    expect(engine.busy).toBe(1);
    const started = Date.now();
    controller.abort();
    await expect(
      (async () => {
        for (;;) if ((await stream.next()).done) break;
      })(),
    ).rejects.toThrow();
    expect(engine.busy).toBe(0);
    // The pool holds one connection: this only runs if the cancelled query let it go.
    expect(await engine.rows("SELECT 42 AS answer")).toEqual([{ answer: 42 }]);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
