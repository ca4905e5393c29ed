import { describe, expect, it } from "@jest/globals";
import { classificationMetrics, rocAuc } from "./evaluation.js";

describe("rocAuc", () => {
  it("is 1 for a perfect ranking, 0 for a reversed one, 0.5 when every score ties", () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [false, false, true, true])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [false, false, true, true])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [false, true, false, true])).toBe(0.5);
  });

  it("counts pairs: 3 of 4 positive–negative pairs ordered right", () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
  });

  it("counts a tied pair as half", () => {
    // Pairs: (0.6 vs 0.2) right, (0.6 vs 0.6) half.
    expect(rocAuc([0.2, 0.6, 0.6], [false, false, true])).toBe(0.75);
  });

  it("is NaN with one class only", () => {
    expect(rocAuc([0.1, 0.2], [false, false])).toBeNaN();
  });
});

describe("classificationMetrics", () => {
  it("counts hits and misses at the threshold (inclusive)", () => {
    // Flagged: 0.9 (fraud), 0.5 (legit). Missed: 0.3 (fraud). Clear: 0.1 (legit).
    const m = classificationMetrics([0.9, 0.5, 0.3, 0.1], [true, false, true, false], 0.5);
    expect(m.accuracy).toBe(0.5);
    expect(m.precision).toBe(0.5);
    expect(m.recall).toBe(0.5);
    expect(m.f1).toBe(0.5);
    expect(m.auc).toBe(0.75);
  });

  it("reports zero precision when nothing is flagged", () => {
    const m = classificationMetrics([0.1, 0.2], [true, false], 0.9);
    expect(m.precision).toBe(0);
    expect(m.recall).toBe(0);
    expect(m.accuracy).toBe(0.5);
  });
});
