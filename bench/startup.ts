// Start-up: the compiled bundles (npm run build) against the same entry points under tsx, which
// compiled TypeScript at every start until issue 20. A B A B, so a drift of the machine's speed
// touches both; medians of each. Measured, from outside the process:
//   - cli-help:   `granary --help` (the CLI loads, parses, prints, exits)
//   - cli-status: `granary status` against a running suite (four health calls over gRPC)
//   - cli-list:   `granary models list` (one authenticated catalogue call), when the CLI has it
//   - suite:      the one-process suite (`npm start`) from spawn to its "Granary is running" banner,
//                 on a database of its own on PostgreSQL (DATABASE_URL's server, default the
//                 machine's 127.0.0.1:5432/test) and a fresh data directory, then Ctrl-C
// Prints one JSON line.
//
//   npm run bench:startup [-- --runs 7]
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, rmSync, chmodSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { startTestSuite } from "@granary/suite";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;
const run = promisify(execFile);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const ms = (x: number) => Math.round(x);

async function timeCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  await run(process.execPath, args, { cwd: ROOT, env, timeout: 60_000 }).catch((err: { code?: number }) => {
    // `status` exits 1 when a service is not serving: that is an answer, not a failure to start.
    if (typeof err.code !== "number") throw err;
  });
  return performance.now() - started;
}

/** A/B pairs: each run of `a` followed by one of `b`. */
async function pairs(a: () => Promise<number>, b: () => Promise<number>) {
  await a();
  await b();
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    as.push(await a());
    bs.push(await b());
  }
  return {
    compiled_ms: ms(median(as)),
    tsx_ms: ms(median(bs)),
    compiled_min_ms: ms(Math.min(...as)),
    tsx_min_ms: ms(Math.min(...bs)),
    speedup: Number((median(bs) / median(as)).toFixed(2)),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function suiteStart(args: string[], baseUrl: string, n: number): Promise<number> {
  const db = `granary_startup_bench_${process.pid}_${n}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const dataDir = mkdtempSync(join(tmpdir(), "granary-startup-"));
  chmodSync(dataDir, 0o755);
  const url = new URL(baseUrl);
  url.pathname = `/${db}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: url.toString(),
    GRANARY_DATA_DIR: dataDir,
    GRANARY_CONSOLE_PORT: "off",
  };
  // Free ports, each service told where the others are: nothing else on the machine is disturbed.
  for (const name of ["METADATA", "ONLINE", "OFFLINE", "REGISTRY"]) {
    const port = await freePort();
    env[`GRANARY_${name}_PORT`] = String(port);
    env[`GRANARY_${name}_ADDRESS`] = `127.0.0.1:${port}`;
    env[`GRANARY_${name}_HTTP_PORT`] = "0";
  }
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner after 60 s:\n${out.slice(-2000)}`)), 60_000);
      child.stdout.on("data", (b: Buffer) => {
        out += b.toString();
        if (out.includes("Granary is running")) {
          clearTimeout(timer);
          resolve(performance.now() - started);
        }
      });
      child.stderr.on("data", (b: Buffer) => (out += b.toString()));
      child.once("exit", (code) => reject(new Error(`exited ${code} before its banner:\n${out.slice(-2000)}`)));
    });
  } finally {
    child.kill("SIGINT");
    const kill = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once("exit", resolve)));
    clearTimeout(kill);
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const cli = (compiled: boolean, args: string[], env: NodeJS.ProcessEnv) => () =>
  timeCommand(compiled ? ["apps/cli/dist/cli.js", ...args] : ["--import", "tsx", "apps/cli/src/main.ts", ...args], env);

const results: Record<string, unknown> = { runs: RUNS, loadavg: (await import("node:os")).loadavg().map((x) => Number(x.toFixed(2))) };
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GRANARY_")));
results["cli_help"] = await pairs(cli(true, ["--help"], baseEnv), cli(false, ["--help"], baseEnv));

const pgBase = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
process.env.DATABASE_URL = pgBase;
const { suite, keys, stop } = await startTestSuite("startup_bench");
try {
  const a = suite.addresses;
  const env = {
    ...baseEnv,
    GRANARY_METADATA_ADDRESS: a.metadata,
    GRANARY_ONLINE_ADDRESS: a.online,
    GRANARY_OFFLINE_ADDRESS: a.offline,
    GRANARY_REGISTRY_ADDRESS: a.registry,
    GRANARY_API_KEY: keys.adminKey,
  };
  results["cli_status"] = await pairs(cli(true, ["status"], env), cli(false, ["status"], env));
  results["cli_models_list"] = await pairs(cli(true, ["models", "list"], env), cli(false, ["models", "list"], env));
} finally {
  await stop();
}

let n = 0;
try {
  results["suite_to_banner"] = await pairs(
    () => suiteStart(["dist/granary.js"], pgBase, n++),
    () => suiteStart(["--import", "tsx", "scripts/start.ts"], pgBase, n++),
  );
} catch (err) {
  results["suite_to_banner"] = { skipped: err instanceof Error ? err.message.split("\n")[0] : String(err) };
}
process.stdout.write(`${JSON.stringify(results)}\n`);
