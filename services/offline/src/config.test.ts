import { describe, expect, it } from "@jest/globals";
import { ConfigError } from "@granary/config";
import { loadOfflineConfig } from "./config.js";

const BASE = { GRANARY_AUTH: "off", GRANARY_DATA_DIR: "/tmp/granary-config-test" };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadOfflineConfig({ ...BASE, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("loadOfflineConfig: online push attempts", () => {
  it("defaults to 10 and reads GRANARY_OFFLINE_ONLINE_PUSH_MAX_ATTEMPTS", () => {
    expect(loadOfflineConfig(BASE).onlinePushMaxAttempts).toBe(10);
    expect(loadOfflineConfig({ ...BASE, GRANARY_OFFLINE_ONLINE_PUSH_MAX_ATTEMPTS: "1" }).onlinePushMaxAttempts).toBe(1);
    expect(loadOfflineConfig({ ...BASE, GRANARY_OFFLINE_ONLINE_PUSH_MAX_ATTEMPTS: "1000" }).onlinePushMaxAttempts).toBe(1000);
  });

  it.each(["0", "1001", "-3", "2.5", "ten"])("refuses %s with a ConfigError naming the key", (value) => {
    const problems = problemsOf({ GRANARY_OFFLINE_ONLINE_PUSH_MAX_ATTEMPTS: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("GRANARY_OFFLINE_ONLINE_PUSH_MAX_ATTEMPTS");
    expect(problems[0]).toMatch(/between 1 and 1000|must be an integer/);
  });
});

describe("loadOfflineConfig: micro-batches from the write log", () => {
  it("defaults to 50,000 rows or 1,000 ms and reads GRANARY_OFFLINE_STREAM_MAX_ROWS / _MAX_MS", () => {
    expect(loadOfflineConfig(BASE).stream).toEqual({ maxRows: 50_000, maxMs: 1000 });
    expect(loadOfflineConfig({ ...BASE, GRANARY_OFFLINE_STREAM_MAX_ROWS: "10", GRANARY_OFFLINE_STREAM_MAX_MS: "200" }).stream).toEqual({
      maxRows: 10,
      maxMs: 200,
    });
  });

  it("refuses a micro-batch of no rows", () => {
    expect(problemsOf({ GRANARY_OFFLINE_STREAM_MAX_ROWS: "0" })[0]).toContain("GRANARY_OFFLINE_STREAM_MAX_ROWS");
  });
});
