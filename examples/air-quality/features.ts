// Model-independent transformations, computed by the feature pipeline before insert (book,
// ch. 2: they are stored and shared by every model). The backfill and the daily pipeline call the
// same functions, so history and new days are featurised identically.

export interface Pm25Lags {
  /** Yesterday's reading. */
  readonly pm25_lag_1d: number | null;
  /** Mean of the last three days' readings. */
  readonly pm25_rolling_3d: number | null;
  /** Mean of the last seven days' readings: the city's recent level. */
  readonly pm25_rolling_7d: number | null;
}

/** How many past days the lag features look at. */
export const LAG_DAYS = 7;

/**
 * Lag features of a day from the readings of the days before it: `before[0]` is yesterday's,
 * `before[1]` the day before's, …; null or missing for a day without a reading. Known on the
 * morning of the day, so usable when predicting it.
 */
export function pm25Lags(before: readonly (number | null | undefined)[]): Pm25Lags {
  const mean = (n: number) => {
    const values = before.slice(0, n).filter((v): v is number => typeof v === "number");
    return values.length === 0 ? null : round(values.reduce((a, b) => a + b, 0) / values.length);
  };
  return { pm25_lag_1d: before[0] ?? null, pm25_rolling_3d: mean(3), pm25_rolling_7d: mean(LAG_DAYS) };
}

/** Wind direction as a point on the unit circle: 359° and 1° are neighbours, as a linear model needs. */
export function windComponents(directionDeg: number): { wind_dir_sin: number; wind_dir_cos: number } {
  const r = (directionDeg * Math.PI) / 180;
  return { wind_dir_sin: round(Math.sin(r)), wind_dir_cos: round(Math.cos(r)) };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
