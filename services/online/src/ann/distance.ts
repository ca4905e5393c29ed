import { DistanceMetric } from "@granary/proto/metadata";

/** usearch's name of a metric; L2 is searched as its square (same order) and reported as Euclidean. */
export type UsearchMetric = "cos" | "l2sq" | "ip";

export function usearchMetric(metric: DistanceMetric): UsearchMetric {
  switch (metric) {
    case DistanceMetric.COSINE:
      return "cos";
    case DistanceMetric.L2:
      return "l2sq";
    case DistanceMetric.INNER_PRODUCT:
      return "ip";
    default:
      throw new Error(`no distance for metric ${metric}`);
  }
}

/**
 * The distance FindNeighbors reports, computed exactly from two embeddings (the index only orders
 * candidates): cosine 1 - cos (1 when either vector is zero), L2 Euclidean, inner product 1 - a·b.
 */
export function distance(metric: DistanceMetric, a: Float32Array, b: Float32Array): number {
  const n = a.length;
  if (metric === DistanceMetric.L2) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const d = a[i]! - b[i]!;
      sum += d * d;
    }
    return Math.sqrt(sum);
  }
  let dot = 0;
  if (metric === DistanceMetric.INNER_PRODUCT) {
    for (let i = 0; i < n; i++) dot += a[i]! * b[i]!;
    return 1 - dot;
  }
  let na = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 1 : 1 - dot / Math.sqrt(na * nb);
}
