import type { DistanceMetric, FeatureGroup } from "@granary/proto/metadata";
import { eventMicrosOf } from "../store/row-codec.js";
import type { OnlineStore } from "../store/online-store.js";
import { distance } from "./distance.js";
import { FILTER_OVERFETCH } from "./index-parameters.js";
import { labelRecords } from "./labels.js";
import { RowEmbeddings } from "./row-embeddings.js";

/** Where approximate candidates come from: the index in this process, or the cluster primary's. */
export interface NeighborSource {
  /** Labels of about `count` nearest rows, nearest first; undefined when there is no index ready to ask (search exactly). */
  candidates(groupId: bigint, column: string, query: Float32Array, count: number): Promise<BigUint64Array | undefined> | BigUint64Array | undefined;
}

export interface GroupSearch {
  readonly group: FeatureGroup;
  readonly column: string;
  readonly metric: DistanceMetric;
  readonly query: Float32Array;
  readonly k: number;
  /** Rows that pass; undefined: every row. */
  readonly filter: ((row: Buffer) => boolean) | undefined;
  readonly exact: boolean;
  readonly nowMicros: bigint;
}

export interface Neighbor {
  readonly key: Buffer;
  /** The stored row (a copy). */
  readonly row: Buffer;
  readonly distance: number;
}

export type NeighborStore = Pick<OnlineStore, "get" | "getCopy" | "scanGroup">;

/**
 * The k rows of a group whose embedding is nearest the query, nearest first. Candidates from the
 * index are each checked against their row as stored now (present, not expired, passing the
 * filter) and their distance is computed from the row's embedding, so a result never disagrees
 * with the store; when fewer than k candidates pass while the index may hold more, or there is no
 * index ready, or `exact`, every row of the group is scanned instead.
 */
export async function searchGroup(store: NeighborStore, source: NeighborSource, search: GroupSearch): Promise<{ neighbors: Neighbor[]; exact: boolean }> {
  const embeddings = new RowEmbeddings(search.group, [search.column]);
  const expiredBefore = expiryOf(search.group, search.nowMicros);
  const accept = (row: Buffer): number | undefined => {
    if (expiredBefore !== undefined && eventMicrosOf(row) < expiredBefore) return undefined;
    if (search.filter && !search.filter(row)) return undefined;
    const v = embeddings.read(row)[0];
    return v === undefined ? undefined : distance(search.metric, search.query, v);
  };
  if (!search.exact) {
    const count = search.k * (search.filter || expiredBefore !== undefined ? FILTER_OVERFETCH : 2);
    const labels = await source.candidates(search.group.id, search.column, search.query, count);
    if (labels !== undefined) {
      const found: Neighbor[] = [];
      const seen = new Set<string>();
      for (const label of labels) {
        const key = store.getCopy(labelRecords.key(search.group.id, label));
        if (key === undefined) continue;
        const row = store.getCopy(key);
        if (row === undefined) continue;
        const d = accept(row);
        if (d === undefined || seen.has(key.toString("latin1"))) continue;
        seen.add(key.toString("latin1"));
        found.push({ key, row, distance: d });
      }
      // Fewer than k passed though the index had more to give: the rest may lie beyond the candidates.
      if (found.length >= search.k || labels.length < count) return { neighbors: nearest(found, search.k), exact: false };
    }
  }
  return { neighbors: scan(store, search, accept), exact: true };
}

function scan(store: NeighborStore, search: GroupSearch, accept: (row: Buffer) => number | undefined): Neighbor[] {
  const best: Neighbor[] = [];
  for (const { key, value } of store.scanGroup(search.group.id)) {
    const d = accept(value);
    if (d === undefined) continue;
    if (best.length === search.k && d >= best[best.length - 1]!.distance) continue;
    // Insert in order; k is at most 1000, so a sorted array beats a heap here.
    let at = best.length;
    while (at > 0 && best[at - 1]!.distance > d) at--;
    best.splice(at, 0, { key: copyOf(key), row: copyOf(value), distance: d });
    if (best.length > search.k) best.pop();
  }
  return best;
}

/** A copy of bytes the store lends until its next read (lmdb-js reuses the buffer). */
function copyOf(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafe(bytes.length);
  bytes.copy(copy);
  return copy;
}

function nearest(found: Neighbor[], k: number): Neighbor[] {
  return found.sort((a, b) => a.distance - b.distance).slice(0, k);
}

/** Rows with an event time before this are expired (the group's online_ttl); undefined: no TTL. */
function expiryOf(group: FeatureGroup, nowMicros: bigint): bigint | undefined {
  const ttl = group.onlineTtl;
  if (!ttl) return undefined;
  return nowMicros - (ttl.seconds * 1_000_000n + BigInt(Math.floor(ttl.nanos / 1000)));
}
