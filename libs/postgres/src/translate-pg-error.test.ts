import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  AbortedError,
  AlreadyExistsError,
  FailedPreconditionError,
  type GranaryError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from "@granary/errors";
import { createPool } from "./create-pool.js";
import { QueryDeadlineError } from "./query-deadline.js";
import { isDatabaseReachable } from "./is-database-reachable.js";
import { openTestDatabase, type TestDatabase } from "./test-database.js";
import { isUnavailable, translatePgError } from "./translate-pg-error.js";

let db: TestDatabase;
let schema: string;

beforeAll(async () => {
  db = await openTestDatabase(process.env["DATABASE_URL"]);
  schema = db.newSchema();
  await db.pool.query(`
    CREATE SCHEMA ${schema};
    CREATE TABLE ${schema}.parents (name text PRIMARY KEY);
    CREATE TABLE ${schema}.children (name text PRIMARY KEY, parent text NOT NULL REFERENCES ${schema}.parents)`);
});

afterAll(async () => {
  await db?.close();
});

/** What the server would send: pg's DatabaseError carries a severity next to the SQLSTATE. */
function serverError(code: string, message = "server text with secret value 42"): Error {
  return Object.assign(new Error(message), { code, severity: "ERROR" });
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("translatePgError", () => {
  it.each([
    ["23505", AlreadyExistsError],
    ["23503", FailedPreconditionError],
    ["23514", InvalidArgumentError],
    ["22021", InvalidArgumentError],
    ["22P05", InvalidArgumentError],
    ["40001", AbortedError],
    ["40P01", AbortedError],
    ["08006", UnavailableError],
    ["08P01", UnavailableError],
    ["57P01", UnavailableError],
    ["57P02", UnavailableError],
    ["57P03", UnavailableError],
    ["53300", UnavailableError],
    ["55000", UnavailableError],
    ["57014", QueryDeadlineError],
  ])("maps SQLSTATE %s to %p, keeping the driver error as cause only", (code, type) => {
    const original = serverError(code);
    const translated = translatePgError(original);
    expect(translated).toBeInstanceOf(type);
    expect((translated as Error).cause).toBe(original);
    expect((translated as Error).message).not.toContain("secret");
  });

  it("maps pg's query_timeout to DeadlineExceeded", () => {
    const original = new Error("Query read timeout");
    const translated = translatePgError(original);
    expect(translated).toBeInstanceOf(QueryDeadlineError);
    expect(Code[(translated as GranaryError).code]).toBe("DeadlineExceeded");
    expect((translated as Error).cause).toBe(original);
  });

  it.each(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE"])("maps the socket error %s to Unavailable", (code) => {
    const translated = translatePgError(Object.assign(new Error(`connect ${code}`), { code }));
    expect(translated).toBeInstanceOf(UnavailableError);
    expect((translated as Error).message).toBe("database unavailable; retry later");
  });

  it.each([
    "Connection terminated unexpectedly",
    "Connection terminated due to connection timeout",
    "timeout exceeded when trying to connect",
    "Client was closed and is not queryable",
  ])("maps pg's %j to Unavailable", (message) => {
    expect(translatePgError(new Error(message))).toBeInstanceOf(UnavailableError);
  });

  it("maps a failed connection to a host with several addresses (AggregateError) to Unavailable", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED ::1:5432"), { code: "ECONNREFUSED" });
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(translatePgError(new AggregateError([refused, reset]))).toBeInstanceOf(UnavailableError);
  });

  it("returns everything else unchanged", () => {
    const syntax = serverError("42601");
    expect(translatePgError(syntax)).toBe(syntax);
    const typed = new NotFoundError("no such feature group");
    expect(translatePgError(typed)).toBe(typed);
    const plain = new Error("EPIPE-looking text but no code");
    expect(translatePgError(plain)).toBe(plain);
    expect(translatePgError("a string")).toBe("a string");
    expect(translatePgError(undefined)).toBeUndefined();
  });

  it("maps a real unique violation to AlreadyExists", async () => {
    await db.pool.query(`INSERT INTO ${schema}.parents VALUES ('p1')`);
    const err = await caught(db.pool.query(`INSERT INTO ${schema}.parents VALUES ('p1')`));
    const translated = translatePgError(err);
    expect(translated).toBeInstanceOf(AlreadyExistsError);
    expect((translated as GranaryError).cause).toBe(err);
    expect((translated as GranaryError).message).not.toContain("p1");
  });

  it("maps a real NUL character in text or jsonb to InvalidArgument", async () => {
    for (const [sql, value] of [
      ["SELECT name FROM parents WHERE name ILIKE $1", "%a\0b%"],
      ["SELECT $1::jsonb", JSON.stringify({ tag: "a\0b" })],
    ] as const) {
      const err = await caught(db.pool.query(sql.replace("parents", `${schema}.parents`), [value]));
      const translated = translatePgError(err);
      expect(translated).toBeInstanceOf(InvalidArgumentError);
      expect((translated as Error).message).toBe("a text value contains a NUL character, which is not allowed");
    }
  });

  it("maps a real foreign key violation to FailedPrecondition", async () => {
    const err = await caught(db.pool.query(`INSERT INTO ${schema}.children VALUES ('c1', 'missing')`));
    expect(translatePgError(err)).toBeInstanceOf(FailedPreconditionError);
  });

  it("maps a server nobody listens on to Unavailable, never NotFound", async () => {
    const pool = createPool({ url: "postgres://postgres@127.0.0.1:1/granary" });
    try {
      const err = await caught(pool.query("SELECT 1"));
      expect(translatePgError(err)).toBeInstanceOf(UnavailableError);
      expect(isUnavailable(err)).toBe(true);
      expect(await isDatabaseReachable(pool)).toBe(false);
    } finally {
      await pool.end();
    }
  });

  it("maps a real database refusing connections (SQLSTATE 55000) to Unavailable", async () => {
    // template0 never accepts connections: the server answers as for a database closed for now.
    const url = new URL(db.url);
    url.pathname = "/template0";
    const pool = createPool({ url: url.toString() });
    try {
      const err = await caught(pool.query("SELECT 1"));
      expect((err as { code?: unknown }).code).toBe("55000");
      expect(translatePgError(err)).toBeInstanceOf(UnavailableError);
    } finally {
      await pool.end();
    }
  });
});

describe("isUnavailable", () => {
  it("is false for errors the caller caused", () => {
    expect(isUnavailable(serverError("23505"))).toBe(false);
    expect(isUnavailable(new Error("boom"))).toBe(false);
    expect(isUnavailable(new UnavailableError("down"))).toBe(true);
  });
});

describe("isDatabaseReachable", () => {
  it("is true for a live server", async () => {
    expect(await isDatabaseReachable(db.pool)).toBe(true);
  });
});
