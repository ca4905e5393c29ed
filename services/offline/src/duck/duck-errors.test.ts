import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { GranaryError, toConnectError } from "@granary/errors";
import { callerInputError } from "./duck-errors.js";
import { DuckEngine } from "./duckdb-engine.js";

// Real DuckDB, provoked into each failure; what reaches the wire is checked with the server's mapper.
let engine: DuckEngine;
const root = mkdtempSync(join(tmpdir(), "granary-duck-errors-"));
beforeAll(async () => {
  engine = await DuckEngine.open({ dataRoot: root, threads: 1, memoryLimit: "20MB", maxQueries: 2 });
});
afterAll(() => {
  engine.close();
  rmSync(root, { recursive: true, force: true });
});

const HUGE_AGGREGATE = "SELECT string_agg(i::VARCHAR || repeat('x', 100), ',') AS s FROM range(10000000) t(i)";

async function wireError(work: Promise<unknown>) {
  const err = await work.then(
    () => {
      throw new Error("expected the query to fail");
    },
    (e: unknown) => e,
  );
  return { err, sent: toConnectError(err) };
}

function expectNoLeak(message: string, ...secrets: string[]): void {
  for (const s of [root, "SELECT", "LINE 1", ...secrets]) expect(message).not.toContain(s);
}

describe("DuckDB failures leave the engine typed", () => {
  it("out of memory → RESOURCE_EXHAUSTED naming the setting that raises the limit", async () => {
    const { sent } = await wireError(engine.rows(HUGE_AGGREGATE));
    expect(sent.code).toBe(Code.ResourceExhausted);
    expect(sent.rawMessage).toContain("GRANARY_OFFLINE_DUCKDB_MEMORY");
    expectNoLeak(sent.rawMessage, "string_agg");
  });

  it("out of memory before a stream's first chunk → RESOURCE_EXHAUSTED", async () => {
    const { sent } = await wireError(
      engine.withConnection(async (c) => {
        const { chunks } = await c.stream(HUGE_AGGREGATE);
        for await (const _ of chunks) void _;
      }),
    );
    expect(sent.code).toBe(Code.ResourceExhausted);
  });

  it("a full disk → RESOURCE_EXHAUSTED naming the volume to free, not the file", async () => {
    // /dev/full answers every write with ENOSPC: a real full disk, as DuckDB sees it.
    const { sent } = await wireError(engine.withConnection((c) => c.run("COPY (SELECT 1 AS x) TO '/dev/full' (FORMAT parquet)")));
    expect(sent.code).toBe(Code.ResourceExhausted);
    expect(sent.rawMessage).toContain("GRANARY_OFFLINE_DATA_ROOT");
    expectNoLeak(sent.rawMessage, "/dev/full", "COPY");
  });

  it("a file that cannot be read → UNAVAILABLE without its path", async () => {
    const missing = join(root, "p", "g", "v1", "7", "part-0.parquet");
    const { sent } = await wireError(engine.rows(`SELECT * FROM read_parquet('${missing}')`));
    expect(sent.code).toBe(Code.Unavailable);
    expectNoLeak(sent.rawMessage, missing, "part-0");
  });

  it("an interrupted query → CANCELLED; a call's abort reports the call's reason", async () => {
    const slow = "SELECT count(*) AS n FROM range(100000000000) a";
    const cancelled = await wireError(
      engine.withConnection(async (c) => {
        const running = c.rows(slow);
        setTimeout(() => c.interrupt(), 100);
        return running;
      }),
    );
    expect(cancelled.sent.code).toBe(Code.Canceled);
    const deadline = new AbortController();
    setTimeout(() => deadline.abort(new DOMException("deadline", "TimeoutError")), 100);
    const { err } = await wireError(engine.withConnection((c) => c.rows(slow, deadline.signal)));
    expect(err).toBe(deadline.signal.reason);
  });

  it("a NUL in SQL text → INVALID_ARGUMENT (DuckDB would cut the statement at it)", async () => {
    const { sent } = await wireError(engine.rows("SELECT 'a\u0000b' AS s"));
    expect(sent.code).toBe(Code.InvalidArgument);
    expect(sent.rawMessage).toContain("NUL");
  });

  it("conversion errors stay untyped (INTERNAL) unless the caller's values caused them", async () => {
    const { err, sent } = await wireError(engine.rows("SELECT 'abc'::INTEGER AS n"));
    expect(err).not.toBeInstanceOf(GranaryError);
    expect(sent.code).toBe(Code.Internal);
    const input = toConnectError(callerInputError(err, "rows[3].n"));
    expect(input.code).toBe(Code.InvalidArgument);
    expect(input.rawMessage).toBe("rows[3].n: a value does not fit its column: Could not convert string 'abc' to INT32");
    const overflow = await wireError(engine.rows("SELECT 2147483647::INTEGER + 1::INTEGER AS n"));
    expect(toConnectError(callerInputError(overflow.err, "rows")).code).toBe(Code.InvalidArgument);
  });

  it("the engine still answers after each failure", async () => {
    expect(await engine.rows("SELECT 42 AS n")).toEqual([{ n: 42 }]);
  });
});
