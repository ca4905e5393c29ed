import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { DuckEngine } from "./duckdb-engine.js";
import { streamQuery } from "./arrow-response.js";

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
    for await (const m of streamQuery(engine, "SELECT i, i * 0.5::DOUBLE AS x, 'row ' || i AS s FROM range(200000) t(i)", 64 * 1024, controller.signal))
      parts.push(m);
    expect(Math.max(...parts.map((p) => p.byteLength))).toBeLessThanOrEqual(64 * 1024);
    const table = arrow.tableFromIPC(parts);
    expect(table.numRows).toBe(200_000);
    expect(table.get(199_999)?.toJSON()).toEqual({ i: 199_999n, x: 99_999.5, s: "row 199999" });
  });

  it("sends the schema even for an empty result", async () => {
    const parts: Uint8Array[] = [];
    for await (const m of streamQuery(engine, "SELECT 1::INTEGER AS a WHERE false", 1024, new AbortController().signal)) parts.push(m);
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
      ))
        void m;
    };
    await expect(run()).rejects.toThrow(/before its end marker/);
    expect(engine.busy).toBe(0);
  });

  it("stops a cancelled query promptly and gives its connection back", async () => {
    const controller = new AbortController();
    // Endless unless interrupted: a cross join of a billion rows by a thousand.
    const stream = streamQuery(engine, "SELECT a.i, b.i AS j FROM range(1000000000) a(i), range(1000) b(i)", 64 * 1024, controller.signal);
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
