import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createPool } from "./create-pool.js";
import { startEmbeddedPostgres } from "./embedded-postgres.js";
import { findFreePort } from "./free-port.js";
import { isDatabaseReachable } from "./is-database-reachable.js";
import type { PostgresLogger } from "./postgres-logger.js";
import { postmasterPidPath } from "./postmaster-pid.js";
import { resolveDatabase } from "./resolve-database.js";
import { makeTempDir } from "./test-database.js";

// Always embedded, whatever DATABASE_URL says: starting and restarting the server is the subject.

interface LogLine {
  level: string;
  obj: object;
  msg: string | undefined;
}

function capturingLogger(): PostgresLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

async function query(url: string, sql: string): Promise<unknown[]> {
  const pool = createPool({ url, max: 1 });
  try {
    return (await pool.query(sql)).rows;
  } finally {
    await pool.end();
  }
}

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir();
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("startEmbeddedPostgres", () => {
  it("keeps the data across a stop and a start, and stop is idempotent", async () => {
    const logger = capturingLogger();
    const sigtermListeners = process.listenerCount("SIGTERM");
    const first = await resolveDatabase({ dataDir: dir, logger });
    expect(first.embedded?.dataDir).toBe(path.join(dir, "postgres"));
    expect(first.url).toMatch(/^postgres:\/\/postgres:password@127\.0\.0\.1:\d+\/granary$/);
    // Signals stay the service's business: embedded-postgres's own exit hooks were taken back.
    expect(process.listenerCount("SIGTERM")).toBe(sigtermListeners);
    // PostgreSQL's chatter went to debug, nothing louder than info.
    expect(logger.lines.some((line) => line.level === "debug")).toBe(true);
    expect(logger.lines.filter((line) => line.level !== "debug" && line.level !== "info")).toEqual([]);

    await query(first.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives')");
    await Promise.all([first.stop(), first.stop()]);
    await first.stop();
    const stopped = createPool({ url: first.url });
    expect(await isDatabaseReachable(stopped)).toBe(false);
    await stopped.end();

    const port = await findFreePort();
    const second = await startEmbeddedPostgres({ dataDir: path.join(dir, "postgres"), port, logger });
    try {
      expect(second.port).toBe(port);
      expect(await query(second.url, "SELECT v FROM kept")).toEqual([{ v: "survives" }]);
      // Reused, not initialised again.
      expect(logger.lines.filter((line) => line.msg === "initialising embedded PostgreSQL cluster")).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });

  it("restarts over a postmaster.pid left by a crash, even when its pid was reused", async () => {
    const dataDir = path.join(dir, "crash");
    const logger = capturingLogger();
    const server = await startEmbeddedPostgres({ dataDir, logger });
    await query(server.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('committed')");

    const postmaster = Number((await readFile(postmasterPidPath(dataDir), "utf8")).split("\n")[0]);
    const backends = childrenOf(postmaster);
    process.kill(postmaster, "SIGKILL");
    // Orphaned backends still attached to the old shared memory would make the next start refuse.
    await waitUntilGone([postmaster, ...backends]);
    // The child's exit event can arrive after the processes are gone: wait for the log line.
    const reported = () => logger.lines.some((line) => line.level === "error" && line.msg?.includes("exited unexpectedly"));
    for (let i = 0; i < 100 && !reported(); i++) await sleep(50);
    await server.stop(); // returns at once: nothing left to stop
    expect(reported()).toBe(true);

    // After a container restart the old pid often belongs to some unrelated live process, which
    // PostgreSQL takes for a running server when it runs as the same user.
    const squatter = spawn("sleep", ["60"], { stdio: "ignore", ...postgresUser() });
    try {
      const lines = (await readFile(postmasterPidPath(dataDir), "utf8")).split("\n");
      lines[0] = String(squatter.pid);
      await writeFile(postmasterPidPath(dataDir), lines.join("\n"));

      const restarted = await startEmbeddedPostgres({ dataDir, logger });
      try {
        expect(logger.lines.some((line) => line.level === "warn" && line.msg?.includes("postmaster.pid"))).toBe(true);
        expect(await query(restarted.url, "SELECT v FROM kept")).toEqual([{ v: "committed" }]);
      } finally {
        await restarted.stop();
      }
    } finally {
      squatter.kill();
    }
  });
});

/** The uid PostgreSQL runs as: the `postgres` user when we are root, else ourselves. */
function postgresUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string): number => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function waitUntilGone(pids: number[]): Promise<void> {
  for (let i = 0; i < 100 && pids.some(isRunning); i++) await sleep(50);
}

/** Alive and not a zombie (an orphan's zombie lingers if PID 1 does not reap). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
