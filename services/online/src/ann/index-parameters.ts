/**
 * Parameters of the online nearest-neighbour indexes (usearch HNSW). Tuned by bench/vectors.ts
 * (`npm run bench:vectors`); only the numbers here change with a measurement, so a change to them
 * is a benchmark's conclusion, not code.
 */

/** Links per node of the HNSW graph (M): more gives better recall, more memory, slower adds. */
export const CONNECTIVITY = 16;

/** Candidates kept while inserting (efConstruction): the quality of the graph against build rate. */
export const EXPANSION_ADD = 128;

/**
 * How the graph stores vectors: bfloat16 (float32's range, 8 bits of mantissa). At 1 M × 384 it
 * halves the memory and the CPU of a search against float32 (0.98 against about 1.9 ms at
 * expansion_search 256) at recall@10 0.979 against 0.982, and adds 2.5 times as fast (3,900
 * against 1,565 vectors/s). It is safe for every metric because the graph only orders candidates:
 * the distances FindNeighbors reports are computed again from the stored float32 rows. int8 was
 * faster still but lost recall at 1 M (0.968 after that re-ranking) and needs normalised inputs.
 */
export const QUANTIZATION = "bf16";

/**
 * Candidates kept while searching (ef), by how many vectors the index holds: recall against search
 * CPU, which grows with ef. A small graph needs a small beam; a large one a wide beam. Measured with
 * `npm run bench:vectors` (384 dimensions, cosine, bfloat16, the candidates re-ranked from the rows
 * as the service does), recall@10 at each size with the expansion chosen here: 200 k at 64 0.997
 * (at 48 0.990); 500 k at 128 0.993 (at 64 0.955); 1 M at 256 0.979-0.989 over two builds (at 192
 * 0.971, at 128 0.936). Each step keeps recall@10 above 0.97 with a margin; past a few million
 * vectors 256 will fall short, which the bench at that size would show.
 */
export const EXPANSION_SEARCH_STEPS: readonly { readonly upTo: number; readonly expansion: number }[] = [
  { upTo: 250_000, expansion: 64 },
  { upTo: 600_000, expansion: 128 },
  { upTo: Infinity, expansion: 256 },
];

/** The beam a search of an index of `size` vectors uses. */
export function expansionSearchFor(size: number): number {
  return EXPANSION_SEARCH_STEPS.find((step) => size <= step.upTo)!.expansion;
}

/**
 * Groups with at most this many indexed rows are searched by an exact scan of their rows instead
 * of the graph: as fast at this size, and exact.
 */
export const EXACT_SEARCH_THRESHOLD = 100;

/**
 * How many more candidates than k a filtered search asks of the index before it checks them
 * against the filter; when fewer than k pass, it falls back to an exact scan of the rows.
 */
export const FILTER_OVERFETCH = 10;

/** Threads usearch may use for one search (0: its choice); searches are single queries, one is enough. */
export const SEARCH_THREADS = 1;

/** Batches of at least this many vectors are added to an index on all cores; smaller ones on one thread. */
export const PARALLEL_ADD_BATCH = 1_000;

/**
 * A graph is rebuilt from the rows once the vectors removed from it since its build (deletes and
 * the old vectors of updates) exceed this share of its size, and at least REBUILD_MIN_REMOVED:
 * HNSW does not repair a removed node's links, so churn leaves nodes no search reaches (seen at
 * 400 rows after ~40 % churn: live rows missing from the 200 nearest of their own vector).
 */
export const REBUILD_AFTER_REMOVED = 0.2;
export const REBUILD_MIN_REMOVED = 50;

/** How often the primary writes changed indexes to disk, beside the LMDB environment (ms). */
export const SAVE_INTERVAL_MS = 30_000;
