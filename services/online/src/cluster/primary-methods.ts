import { FailedPreconditionError } from "@granary/errors";
import type { FeatureGroup } from "@granary/proto/metadata";
import type { ColumnarRows } from "@granary/proto/types";
import type { BatchKind } from "@granary/write-log";
import type { Durability, OnlineStore, StoredRow, StoreOp } from "../store/online-store.js";
import type { ReplicaLog } from "../write/replica-log.js";
import type { NeighborSource } from "../ann/neighbor-search.js";
import type { PrimaryMethod } from "./messages.js";

export type PrimaryMethods = Readonly<Record<PrimaryMethod, (args: readonly unknown[]) => Promise<unknown>>>;

/**
 * What the primary does for a worker's call: the write on its read-write store (the environment's
 * one writer), or the write log's call on the replica log it follows. `signal` ends waits at stop.
 */
export function primaryMethods(store: OnlineStore, replicaLog: ReplicaLog | undefined, signal: AbortSignal, neighbors?: NeighborSource): PrimaryMethods {
  const log = (): ReplicaLog => {
    if (!replicaLog) throw new FailedPreconditionError("this online service runs without a write log (GRANARY_NATS_URL is not set)");
    return replicaLog;
  };
  return {
    upsert: ([rows, durability, sequence]) => store.upsert(rows as StoredRow[], durability as Durability, sequence as bigint | undefined),
    delete: ([keys, durability, sequence]) => store.delete(keys as Buffer[], durability as Durability, sequence as bigint | undefined),
    apply: ([ops, sequence]) => store.apply(ops as StoreOp[], sequence as bigint),
    recordApplied: ([sequence, durability]) => store.recordApplied(sequence as bigint, durability as Durability),
    setLogIdentity: ([identity]) => store.setLogIdentity(identity as string),
    purgeExpired: ([groupId, before, limit]) => store.purgeExpired(groupId as bigint, before as bigint, limit as number),
    logWrite: async ([group, project, kind, rows]) => log().write(group as FeatureGroup, project as string, kind as BatchKind, rows as ColumnarRows, signal),
    logCaughtUp: async ([sequence]) => log().caughtUp(sequence as bigint, signal),
    listDeadLetters: async ([project, limit]) => log().listDeadLetters(project as string, limit as number),
    annCandidates: async ([groupId, column, query, count]) =>
      neighbors?.candidates(groupId as bigint, column as string, query as Float32Array, count as number),
  };
}
