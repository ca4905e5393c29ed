import { describe, expect, it } from "@jest/globals";
import { gaussian, seededRandom } from "../shared/demo-runtime.js";
import { fitLinearRegression, modelFromJson, modelToJson, predict, predictAll } from "./linear-regression.js";
import { regressionMetrics } from "./regression-metrics.js";

/** n rows of y = 3 + 2·a − 0.5·b + 0·c + noise. */
function sample(n: number, noise: number, seed = 1) {
  const random = seededRandom(seed);
  const x = Array.from({ length: n }, () => [gaussian(random, 5, 2), gaussian(random, -1, 4), gaussian(random, 0, 1)]);
  const y = x.map(([a, b]) => 3 + 2 * a! - 0.5 * b! + gaussian(random, 0, noise));
  return { x, y };
}

describe("fitLinearRegression", () => {
  it("recovers the coefficients of noiseless data exactly", () => {
    const { x, y } = sample(50, 0);
    const m = fitLinearRegression(x, y, ["a", "b", "c"], { l2: 0 });
    expect(m.intercept).toBeCloseTo(3, 9);
    expect(m.weights[0]).toBeCloseTo(2, 9);
    expect(m.weights[1]).toBeCloseTo(-0.5, 9);
    expect(m.weights[2]).toBeCloseTo(0, 9);
    expect(predict(m, [1, 2, 3])).toBeCloseTo(3 + 2 - 1, 9);
  });

  it("estimates them closely from noisy data and scores well out of sample", () => {
    const train = sample(2000, 1, 2);
    const test = sample(500, 1, 3);
    const m = fitLinearRegression(train.x, train.y, ["a", "b", "c"]);
    expect(m.weights[0]).toBeCloseTo(2, 1);
    expect(m.weights[1]).toBeCloseTo(-0.5, 1);
    const metrics = regressionMetrics(test.y, predictAll(m, test.x));
    expect(metrics.rmse).toBeGreaterThan(0.9);
    expect(metrics.rmse).toBeLessThan(1.1);
    expect(metrics.r2).toBeGreaterThan(0.9);
  });

  it("shrinks weights as the ridge penalty grows, never the intercept's role", () => {
    const { x, y } = sample(100, 1, 4);
    const norms = [0, 10, 1_000, 1e6].map((l2) => fitLinearRegression(x, y, ["a", "b", "c"], { l2 }));
    const sizes = norms.map((m) => Math.hypot(...m.weights));
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeLessThan(sizes[i - 1]!);
    // Fully shrunk, the model predicts the mean of y.
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    expect(predict(norms[3]!, [5, -1, 0])).toBeCloseTo(mean, 1);
  });

  it("solves duplicated features with a penalty and names the problem without one", () => {
    const { x, y } = sample(30, 0.1, 5);
    const dup = x.map((r) => [r[0]!, r[0]!]);
    expect(() => fitLinearRegression(dup, y, ["a", "a2"], { l2: 0 })).toThrow(/singular/);
    const m = fitLinearRegression(dup, y, ["a", "a2"], { l2: 1 });
    expect(m.weights[0]).toBeCloseTo(m.weights[1]!, 9);
  });

  it("rejects inconsistent input", () => {
    expect(() => fitLinearRegression([], [], ["a"])).toThrow(/no training rows/);
    expect(() => fitLinearRegression([[1]], [1, 2], ["a"])).toThrow(/labels/);
    expect(() => fitLinearRegression([[1, 2]], [1], ["a"])).toThrow(/expected 1/);
  });

  it("round-trips through model.json", () => {
    const { x, y } = sample(20, 0.5, 6);
    const m = fitLinearRegression(x, y, ["a", "b", "c"]);
    const back = modelFromJson(modelToJson(m, { target: "y" }));
    expect(back).toEqual(m);
    expect(() => modelFromJson(JSON.stringify({ kind: "tree" }))).toThrow(/not a linear-regression/);
  });
});

describe("regressionMetrics", () => {
  it("computes RMSE, MAE and R²", () => {
    const m = regressionMetrics([1, 2, 3, 4], [1, 2, 3, 8]);
    expect(m.rmse).toBeCloseTo(2, 12);
    expect(m.mae).toBeCloseTo(1, 12);
    expect(m.r2).toBeCloseTo(1 - 16 / 5, 12);
    expect(regressionMetrics([2, 4], [3, 3]).r2).toBeCloseTo(0, 12);
  });
});
