// Soak: N minutes (default 10) of mixed load against the one-process suite in a child process —
// offline inserts (rows and Arrow), online WriteRows, online lookups on a view joining two groups,
// point-in-time training data streams, model version uploads and artifact downloads — a few
// workers per kind, each paced to a fixed interval so two cores stay busy but not starved.
// Reports per kind ops/s, p50/p99 latency and errors by gRPC code; the child's RSS every 10 s and
// whether it stayed flat; then reads back every acknowledged write (verify.ts). Not run in CI.
// Progress lines while running; the last line is one JSON object. Exit code 1 when any call
// failed, any acknowledged write is lost or wrong, RSS was not flat, or the suite died.
//
//   npm run soak [-- --minutes 1] [-- --rate 0.5]
import { fork } from "node:child_process";
import { once } from "node:events";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import pg from "pg";
import { connect } from "@granary/client";
import { testKeys } from "@granary/testing";
import { KindRecorder } from "./soak/recorder.js";
import { cpuSeconds, flatness, readRss, type RssSample } from "./soak/rss.js";
import { verify } from "./soak/verify.js";
import { Acknowledged, createCatalogue, operations, type OperationKind } from "./soak/workload.js";

const { values: args } = parseArgs({ options: { minutes: { type: "string", default: "10" }, rate: { type: "string", default: "1" } }, strict: true });
const MINUTES = Number(args.minutes);
const RATE = Number(args.rate);
if (!(MINUTES > 0) || !(RATE > 0)) throw new RangeError(`--minutes and --rate take positive numbers, got ${args.minutes} and ${args.rate}`);
const SAMPLE_EVERY_MS = 10_000;

/** Workers per kind and the interval each keeps between the starts of its calls (divided by --rate). */
const LOAD: Record<OperationKind, { workers: number; intervalMs: number }> = {
  insert: { workers: 2, intervalMs: 2_000 },
  write: { workers: 2, intervalMs: 200 },
  lookup: { workers: 3, intervalMs: 25 },
  training: { workers: 2, intervalMs: 3_000 },
  upload: { workers: 1, intervalMs: 2_000 },
  download: { workers: 2, intervalMs: 500 },
};

