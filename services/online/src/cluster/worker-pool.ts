import cluster, { type Worker } from "node:cluster";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { isExpectedError } from "@granary/errors";
import type { Logger } from "@granary/telemetry";
import type { OnlineConfig } from "../config.js";
import type { ReplicaStatus } from "../write/replica-log.js";
import { errorToWire } from "./ipc-errors.js";
import { isGranaryMessage, type ToPrimary, type ToWorker } from "./messages.js";
import type { PrimaryMethods } from "./primary-methods.js";

/** The worker's entry: the TypeScript source beside this file, or its bundle in dist/ (scripts/build.mjs). */
const FROM_SOURCE = import.meta.url.endsWith(".ts");
const WORKER_ENTRY = fileURLToPath(new URL(FROM_SOURCE ? "./worker-main.ts" : "./online-worker.js", import.meta.url));
/** A worker that lived this long before dying restarts at once; quicker deaths back off up to the cap. */
const STABLE_MS = 10_000;
const FIRST_RESTART_MS = 100;
const MAX_RESTART_MS = 10_000;
/** Beyond the drain delay and grace period, how long a stopping worker may take before it is killed. */
const STOP_SLACK_MS = 5_000;

export interface WorkerPoolOptions {
  readonly config: OnlineConfig;
  readonly log: Logger;
  readonly methods: PrimaryMethods;
  /** The write log as this primary follows it, sent to workers (undefined without a log). */
  readonly status: () => ReplicaStatus | undefined;
}

interface Slot {
  worker: Worker | undefined;
  startedAt: number;
  failures: number;
  restart: NodeJS.Timeout | undefined;
  served: boolean;
  /** Whether the worker has said hello: before that its messages are dropped (it is still loading). */
  greeted: boolean;
}

