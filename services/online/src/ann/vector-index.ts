import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { open, rename, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import usearch from "usearch";
import type { DistanceMetric } from "@granary/proto/metadata";
import { usearchMetric } from "./distance.js";
import {
  CONNECTIVITY,
  EXPANSION_ADD,
  EXPANSION_SEARCH_STEPS,
  PARALLEL_ADD_BATCH,
  QUANTIZATION,
  SEARCH_THREADS,
  expansionSearchFor,
} from "./index-parameters.js";

/** What an index file was built with; a file whose description differs is rebuilt, not loaded. */
export interface IndexDescription {
  readonly groupId: string;
  readonly column: string;
  readonly metric: DistanceMetric;
  readonly dimension: number;
  readonly connectivity: number;
  readonly expansionAdd: number;
  /** The scalar type of the stored vectors (files written before it was recorded are rebuilt). */
  readonly quantization: string;
}

interface IndexMeta extends IndexDescription {
  /** SHA-256 of the index file: usearch crashes the process on a damaged file, so it is checked first. */
  readonly sha256: string;
  readonly size: number;
  /** removedSinceBuild when saved: a loaded graph keeps counting its churn (absent in older files: 0). */
  readonly removedSinceBuild?: number;
}

/**
 * One usearch HNSW index over an embedding column, keyed by the rows' labels (labels.ts). Adding a
 * label again replaces its vector. Saved as `<file>` and `<file>.json` (its description and
 * checksum), each written to a temporary file, synced and renamed, so a crash leaves the old pair or
 * the new one; a pair that does not check out is not loaded.
 */
export class VectorIndex {
  readonly description: IndexDescription;
  #index: InstanceType<typeof usearch.Index>;

  constructor(description: IndexDescription) {
    this.description = description;
    this.#index = VectorIndex.#create(description);
  }

  static #create(d: IndexDescription): InstanceType<typeof usearch.Index> {
    return new usearch.Index({
      dimensions: d.dimension,
      metric: usearchMetric(d.metric) as never,
      quantization: d.quantization as never,
      connectivity: d.connectivity,
      expansion_add: d.expansionAdd,
      // The least beam: a search widens it by asking for more results (usearch searches with max(expansion_search, count)).
      expansion_search: EXPANSION_SEARCH_STEPS[0]!.expansion,
    } as never);
  }

  /** The description an index of this column gets now (current parameters). */
  static describe(groupId: bigint, column: string, metric: DistanceMetric, dimension: number): IndexDescription {
    return { groupId: groupId.toString(), column, metric, dimension, connectivity: CONNECTIVITY, expansionAdd: EXPANSION_ADD, quantization: QUANTIZATION };
  }

  size(): number {
    return this.#index.size();
  }

  /** Adds or replaces vectors: `vectors` holds labels.length rows of the dimension. */
  upsert(labels: BigUint64Array, vectors: Float32Array): void {
    if (labels.length === 0) return;
    this.remove(labels);
    // Threads pay off on large batches (a build, a bulk load); small ones stay on this thread.
    this.#index.add(labels, vectors, labels.length >= PARALLEL_ADD_BATCH ? 0 : 1);
  }

  /**
   * Vectors removed from the graph since it was built (deletes, and the old vector of every
   * update). HNSW does not repair the links of a removed node, so after much churn some nodes are
   * no longer reachable from the others and a search misses them: AnnIndexes rebuilds the graph
   * once this grows past a share of its size (REBUILD_AFTER_REMOVED).
   */
  removedSinceBuild = 0;

  remove(labels: BigUint64Array): void {
    if (labels.length === 0) return;
    const present = labels.filter((label) => this.#index.contains(label) as boolean);
    if (present.length > 0) this.#index.remove(present);
    this.removedSinceBuild += present.length;
  }

  /**
   * Labels of up to `count` approximate nearest vectors, nearest first. The beam grows with the
   * index (expansionSearchFor): usearch fixes expansion_search when an index is made, but searches
   * with max(expansion_search, results asked), so the beam is asked for as results and the first
   * `count` kept.
   */
  search(query: Float32Array, count: number): BigUint64Array {
    const size = this.#index.size();
    if (size === 0) return new BigUint64Array(0);
    const beam = Math.min(size, Math.max(count, expansionSearchFor(size)));
    const keys = this.#index.search(query, beam, SEARCH_THREADS).keys as BigUint64Array;
    return keys.length > count ? keys.subarray(0, count) : keys;
  }

  /**
   * Writes the index to `<file>.tmp` now (usearch writes synchronously: the one part that holds the
   * event loop, about a second per GB) and returns the rest, which does not: syncing the file,
   * hashing it in chunks, writing the description and renaming both into place. The index may
   * change meanwhile; the file holds it as it was at the call.
   */
  save(file: string): Promise<void> {
    const tmp = `${file}.tmp`;
    this.#index.save(tmp);
    const size = this.#index.size();
    const removedSinceBuild = this.removedSinceBuild;
    return (async () => {
      await syncFileAsync(tmp);
      const meta: IndexMeta = { ...this.description, sha256: await sha256OfAsync(tmp), size, removedSinceBuild };
      await writeFile(`${file}.json.tmp`, JSON.stringify(meta));
      await syncFileAsync(`${file}.json.tmp`);
      // The index first: a crash between the renames leaves a new index with the old checksum, refused at load.
      await rename(tmp, file);
      await rename(`${file}.json.tmp`, `${file}.json`);
      await syncFileAsync(dirname(file));
    })();
  }

  /** The index saved at `file`, or undefined when there is none, it is damaged, or it was built differently. */
  static load(file: string, description: IndexDescription): VectorIndex | undefined {
    if (!existsSync(file) || !existsSync(`${file}.json`)) return undefined;
    let meta: IndexMeta;
    try {
      meta = JSON.parse(readFileSync(`${file}.json`, "utf8")) as IndexMeta;
    } catch {
      return undefined;
    }
    if (!sameDescription(meta, description)) return undefined;
    if (sha256Of(file) !== meta.sha256) return undefined;
    const index = new VectorIndex(description);
    index.#index.load(file);
    if (index.#index.dimensions() !== description.dimension || index.#index.size() !== meta.size) return undefined;
    index.removedSinceBuild = meta.removedSinceBuild ?? 0;
    return index;
  }

  static remove(file: string): void {
    rmSync(file, { force: true });
    rmSync(`${file}.json`, { force: true });
  }
}

function sameDescription(a: IndexDescription, b: IndexDescription): boolean {
  return (
    a.groupId === b.groupId &&
    a.column === b.column &&
    a.metric === b.metric &&
    a.dimension === b.dimension &&
    a.connectivity === b.connectivity &&
    a.expansionAdd === b.expansionAdd &&
    a.quantization === b.quantization
  );
}

async function syncFileAsync(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The file's SHA-256 read in chunks on the thread pool, so a large index does not hold the event loop while it is hashed. */
async function sha256OfAsync(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The file's SHA-256, read in chunks (an index of a million vectors is over a gigabyte). */
function sha256Of(path: string): string {
  const hash = createHash("sha256");
  const chunk = Buffer.allocUnsafe(8 << 20);
  const fd = openSync(path, "r");
  try {
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}
