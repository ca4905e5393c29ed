// What both demos share: a Granary to talk to (the running `npm start`, or a suite started here
// when none answers), a seeded random generator, and timing helpers.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, resolveApiKey, type ConnectOptions, type Granary } from "@granary/client";
import { startSuiteOnFreePorts } from "@granary/suite";
import { createLogger } from "@granary/telemetry";

export interface DemoSuite {
  readonly granary: Granary;
  /** True when this process started the suite (it stops it in close()). */
  readonly started: boolean;
  close(): Promise<void>;
}

/**
 * Connects to the suite at the usual addresses (GRANARY_*_ADDRESS or 127.0.0.1:5005x) with the
 * SDK's API key (GRANARY_API_KEY, GRANARY_API_KEY_FILE, or the admin.key `npm start` wrote under
 * ./.granary); when none answers, starts one in this process on free ports with embedded
 * PostgreSQL (or DATABASE_URL) and a scratch data directory, and uses the admin key it made there.
 */
export async function openDemoSuite(options: ConnectOptions = {}, log: (line: string) => void = console.log): Promise<DemoSuite> {
  const existing = connect(options);
  const report = await existing.health(1_000);
  if (Object.values(report).every((r) => r.status === "SERVING")) {
    log(`using the running suite (metadata at ${existing.addresses.metadata})`);
    return { granary: existing, started: false, close: async () => {} };
  }
  log("no running suite answered: starting one in this process (embedded PostgreSQL unless DATABASE_URL is set)");
  const dataDir = mkdtempSync(join(tmpdir(), "granary-demo-"));
  chmodSync(dataDir, 0o755); // embedded PostgreSQL runs as user postgres when we are root
  const env: Record<string, string> = { GRANARY_DATA_DIR: dataDir, GRANARY_LOG_LEVEL: "warn" };
  if (process.env["DATABASE_URL"]) env["DATABASE_URL"] = process.env["DATABASE_URL"];
  const suite = await startSuiteOnFreePorts(env, createLogger({ level: "warn", service: "demo" }));
  // A fresh data directory: the metadata service wrote its admin key there on start (none when authentication is off).
  const apiKey = options.apiKey ?? resolveApiKey({ GRANARY_DATA_DIR: dataDir });
  const granary = connect({ ...options, addresses: suite.addresses, ...(apiKey ? { apiKey } : {}) });
  await granary.waitUntilServing(30_000);
  return {
    granary,
    started: true,
    async close() {
      await suite.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The seeded generator the demos draw their data from (the same seed gives the same data). */
export { seededRandom } from "@granary/testing";

/** A normally distributed value (Box–Muller) from a uniform generator. */
export function gaussian(random: () => number, mean = 0, stddev = 1): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return mean + stddev * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** p-th percentile (0–100) of latencies in milliseconds. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}
