import { describe, expect, it } from "@jest/globals";
import { gaussian, seededRandom } from "../shared/demo-runtime.js";
import { rocAuc } from "./evaluation.js";
import { bestThreshold, fitLogisticRegression, predictProbability, type LogisticModel } from "./logistic-regression.js";

/** Positives have a larger `x` and a heavy-tailed `amount`; `noise` carries nothing. */
function sample(n: number, seed: number) {
  const random = seededRandom(seed);
  const rows: Record<string, unknown>[] = [];
  const labels: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const positive = random() < 0.1;
    rows.push({
      x: gaussian(random, positive ? 2 : 0, 1),
      amount: Math.exp(gaussian(random, positive ? 5 : 3, 0.7)),
      noise: BigInt(Math.floor(random() * 100)),
      sparse: random() < 0.3 ? null : gaussian(random, 0, 1),
    });
    labels.push(positive);
  }
  return { rows, labels };
}

describe("fitLogisticRegression", () => {
  const train = sample(2_000, 1);
  const model = fitLogisticRegression(train.rows, train.labels, ["x", "amount", "noise", "sparse"], { logInputs: ["amount"] });

  it("learns a signal that generalises to unseen rows", () => {
    const test = sample(1_000, 2);
    const scores = test.rows.map((r) => predictProbability(model, r));
    expect(rocAuc(scores, test.labels)).toBeGreaterThan(0.95);
    // The informative inputs outweigh the noise.
    const weight = (name: string) => Math.abs(model.weights[model.inputs.findIndex((p) => p.name === name)]!);
    expect(weight("x")).toBeGreaterThan(5 * weight("noise"));
    expect(weight("amount")).toBeGreaterThan(5 * weight("noise"));
  });

  it("stores what scoring needs: imputation, log scaling and standardisation", () => {
    const amount = model.inputs.find((p) => p.name === "amount")!;
    expect(amount.log).toBe(true);
    expect(model.inputs.find((p) => p.name === "x")!.log).toBe(false);
    const sparse = model.inputs.find((p) => p.name === "sparse")!;
    expect(Number.isFinite(sparse.fill)).toBe(true);
    // A missing value scores as its fill value.
    const row = { x: 0.5, amount: 20, noise: 3n };
    expect(predictProbability(model, { ...row, sparse: null })).toBeCloseTo(predictProbability(model, { ...row, sparse: sparse.fill }), 12);
  });

  it("scores the same after a JSON round trip (model.json)", () => {
    const back = JSON.parse(JSON.stringify(model)) as LogisticModel;
    for (const r of train.rows.slice(0, 20)) expect(predictProbability(back, r)).toBe(predictProbability(model, r));
  });

  it("is deterministic", () => {
    const again = fitLogisticRegression(train.rows, train.labels, ["x", "amount", "noise", "sparse"], { logInputs: ["amount"] });
    expect(again.weights).toEqual(model.weights);
  });

  it("rejects mismatched or empty input", () => {
    expect(() => fitLogisticRegression([{ x: 1 }], [true, false], ["x"])).toThrow(/1 rows but 2 labels/);
    expect(() => fitLogisticRegression([], [], ["x"])).toThrow(/no training rows/);
  });
});

describe("bestThreshold", () => {
  it("cuts where F1 is best", () => {
    // Flagging the top three (0.9, 0.8, 0.7) catches both positives with one false alarm: F1 0.8.
    expect(bestThreshold([0.9, 0.8, 0.7, 0.2, 0.1], [true, false, true, false, false])).toBe(0.7);
  });

  it("never cuts between equal scores", () => {
    // Flagging at 0.5 flags all three 0.5s (F1 4/6), no better than 0.9 alone (F1 2/3); counting
    // only the first 0.5 would claim a perfect F1 that no threshold achieves.
    expect(bestThreshold([0.9, 0.5, 0.5, 0.5, 0.1], [true, true, false, false, false])).toBe(0.9);
  });
});
