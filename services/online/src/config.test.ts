import { describe, expect, it } from "@jest/globals";
import { ConfigError } from "@granary/config";
import { loadOnlineConfig } from "./config.js";
import { workerExecArgv } from "./cluster/worker-pool.js";

const BASE = { GRANARY_AUTH: "off", GRANARY_DATA_DIR: "/tmp/granary-config-test" };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadOnlineConfig({ ...BASE, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("loadOnlineConfig: workers", () => {
  it("defaults to one process for the library, and to what main passes (the core count) for containers", () => {
    expect(loadOnlineConfig(BASE).workers).toBe(1);
    expect(loadOnlineConfig(BASE, { workers: 8 }).workers).toBe(8);
    // A machine with more cores than the cap still starts.
    expect(loadOnlineConfig(BASE, { workers: 200 }).workers).toBe(64);
  });

  it("reads GRANARY_ONLINE_WORKERS, which wins over the default", () => {
    expect(loadOnlineConfig({ ...BASE, GRANARY_ONLINE_WORKERS: "1" }, { workers: 8 }).workers).toBe(1);
    expect(loadOnlineConfig({ ...BASE, GRANARY_ONLINE_WORKERS: "64" }).workers).toBe(64);
  });

  it.each(["0", "65", "-1", "2.5", "all"])("refuses %s with a ConfigError naming the key", (value) => {
    const problems = problemsOf({ GRANARY_ONLINE_WORKERS: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("GRANARY_ONLINE_WORKERS");
  });
});

describe("workers' Node options", () => {
  it("add tsx's loader when missing (under jest) and keep the rest", () => {
    expect(workerExecArgv(["--experimental-vm-modules"])).toEqual(["--experimental-vm-modules", "--import", "tsx"]);
    expect(workerExecArgv(["--import", "tsx", "--enable-source-maps"])).toEqual(["--import", "tsx", "--enable-source-maps"]);
    expect(workerExecArgv(["--import=tsx"])).toEqual(["--import=tsx"]);
  });
});
