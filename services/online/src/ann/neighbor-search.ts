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

export type NeighborStore = Pick<OnlineStore, "get" | "scanGroup">;

/**
 * The k rows of a group whose embedding is nearest the query, nearest first. Candidates from the
 * index are each checked against their row as stored now (present, not expired, passing the
 * filter) and their distance is computed from the row's embedding, so a result never disagrees
 * with the store; when fewer than k candidates pass while the index may hold more, or there is no
 * index ready, or `exact`, every row of the group is scanned instead.
 */
export async function searchGroup(store: NeighborStore, source: NeighborSource, search: GroupSearch): Promise<{ neighbors: Neighbor[]; exact: boolean }> {
  // One scratch vector for every row read: a distance needs no array of its own.
  const embeddings = new RowEmbeddings(search.group, [search.column], { reuse: true });
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
      const best: Neighbor[] = [];
      let passed = 0;
      for (const label of labels) {
        // Rows are read as the store lends them (until its next read); only the k kept are copied.
        const lentKey = store.get(labelRecords.key(search.group.id, label));
        if (lentKey === undefined) continue;
        const key = copyOf(lentKey);
        const row = store.get(key);
        if (row === undefined) continue;
        const d = accept(row);
        if (d === undefined) continue;
        passed++;
        keep(best, search.k, key, row, d, true);
      }
      // Fewer than k passed though the index had more to give: the rest may lie beyond the candidates.
      if (passed >= search.k || labels.length < count) return { neighbors: best, exact: false };
    }
  }
  return { neighbors: scan(store, search, accept), exact: true };
}

function scan(store: NeighborStore, search: GroupSearch, accept: (row: Buffer) => number | undefined): Neighbor[] {
  const best: Neighbor[] = [];
  for (const { key, value } of store.scanGroup(search.group.id)) {
    const d = accept(value);
    if (d !== undefined) keep(best, search.k, key, value, d, false);
  }
  return best;
}

/**
 * Inserts a row into `best` (at most k, nearest first) when it is nearer than the farthest kept,
 * copying its row then, and its key unless `ownKey` (the store lends both only until its next
 * read). k is at most 1,000, so a sorted array beats a heap here.
 */
function keep(best: Neighbor[], k: number, key: Buffer, row: Buffer, d: number, ownKey: boolean): void {
  if (best.length === k && d >= best[best.length - 1]!.distance) return;
  let at = best.length;
  while (at > 0 && best[at - 1]!.distance > d) at--;
  best.splice(at, 0, { key: ownKey ? key : copyOf(key), row: copyOf(row), distance: d });
  if (best.length > k) best.pop();
}

/**
 * A copy of bytes the store lends until its next read. lmdb-js lends a key as its whole key buffer
 * with an own `length` (Buffer#copy and Buffer.from would see the buffer's real length), so the copy
 * goes through a view of exactly `length` bytes.
 */
function copyOf(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafe(bytes.length);
  copy.set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  return copy;
}

/** Rows with an event time before this are expired (the group's online_ttl); undefined: no TTL. */
function expiryOf(group: FeatureGroup, nowMicros: bigint): bigint | undefined {
  const ttl = group.onlineTtl;
  if (!ttl) return undefined;
  return nowMicros - (ttl.seconds * 1_000_000n + BigInt(Math.floor(ttl.nanos / 1000)));
}
