import { describe, expect, it } from "@jest/globals";
import { dateOf, dayIndex, generateAirQualityData, isoDay } from "./data.js";
import { pm25Lags, windComponents } from "./features.js";

function correlation(a: readonly number[], b: readonly number[]): number {
  const ma = a.reduce((s, x) => s + x, 0) / a.length;
  const mb = b.reduce((s, x) => s + x, 0) / b.length;
  let cov = 0;
  let va = 0;
  let vb = 0;
  a.forEach((x, i) => {
    cov += (x - ma) * (b[i]! - mb);
    va += (x - ma) ** 2;
    vb += (b[i]! - mb) ** 2;
  });
  return cov / Math.sqrt(va * vb);
}

describe("generateAirQualityData", () => {
  const size = { cities: 4, days: 400, seed: 11 };
  const data = generateAirQualityData(size);

  it("is a pure function of its size and seed", () => {
    expect(generateAirQualityData(size)).toEqual(data);
    expect(generateAirQualityData({ ...size, seed: 12 }).series[0]!.pm25).not.toEqual(data.series[0]!.pm25);
  });

  it("gives every city a reading, a weather observation and a forecast per day", () => {
    expect(data.dates).toHaveLength(size.days);
    expect(isoDay(data.dates[0]!)).toBe("2023-01-01");
    expect(new Set(data.series.map((s) => s.city.name)).size).toBe(size.cities);
    for (const s of data.series) {
      expect(s.pm25).toHaveLength(size.days);
      expect(s.weather).toHaveLength(size.days);
      expect(s.forecast).toHaveLength(size.days);
      for (const v of s.pm25) expect(v > 0 && v <= 500).toBe(true);
      for (const w of s.weather) expect(w.precipitation >= 0 && w.windSpeed > 0 && w.windDirection >= 0 && w.windDirection < 360).toBe(true);
    }
    expect(
      generateAirQualityData({ cities: 10, days: 5, seed: 1 })
        .series.map((s) => s.city.name)
        .at(-1),
    ).toBe("city_10");
  });

  it("makes PM2.5 depend on the weather: wind and rain lower it, cold raises it", () => {
    const pm25 = data.series.flatMap((s) => s.pm25.map((v) => v - s.city.basePm25));
    const weather = data.series.flatMap((s) => s.weather);
    expect(
      correlation(
        pm25,
        weather.map((w) => w.windSpeed),
      ),
    ).toBeLessThan(-0.2);
    expect(
      correlation(
        pm25,
        weather.map((w) => Math.log1p(w.precipitation)),
      ),
    ).toBeLessThan(-0.1);
    expect(
      correlation(
        pm25,
        weather.map((w) => w.temperature),
      ),
    ).toBeLessThan(0);
  });

  it("forecasts close to, but not exactly, the observed weather", () => {
    const s = data.series[0]!;
    const errors = s.weather.map((w, i) => Math.abs(w.temperature - s.forecast[i]!.temperature));
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    expect(mean).toBeGreaterThan(0.3);
    expect(mean).toBeLessThan(2);
  });

  it("maps dates to day indexes and back", () => {
    expect(dayIndex(dateOf(37))).toBe(37);
    expect(dayIndex(dateOf(37).getTime())).toBe(37);
  });
});

describe("feature functions", () => {
  it("computes lag features from the readings before a day, skipping missing ones", () => {
    expect(pm25Lags([10, 20, 30, 40, 50, 60, 70])).toEqual({ pm25_lag_1d: 10, pm25_rolling_3d: 20, pm25_rolling_7d: 40 });
    expect(pm25Lags([null, 20, undefined, 40])).toEqual({ pm25_lag_1d: null, pm25_rolling_3d: 20, pm25_rolling_7d: 30 });
    expect(pm25Lags([])).toEqual({ pm25_lag_1d: null, pm25_rolling_3d: null, pm25_rolling_7d: null });
  });

  it("puts wind directions on the unit circle", () => {
    expect(windComponents(0)).toEqual({ wind_dir_sin: 0, wind_dir_cos: 1 });
    expect(windComponents(90)).toEqual({ wind_dir_sin: 1, wind_dir_cos: 0 });
    const a = windComponents(359);
    const b = windComponents(1);
    expect(Math.hypot(a.wind_dir_sin - b.wind_dir_sin, a.wind_dir_cos - b.wind_dir_cos)).toBeLessThan(0.05);
  });
});
