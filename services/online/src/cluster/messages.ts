import type { ScopeMetrics } from "@opentelemetry/sdk-metrics";
import type { OnlineConfig } from "../config.js";
import type { ReplicaStatus } from "../write/replica-log.js";
import type { WireError } from "./ipc-errors.js";

/**
 * The messages between the online primary and its workers over cluster IPC ("advanced"
 * serialization: Buffers, bigints and protobuf-es messages cross as they are). Every message
 * carries `granary` so Node's own cluster messages are told apart.
 */
export type ToWorker =
  /** The worker's settings: the primary's config with the port it chose, and the worker's slot. */
  | { readonly granary: "start"; readonly config: OnlineConfig; readonly slot: number; readonly logLevel: string }
  | { readonly granary: "reply"; readonly id: number; readonly value?: unknown; readonly error?: WireError }
  /** The write log as the primary follows it: status for GetReplicaStatus, and whether the lag is within bound. */
  | { readonly granary: "replica"; readonly status: ReplicaStatus }
  /**
   * Every worker listens and the primary's start is complete: health may report SERVING. Before
   * it, a SIGTERM would find the primary without its handlers (runMain adds them after start).
   */
  | { readonly granary: "serve" }
  /** NOT_SERVING now; stop follows. */
  | { readonly granary: "drain" }
  /** A scrape of the primary's /metrics: the worker answers with its metrics (worker-metrics.ts). */
  | { readonly granary: "metrics"; readonly id: number }
  | { readonly granary: "stop" };

export type ToPrimary =
  /** The worker listens for messages now: send "start". */
  | { readonly granary: "hello" }
  | { readonly granary: "call"; readonly id: number; readonly method: PrimaryMethod; readonly args: readonly unknown[] }
  | { readonly granary: "listening"; readonly address: string }
  | { readonly granary: "serving"; readonly serving: boolean }
  | { readonly granary: "failed"; readonly message: string }
  /** The answer to "metrics": the worker's cumulative metrics since it started. */
  | { readonly granary: "metrics"; readonly id: number; readonly scopeMetrics: readonly ScopeMetrics[] };

/** What a worker asks of the primary: every write to the store, and the write log's calls that need its applier. */
export type PrimaryMethod =
  | "upsert"
  | "delete"
  | "apply"
  | "recordApplied"
  | "setLogIdentity"
  | "purgeExpired"
  | "logWrite"
  | "logCaughtUp"
  | "listDeadLetters"
  /** Candidates from the primary's nearest-neighbour index (FindNeighbors); the worker checks them against its own read of the rows. */
  | "annCandidates";

export function isGranaryMessage<T extends { granary: string }>(message: unknown): message is T {
  return typeof message === "object" && message !== null && typeof (message as { granary?: unknown }).granary === "string";
}