/**
 * The primary's workers (node:cluster): forks them, answers their calls, restarts one that dies
 * with a backoff while the others keep serving, and drains them all on stop. Connections to the
 * shared port are dealt round-robin by the primary; each HTTP/2 connection stays on one worker.
 */
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[];
  readonly #exits = new Map<Worker, Promise<void>>();
  #workerConfig: OnlineConfig;
  #address = "";
  #stopping = false;
  /** Whether start() has completed: workers may report SERVING ("serve"). */
  #released = false;
  #starting: { resolve: () => void; reject: (err: Error) => void; waiting: Set<number> } | undefined;
  #reportReady: () => void = () => {};
  readonly #ready = new Promise<void>((resolve) => (this.#reportReady = resolve));

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    this.#workerConfig = options.config;
    this.#slots = Array.from({ length: options.config.workers }, () => ({
      worker: undefined,
      startedAt: 0,
      failures: 0,
      restart: undefined,
      served: false,
      greeted: false,
    }));
  }

  /** host:port every worker listens on (known once the first one does). */
  get address(): string {
    return this.#address;
  }

  /** Forks every worker; resolves once all listen, rejects (stopping those started) if one cannot. */
  async start(): Promise<void> {
    const server = this.#options.config.server;
    // Port 0 is chosen here, once: workers asking the cluster for port 0 would share one listener
    // with any other cluster service of this process on port 0, and a worker restarted after all
    // others died would get a new port.
    const port = server.port === 0 ? await freePort(server.host) : server.port;
    const healthPort = server.healthPort === 0 ? await freePort(server.host) : server.healthPort;
    this.#workerConfig = { ...this.#options.config, server: { ...server, port, healthPort } };
    const started = new Promise<void>((resolve, reject) => {
      this.#starting = { resolve, reject, waiting: new Set(this.#slots.keys()) };
    });
    this.#slots.forEach((_, slot) => this.#fork(slot));
    try {
      await started;
    } catch (err) {
      await this.stop();
      throw err;
    } finally {
      this.#starting = undefined;
    }
  }

  /** Lets workers report SERVING; call once the service's start is complete. */
  release(): void {
    this.#released = true;
    this.#broadcast({ granary: "serve" });
  }

  /** Resolves once every worker has reported SERVING. */
  ready(): Promise<void> {
    return this.#ready;
  }

  pids(): number[] {
    return this.#slots.flatMap((s) => (s.worker && !s.worker.isDead() && s.worker.process.pid !== undefined ? [s.worker.process.pid] : []));
  }

  /** Sends the write log's status to every worker. */
  broadcastStatus(): void {
    const status = this.#options.status();
    if (status) this.#broadcast({ granary: "replica", status });
  }

  /** NOT_SERVING on every worker at once; calls are still answered until stop. */
  beginShutdown(): void {
    this.#broadcast({ granary: "drain" });
  }

  /** Drains every worker (they stop their servers), waits for them to exit, killing one that overstays. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const slot of this.#slots) clearTimeout(slot.restart);
    const { drainDelayMs, shutdownGraceMs } = this.#options.config.server;
    await Promise.all(
      this.#slots.map(async ({ worker, greeted }) => {
        if (!worker || worker.isDead()) return;
        // One still loading holds nothing yet and would not hear "stop".
        if (greeted) send(worker, { granary: "stop" });
        else worker.process.kill("SIGKILL");
        const exited = this.#exits.get(worker);
        const timer = setTimeout(
          () => {
            this.#options.log.warn({ pid: worker.process.pid }, "online worker did not stop in time; killing it");
            worker.process.kill("SIGKILL");
          },
          drainDelayMs + shutdownGraceMs + STOP_SLACK_MS,
        );
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  #fork(slot: number): void {
    const state = this.#slots[slot]!;
    cluster.setupPrimary({ exec: WORKER_ENTRY, execArgv: FROM_SOURCE ? workerExecArgv() : [...process.execArgv], serialization: "advanced" });
    const worker = cluster.fork();
    state.worker = worker;
    state.startedAt = Date.now();
    state.served = false;
    state.greeted = false;
    this.#exits.set(
      worker,
      new Promise<void>((resolve) =>
        worker.once("exit", (code: number | null, signal: string | null) => {
          this.#exits.delete(worker);
          this.#exited(slot, worker, code, signal);
          resolve();
        }),
      ),
    );
    worker.on("message", (message: unknown) => {
      if (isGranaryMessage<ToPrimary>(message)) this.#onMessage(slot, worker, message);
    });
    // An IPC write to a worker that just died fails asynchronously; its exit is handled above.
    worker.on("error", (err: Error) => this.#options.log.debug({ err, slot }, "online worker IPC error"));
  }

  #onMessage(slot: number, worker: Worker, message: ToPrimary): void {
    const { log } = this.#options;
    switch (message.granary) {
      case "hello": {
        this.#slots[slot]!.greeted = true;
        send(worker, { granary: "start", config: this.#workerConfig, slot, logLevel: log.level });
        const status = this.#options.status();
        if (status) send(worker, { granary: "replica", status });
        if (this.#released) send(worker, { granary: "serve" });
        return;
      }
      case "call": {
        const method = this.#options.methods[message.method];
        void Promise.resolve()
          .then(() => method(message.args))
          .then(
            (value) => send(worker, { granary: "reply", id: message.id, value }),
            (err: unknown) => {
              if (!isExpectedError(err)) log.error({ err, method: message.method, slot }, "a write forwarded by an online worker failed");
              send(worker, { granary: "reply", id: message.id, error: errorToWire(err) });
            },
          );
        return;
      }
      case "listening":
        if (!this.#address) this.#address = message.address;
        log.info({ slot, pid: worker.process.pid, address: message.address }, "online worker listening");
        this.#starting?.waiting.delete(slot);
        if (this.#starting?.waiting.size === 0) this.#starting.resolve();
        return;
      case "serving":
        if (message.serving) this.#slots[slot]!.served = true;
        if (this.#slots.every((s) => s.served)) this.#reportReady();
        return;
      case "failed":
        log.error({ slot, pid: worker.process.pid, reason: message.message }, "online worker failed to start");
        this.#starting?.reject(new Error(`online worker ${slot} failed to start: ${message.message}`));
        return;
      case "metrics":
        // A worker's answer to a /metrics scrape: worker-metrics.ts listens for it.
        return;
    }
  }

  #exited(slot: number, worker: Worker, code: number | null, signal: string | null): void {
    const state = this.#slots[slot]!;
    if (state.worker !== worker) return;
    state.worker = undefined;
    if (this.#stopping) return;
    if (this.#starting) {
      this.#starting.reject(new Error(`online worker ${slot} exited while starting (code ${code}, signal ${signal})`));
      return;
    }
    state.failures = Date.now() - state.startedAt > STABLE_MS ? 0 : state.failures + 1;
    const delayMs = state.failures === 0 ? 0 : Math.min(FIRST_RESTART_MS * 2 ** (state.failures - 1), MAX_RESTART_MS);
    this.#options.log.error(
      { slot, pid: worker.process.pid, code, signal, restartInMs: delayMs },
      "online worker died; restarting it (the others keep serving)",
    );
    state.restart = setTimeout(() => {
      state.restart = undefined;
      if (!this.#stopping) this.#fork(slot);
    }, delayMs);
  }

  #broadcast(message: ToWorker): void {
    for (const { worker } of this.#slots) if (worker) send(worker, message);
  }
}

function send(worker: Worker, message: ToWorker): void {
  if (!worker.isConnected()) return;
  try {
    worker.send(message);
  } catch {
    // The worker is going away; its exit is handled where it is awaited.
  }
}

/**
 * The primary's own Node options, plus tsx's loader when they lack it: run from the source, the
 * worker entry is TypeScript, and under jest (which transforms on its own) the options do not name tsx.
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const hasTsx = execArgv.some(
    (arg, i) => /^--(import|loader)=tsx/.test(arg) || ((arg === "--import" || arg === "--loader") && execArgv[i + 1]?.startsWith("tsx")),
  );
  return hasTsx ? [...execArgv] : [...execArgv, "--import", "tsx"];
}

async function freePort(host: string): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen({ host, port: 0 }, resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
