import { describe, expect, it } from "@jest/globals";
import { DistanceMetric } from "@granary/proto/metadata";
import { EXPANSION_SEARCH_STEPS, expansionSearchFor } from "./index-parameters.js";
import { VectorIndex } from "./vector-index.js";

describe("the search beam", () => {
  it("widens with the index, step by step, and covers every size", () => {
    expect(expansionSearchFor(0)).toBe(EXPANSION_SEARCH_STEPS[0]!.expansion);
    for (let i = 1; i < EXPANSION_SEARCH_STEPS.length; i++) {
      const previous = EXPANSION_SEARCH_STEPS[i - 1]!;
      expect(EXPANSION_SEARCH_STEPS[i]!.expansion).toBeGreaterThan(previous.expansion);
      expect(expansionSearchFor(previous.upTo)).toBe(previous.expansion);
      expect(expansionSearchFor(previous.upTo + 1)).toBe(EXPANSION_SEARCH_STEPS[i]!.expansion);
    }
    expect(expansionSearchFor(1e12)).toBe(EXPANSION_SEARCH_STEPS[EXPANSION_SEARCH_STEPS.length - 1]!.expansion);
  });

  it("returns the count asked for, nearest first, though it searches with a wider beam", () => {
    const dimension = 16;
    const index = new VectorIndex(VectorIndex.describe(1n, "emb", DistanceMetric.L2, dimension));
    const count = 500;
    // Points on a line: the nearest of x are x, x±1, x±2, … in that order.
    const vectors = new Float32Array(count * dimension);
    for (let i = 0; i < count; i++) vectors[i * dimension] = i;
    index.upsert(
      BigUint64Array.from({ length: count }, (_, i) => BigInt(i)),
      vectors,
    );
    const query = new Float32Array(dimension);
    query[0] = 250.1;
    const found = index.search(query, 5);
    expect(Array.from(found)).toEqual([250n, 251n, 249n, 252n, 248n]);
    expect(index.search(query, 1000).length).toBe(count);
  });
});
