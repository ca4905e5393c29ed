// The book's regression metrics (ch. 3 evaluates with MSE and R²; MAE is what a reader of the
// hindcast feels: "off by 4 µg/m³ on average").

export interface RegressionMetrics {
  readonly rmse: number;
  readonly mae: number;
  /** 1 − SS_res / SS_tot: 1 is perfect, 0 is no better than predicting the mean. */
  readonly r2: number;
  readonly n: number;
}

export function regressionMetrics(actual: readonly number[], predicted: readonly number[]): RegressionMetrics {
  const n = actual.length;
  if (predicted.length !== n) throw new RangeError(`${n} actual values but ${predicted.length} predictions`);
  if (n === 0) return { rmse: Number.NaN, mae: Number.NaN, r2: Number.NaN, n };
  const mean = actual.reduce((a, b) => a + b, 0) / n;
  let se = 0;
  let ae = 0;
  let tot = 0;
  for (let i = 0; i < n; i++) {
    const e = actual[i]! - predicted[i]!;
    se += e * e;
    ae += Math.abs(e);
    tot += (actual[i]! - mean) ** 2;
  }
  return { rmse: Math.sqrt(se / n), mae: ae / n, r2: tot === 0 ? Number.NaN : 1 - se / tot, n };
}