const log = (line: string) => console.log(`soak ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** A fresh database on the machine's PostgreSQL when it answers (DATABASE_URL, else postgres@127.0.0.1:5432), else undefined: embedded. */
async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const serverUrl = process.env["DATABASE_URL"] || "postgres://postgres@127.0.0.1:5432/postgres";
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3_000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const name = `granary_soak_${process.pid}_${Date.now().toString(36)}`;
  try {
    await admin(`CREATE DATABASE ${name}`);
  } catch (err) {
    log(`PostgreSQL at ${new URL(serverUrl).host} does not answer (${(err as Error).message}): the suite starts an embedded one`);
    return undefined;
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function main(): Promise<number> {
  const keys = testKeys();
  const database = await freshDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), "granary-soak-"));
  chmodSync(dataDir, 0o755); // embedded PostgreSQL runs as user postgres when we are root
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...keys.env,
    GRANARY_DATA_DIR: dataDir,
    GRANARY_LOG_LEVEL: "warn",
    DATABASE_URL: database?.url,
  };
  // Its own process group, so Ctrl-C reaches only this script, which then ends the load and reports.
  const child = fork(new URL("./soak/suite-child.ts", import.meta.url).pathname, [], {
    execArgv: ["--import", "tsx"],
    env,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    detached: true,
  });
  // The suite's log lines go to stderr (stdout is this script's progress and its JSON), counted by level.
  const suite: Suite = { pid: child.pid!, exited: undefined, log: { warn: 0, error: 0, first_errors: [] } };
  child.on("exit", (code, signal) => (suite.exited = { code, signal }));
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      process.stderr.write(`[suite] ${line}\n`);
      const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
      if (level === 40) suite.log.warn++;
      if (level >= 50) {
        suite.log.error++;
        if (suite.log.first_errors.length < 5) suite.log.first_errors.push(line.slice(0, 400));
      }
    });
  }
  try {
    const [{ addresses, embeddedPostgres }] = (await once(child, "message")) as [
      { addresses: Record<"metadata" | "online" | "offline" | "registry", string>; embeddedPostgres: boolean },
    ];
    log(`suite pid ${child.pid}, PostgreSQL ${embeddedPostgres ? "embedded" : "on this machine (fresh database)"}, data in ${dataDir}`);
    return await soak(addresses, keys.adminKey, suite, embeddedPostgres);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.send("stop");
      await once(child, "exit");
    }
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The suite's child process: its pid, how it ended (if it did before the soak stopped it), its log lines by level. */
interface Suite {
  readonly pid: number;
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly log: { warn: number; error: number; first_errors: string[] };
}

async function soak(
  addresses: Record<"metadata" | "online" | "offline" | "registry", string>,
  apiKey: string,
  suite: Suite,
  embeddedPostgres: boolean,
): Promise<number> {
  const { pid } = suite;
  const granary = connect({ addresses, apiKey });
  await granary.waitUntilServing(60_000);
  const catalogue = await createCatalogue(granary, log);
  const acked = new Acknowledged();
  const ops = operations(granary, catalogue, acked);
  const kinds = Object.keys(LOAD) as OperationKind[];
  const recorders = Object.fromEntries(kinds.map((k) => [k, new KindRecorder()])) as Record<OperationKind, KindRecorder>;

  const loadavgStart = loadavg()[0]!;
  const suiteCpuStart = cpuSeconds(pid) ?? NaN;
  const clientCpuStart = process.cpuUsage();
  const started = performance.now();
  let until = started + MINUTES * 60_000;
  // Ctrl-C ends the load early; the verification and the report still run, and the database and data directory are removed.
  process.once("SIGINT", () => {
    log("interrupted: ending the load now");
    until = performance.now();
  });
  const rss: RssSample[] = [readRss(pid, 0)].filter((s) => s !== undefined);
  log(`load for ${MINUTES} min at rate ${RATE}: ${kinds.map((k) => `${k} ${LOAD[k].workers}×/${Math.round(LOAD[k].intervalMs / RATE)} ms`).join(", ")}`);

  const worker = async (kind: OperationKind, index: number) => {
    const interval = LOAD[kind].intervalMs / RATE;
    await sleep(Math.random() * interval);
    while (performance.now() < until) {
      const t = performance.now();
      try {
        const units = await ops[kind](index);
        if (units !== undefined) recorders[kind].ok(performance.now() - t, units);
      } catch (err) {
        recorders[kind].fail(err);
      }
      await sleep(Math.min(interval - (performance.now() - t), until - performance.now()));
    }
  };
  const sampler = (async () => {
    let lastTick = started;
    for (let next = started + SAMPLE_EVERY_MS; next <= until + 1; next += SAMPLE_EVERY_MS) {
      while (performance.now() < Math.min(next, until)) await sleep(Math.min(500, Math.min(next, until) - performance.now()));
      if (performance.now() < next - 1) break;
      const sample = readRss(pid, (performance.now() - started) / 1000);
      if (sample) rss.push(sample);
      const seconds = (performance.now() - lastTick) / 1000;
      lastTick = performance.now();
      const rates = kinds.map((k) => `${k} ${(recorders[k].sinceLastReport() / seconds).toFixed(1)}/s`).join("  ");
      const errors = kinds.reduce((n, k) => n + recorders[k].errorCount, 0);
      log(
        `${String(sample?.t_s ?? "?").padStart(4)} s  rss ${sample?.rss_mb ?? "?"} MB (anon ${sample?.anon_mb ?? "?"})  ${rates}  errors ${errors}  load ${loadavg()[0]!.toFixed(1)}`,
      );
    }
  })();
  await Promise.all([sampler, ...kinds.flatMap((k) => Array.from({ length: LOAD[k].workers }, (_, i) => worker(k, i)))]);
  const seconds = (performance.now() - started) / 1000;
  const loadavgEnd = loadavg()[0]!;
  const suiteCpuPercent = Math.round((((cpuSeconds(pid) ?? NaN) - suiteCpuStart) / seconds) * 100);
  const clientCpu = process.cpuUsage(clientCpuStart);
  const clientCpuPercent = Math.round(((clientCpu.user + clientCpu.system) / 1e6 / seconds) * 100);

  log("load done; reading back every acknowledged write");
  const verifyStarted = performance.now();
  const verification = await verify(catalogue, acked, log);
  const verifySeconds = Math.round((performance.now() - verifyStarted) / 100) / 10;
  const byKind = Object.fromEntries(
    kinds.map((k) => [k, { target_ops_per_s: Math.round(((LOAD[k].workers * 1000) / LOAD[k].intervalMs) * RATE * 10) / 10, ...recorders[k].summary(seconds) }]),
  );
  const errors = kinds.reduce((n, k) => n + recorders[k].errorCount, 0);
  // The samples taken under load: the one before the first call is context only.
  const underLoad = rss.filter((s) => s.t_s > 0);
  const rssFlat = flatness(underLoad.map((s) => s.rss_mb));
  const anonFlat = flatness(underLoad.map((s) => s.anon_mb));
  const mismatched = verification.online.mismatched + verification.registry.mismatched;
  const ok = errors === 0 && verification.lost === 0 && mismatched === 0 && rssFlat?.flat === true && suite.exited === undefined;
  console.log(
    JSON.stringify({
      bench: "soak",
      minutes: MINUTES,
      rate: RATE,
      seconds: Math.round(seconds),
      postgres: embeddedPostgres ? "embedded" : "external",
      load_average: { start: loadavgStart, end: loadavgEnd },
      // Percent of one core over the load phase; the machine has two, shared by both processes.
      cpu_percent: { suite: suiteCpuPercent, client: clientCpuPercent },
      kinds: byKind,
      errors,
      rss: { samples: rss, ...rssFlat, anon: anonFlat },
      verification: { ...verification, seconds: verifySeconds },
      lost: verification.lost,
      mismatched,
      suite_log: suite.log,
      ...(suite.exited ? { suite_exited: suite.exited } : {}),
      ok,
    }),
  );
  return ok ? 0 : 1;
}

process.exitCode = await main();
