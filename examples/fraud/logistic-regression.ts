// A small logistic regression in plain TypeScript: inputs imputed, optionally log-scaled and
// standardised with training statistics (all stored in the model), weights fitted by full-batch
// gradient descent on the class-weighted log loss with L2 regularisation.

/** How one input is prepared: a missing value takes `fill`; then log1p (when `log`); then (x − mean) / std. */
export interface InputPreparation {
  readonly name: string;
  readonly fill: number;
  readonly log: boolean;
  readonly mean: number;
  readonly std: number;
}

/** Everything needed to score a row: what model.json holds. */
export interface LogisticModel {
  readonly kind: "logistic-regression";
  readonly inputs: readonly InputPreparation[];
  readonly weights: readonly number[];
  readonly bias: number;
  /** Probability at or above which a row is flagged. */
  readonly threshold: number;
}

export interface FitOptions {
  readonly epochs?: number;
  readonly learningRate?: number;
  readonly l2?: number;
  /** Inputs with a heavy right tail (amounts, distances, durations): log1p before standardising. */
  readonly logInputs?: readonly string[];
  /** Weight classes so both count equally (fraud is rare). Default true. */
  readonly balanced?: boolean;
}

/** A row as it comes from a feature view: numbers, bigints, Dates or nulls by column name. */
export type FeatureRow = Readonly<Record<string, unknown>>;

export function fitLogisticRegression(
  rows: readonly FeatureRow[],
  labels: readonly boolean[],
  inputs: readonly string[],
  options: FitOptions = {},
): LogisticModel {
  if (rows.length !== labels.length) throw new RangeError(`${rows.length} rows but ${labels.length} labels`);
  if (rows.length === 0) throw new RangeError("no training rows");
  const epochs = options.epochs ?? 400;
  const rate = options.learningRate ?? 0.5;
  const l2 = options.l2 ?? 1e-3;
  const logged = new Set(options.logInputs ?? []);

  const preparations = inputs.map((name) =>
    prepareInput(
      name,
      rows.map((r) => numeric(r[name])),
      logged.has(name),
    ),
  );
  const x = rows.map((r) => preparations.map((p) => prepared(p, r[p.name])));
  const y = labels.map((l) => (l ? 1 : 0));
  const positives = y.reduce<number>((s, v) => s + v, 0);
  const balanced = (options.balanced ?? true) && positives > 0 && positives < y.length;
  const sampleWeight = y.map((v) => (balanced ? y.length / (2 * (v === 1 ? positives : y.length - positives)) : 1));
  const totalWeight = sampleWeight.reduce((s, w) => s + w, 0);

  const w = new Float64Array(inputs.length);
  let b = 0;
  const grad = new Float64Array(inputs.length);
  for (let epoch = 0; epoch < epochs; epoch++) {
    grad.fill(0);
    let gradB = 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      const err = (sigmoid(dot(w, xi) + b) - y[i]!) * sampleWeight[i]!;
      for (let j = 0; j < xi.length; j++) grad[j]! += err * xi[j]!;
      gradB += err;
    }
    for (let j = 0; j < w.length; j++) w[j]! -= rate * (grad[j]! / totalWeight + l2 * w[j]!);
    b -= (rate * gradB) / totalWeight;
  }
  const model: LogisticModel = { kind: "logistic-regression", inputs: preparations, weights: [...w], bias: b, threshold: 0.5 };
  return {
    ...model,
    threshold: bestThreshold(
      rows.map((r) => predictProbability(model, r)),
      labels,
    ),
  };
}

/** The probability of the positive class for one row. */
export function predictProbability(model: LogisticModel, row: FeatureRow): number {
  let z = model.bias;
  model.inputs.forEach((p, j) => {
    z += model.weights[j]! * prepared(p, row[p.name]);
  });
  return sigmoid(z);
}

/** The threshold with the best F1 on these scores (ties: the higher threshold). */
export function bestThreshold(scores: readonly number[], labels: readonly boolean[]): number {
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => b[0] - a[0]);
  const positives = labels.filter(Boolean).length;
  if (positives === 0) return 0.5;
  let tp = 0;
  let best = { f1: -1, threshold: 0.5 };
  for (let k = 0; k < order.length; k++) {
    if (order[k]![1]) tp++;
    // Only cut between distinct scores.
    if (k + 1 < order.length && order[k + 1]![0] === order[k]![0]) continue;
    const f1 = (2 * tp) / (k + 1 + positives);
    if (f1 > best.f1) best = { f1, threshold: order[k]![0] };
  }
  return best.threshold;
}

function prepareInput(name: string, values: readonly (number | null)[], log: boolean): InputPreparation {
  const present = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const fill = present.length > 0 ? present[Math.floor(present.length / 2)]! : 0;
  const scaled = values.map((v) => scale(v ?? fill, log));
  const mean = scaled.reduce((s, v) => s + v, 0) / scaled.length;
  const variance = scaled.reduce((s, v) => s + (v - mean) ** 2, 0) / scaled.length;
  return { name, fill, log, mean, std: variance > 1e-12 ? Math.sqrt(variance) : 1 };
}

function prepared(p: InputPreparation, value: unknown): number {
  return (scale(numeric(value) ?? p.fill, p.log) - p.mean) / p.std;
}

function scale(v: number, log: boolean): number {
  return log ? Math.sign(v) * Math.log1p(Math.abs(v)) : v;
}

/** A feature value as a number; null when missing or not a number. */
export function numeric(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) return value.getTime();
  return null;
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function dot(w: Float64Array, x: readonly number[]): number {
  let s = 0;
  for (let j = 0; j < x.length; j++) s += w[j]! * x[j]!;
  return s;
}
