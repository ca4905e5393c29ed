// Linear regression with an L2 (ridge) penalty, fitted in closed form: the normal equations
// (XᵀX + λI) w = Xᵀy on centred data, solved by Cholesky. A few thousand rows and a dozen features
// fit in milliseconds, and the same data always gives the same model (no learning rate, no epochs).

export interface LinearModel {
  /** The inputs, in the order `weights` uses (the feature view's feature columns). */
  readonly featureNames: readonly string[];
  readonly intercept: number;
  readonly weights: readonly number[];
  /** The ridge penalty it was fitted with. */
  readonly l2: number;
}

export interface FitOptions {
  /** Ridge penalty λ on the weights (the intercept is never penalised). Default 1. */
  readonly l2?: number;
}

/** Fits y ≈ intercept + X·w minimising ‖y − intercept − Xw‖² + λ‖w‖². */
export function fitLinearRegression(
  x: readonly (readonly number[])[],
  y: readonly number[],
  featureNames: readonly string[],
  options: FitOptions = {},
): LinearModel {
  const l2 = options.l2 ?? 1;
  const n = x.length;
  const p = featureNames.length;
  if (n === 0) throw new RangeError("no training rows");
  if (y.length !== n) throw new RangeError(`${n} feature rows but ${y.length} labels`);
  if (!(l2 >= 0)) throw new RangeError(`l2 must be ≥ 0, got ${l2}`);
  x.forEach((row, i) => {
    if (row.length !== p) throw new RangeError(`row ${i} has ${row.length} values, expected ${p} (${featureNames.join(", ")})`);
  });

  // Centring removes the intercept from the system, so the penalty never shrinks it.
  const xMean = new Array<number>(p).fill(0);
  for (const row of x) for (let j = 0; j < p; j++) xMean[j]! += row[j]! / n;
  const yMean = y.reduce((a, b) => a + b, 0) / n;
  const gram = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const xty = new Array<number>(p).fill(0);
  for (let i = 0; i < n; i++) {
    const row = x[i]!;
    const yc = y[i]! - yMean;
    for (let j = 0; j < p; j++) {
      const a = row[j]! - xMean[j]!;
      xty[j]! += a * yc;
      for (let k = 0; k <= j; k++) gram[j]![k]! += a * (row[k]! - xMean[k]!);
    }
  }
  for (let j = 0; j < p; j++) {
    gram[j]![j]! += l2;
    for (let k = 0; k < j; k++) gram[k]![j] = gram[j]![k]!;
  }
  const weights = solveSymmetric(gram, xty);
  const intercept = yMean - weights.reduce((s, w, j) => s + w * xMean[j]!, 0);
  return { featureNames: [...featureNames], intercept, weights, l2 };
}

export function predict(model: LinearModel, row: readonly number[]): number {
  let y = model.intercept;
  for (let j = 0; j < model.weights.length; j++) y += model.weights[j]! * row[j]!;
  return y;
}

export function predictAll(model: LinearModel, rows: readonly (readonly number[])[]): number[] {
  return rows.map((row) => predict(model, row));
}

/** The model as the registry stores it (model.json). */
export function modelToJson(model: LinearModel, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(
    { kind: "linear-regression", ...extra, featureNames: model.featureNames, intercept: model.intercept, weights: model.weights, l2: model.l2 },
    null,
    2,
  );
}

/** A model.json back as a model; throws on anything else. */
export function modelFromJson(text: string): LinearModel {
  const m = JSON.parse(text) as Partial<LinearModel> & { kind?: string };
  const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === "number");
  if (
    m.kind !== "linear-regression" ||
    !Array.isArray(m.featureNames) ||
    !numbers(m.weights) ||
    m.weights.length !== m.featureNames.length ||
    typeof m.intercept !== "number"
  ) {
    throw new TypeError("model.json is not a linear-regression model (kind, featureNames, weights, intercept)");
  }
  return { featureNames: m.featureNames, intercept: m.intercept, weights: m.weights, l2: typeof m.l2 === "number" ? m.l2 : 0 };
}

/** Solves A·w = b for a symmetric positive-definite A (Cholesky: A = L·Lᵀ). */
function solveSymmetric(a: readonly (readonly number[])[], b: readonly number[]): number[] {
  const p = b.length;
  const l = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  for (let j = 0; j < p; j++) {
    let d = a[j]![j]!;
    for (let k = 0; k < j; k++) d -= l[j]![k]! ** 2;
    if (!(d > 1e-12 * Math.max(1, Math.abs(a[j]![j]!)))) {
      throw new RangeError(`the normal equations are singular at feature ${j} (a constant or duplicated feature): use l2 > 0`);
    }
    l[j]![j] = Math.sqrt(d);
    for (let i = j + 1; i < p; i++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = s / l[j]![j]!;
    }
  }
  const z = new Array<number>(p).fill(0);
  for (let i = 0; i < p; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i]![k]! * z[k]!;
    z[i] = s / l[i]![i]!;
  }
  const w = new Array<number>(p).fill(0);
  for (let i = p - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < p; k++) s -= l[k]![i]! * w[k]!;
    w[i] = s / l[i]![i]!;
  }
  return w;
}
