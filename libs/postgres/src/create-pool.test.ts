import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { GranaryError } from "@granary/errors";
import { runWithCallDeadline } from "@granary/server/call-deadline";
import { createPool } from "./create-pool.js";
import { translatePgError } from "./translate-pg-error.js";
import { withTransaction } from "./with-transaction.js";
import { openTestDatabase, type TestDatabase } from "./test-database.js";

let db: TestDatabase;

beforeAll(async () => {
  db = await openTestDatabase(process.env["DATABASE_URL"]);
});

afterAll(async () => {
  await db?.close();
});

describe("createPool", () => {
  it("names its connections and bounds statements", async () => {
    const applicationName = `granary-test-${randomBytes(4).toString("hex")}`;
    const pool = createPool({ url: db.url, applicationName });
    try {
      const { rows } = await pool.query("SELECT current_setting('application_name') AS name, current_setting('statement_timeout') AS timeout");
      expect(rows).toEqual([{ name: applicationName, timeout: "30s" }]);
    } finally {
      await pool.end();
    }
  });

  it("survives an idle connection being killed, and reconnects", async () => {
    const applicationName = `granary-test-${randomBytes(4).toString("hex")}`;
    const warnings: object[] = [];
    const pool = createPool({ url: db.url, max: 1, applicationName, logger: { warn: (obj) => warnings.push(obj) } });
    try {
      await pool.query("SELECT 1");
      await db.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [applicationName]);
      for (let i = 0; i < 100 && warnings.length === 0; i++) await sleep(20);
      expect(warnings).toHaveLength(1);
      expect(await pool.query("SELECT 1 AS ok").then((result) => result.rows)).toEqual([{ ok: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it("bounds a call's queries and transactions by the call's deadline", async () => {
    const pool = createPool({ url: db.url, max: 1 });
    const inCall = <T>(ms: number, fn: () => Promise<T>): Promise<T> =>
      runWithCallDeadline({ deadlineMs: Date.now() + ms, signal: new AbortController().signal }, fn);
    const codeOf = (err: unknown): string => {
      const typed = translatePgError(err);
      return typed instanceof GranaryError ? Code[typed.code] : String(err);
    };
    try {
      expect(await inCall(300, () => pool.query("SELECT pg_sleep(5)").then(() => "ok", codeOf))).toBe("DeadlineExceeded");
      const tx = inCall(300, () => withTransaction(pool, (client) => client.query("SELECT pg_sleep(5)")));
      expect(await tx.then(() => "ok", codeOf)).toBe("DeadlineExceeded");
      // The connections the timed-out queries held were given up; the pool still serves.
      expect(await inCall(5_000, () => pool.query("SELECT 1 AS ok")).then((r) => r.rows)).toEqual([{ ok: 1 }]);
      // Outside a call, only statement_timeout applies.
      expect(await pool.query("SELECT pg_sleep(0.5), 1 AS ok").then((r) => r.rows[0]?.ok)).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
