// The feature pipelines of the book's air-quality service (ch. 3): create the feature groups and
// backfill them with history, then, every simulated day, the daily pipeline — in the morning the
// day's weather forecast and the PM2.5 lag features known by then, in the evening the sensor's
// reading of the day.
import { feature, rules, type FeatureGroup, type InsertResult, type Project, type Row } from "@granary/client";
import { dateOf, dayIndex, type AirQualityData, type WeatherReading } from "./data.js";
import { LAG_DAYS, pm25Lags, windComponents } from "./features.js";

export const AIR_QUALITY_GROUP = "air_quality";
export const WEATHER_GROUP = "weather";
export const PREDICTIONS_GROUP = "aq_predictions";

export interface AirQualityGroups {
  /** city, date → pm25 (the label; null until the day's reading arrives) and its lag features. */
  readonly airQuality: FeatureGroup;
  /** city, date → the day's weather: observed for history, forecast for the days predicted. */
  readonly weather: FeatureGroup;
  /** The monitoring group: city, date → the production model's prediction, and the actual once known. */
  readonly predictions: FeatureGroup;
}

/** The three groups, created on first use and returned unchanged afterwards (idempotent, as the book's get_or_create). */
export async function createFeatureGroups(project: Project): Promise<AirQualityGroups> {
  const [airQuality, weather, predictions] = await Promise.all([
    project.getOrCreateFeatureGroup({
      name: AIR_QUALITY_GROUP,
      description: "Daily PM2.5 per sensor, with lag features computed by the feature pipeline",
      columns: [
        { name: "city", type: "string" },
        { name: "date", type: "date" },
        { name: "pm25", type: "double", description: "daily PM2.5 (µg/m³); null until the day's reading arrives" },
        { name: "pm25_lag_1d", type: "double", description: "yesterday's PM2.5" },
        { name: "pm25_rolling_3d", type: "double", description: "mean PM2.5 of the three days before" },
        { name: "pm25_rolling_7d", type: "double", description: "mean PM2.5 of the seven days before" },
      ],
      primaryKey: ["city"],
      eventTime: "date",
      // The book's expectation: a broken sensor reporting impossible values must not reach training data.
      validationRules: [rules.between("pm25", { min: 0, max: 500 }, { name: "pm25_in_range" })],
    }),
    project.getOrCreateFeatureGroup({
      name: WEATHER_GROUP,
      description: "Daily weather per city: observations for history, the morning's forecast for new days",
      columns: [
        { name: "city", type: "string" },
        { name: "date", type: "date" },
        { name: "temperature", type: "double", description: "daily mean temperature (°C)" },
        { name: "precipitation", type: "double", description: "daily precipitation (mm)" },
        { name: "wind_speed", type: "double", description: "daily mean wind speed (m/s)" },
        { name: "wind_direction", type: "double", description: "direction the wind blows from (degrees)" },
        { name: "wind_dir_sin", type: "double" },
        { name: "wind_dir_cos", type: "double" },
      ],
      primaryKey: ["city"],
      eventTime: "date",
      validationRules: [rules.between("precipitation", { min: 0 }, { name: "precipitation_not_negative", policy: "warn" })],
    }),
    project.getOrCreateFeatureGroup({
      name: PREDICTIONS_GROUP,
      description: "Monitoring: daily PM2.5 predictions of the production model, with the actual reading for the hindcast",
      columns: [
        { name: "city", type: "string" },
        { name: "date", type: "date" },
        { name: "predicted_pm25", type: "double" },
        { name: "actual_pm25", type: "double", description: "null until the day's reading is known" },
        { name: "model_version", type: "int32" },
        { name: "prediction_time", type: "timestamp" },
      ],
      primaryKey: ["city"],
      eventTime: "date",
    }),
  ]);
  return { airQuality, weather, predictions };
}

/** Rows written by a pipeline run, per group. */
export interface IngestCounts {
  readonly airQuality: number;
  readonly weather: number;
}

/** Writes days [0, untilDay) of history: observed weather and complete air-quality rows, one insert per group. */
export async function backfill(groups: AirQualityGroups, data: AirQualityData, untilDay: number): Promise<IngestCounts> {
  const airQuality: Row[] = [];
  const weather: Row[] = [];
  for (const { city, weather: observed, pm25 } of data.series) {
    for (let day = 0; day < untilDay; day++) {
      const before = Array.from({ length: LAG_DAYS }, (_, k) => pm25[day - 1 - k]);
      airQuality.push({ city: city.name, date: dateOf(day), pm25: pm25[day]!, ...pm25Lags(before) });
      weather.push(weatherRow(city.name, day, observed[day]!));
    }
  }
  const [aq, w] = await Promise.all([groups.airQuality.insert(airQuality), groups.weather.insert(weather)]);
  return { airQuality: aq.rowsInserted + aq.rowsUpdated, weather: w.rowsInserted + w.rowsUpdated };
}

/**
 * The morning run of the daily feature pipeline for `day`: the weather forecast of the day, and
 * the day's air-quality row with lag features from the readings already stored (its pm25 is not
 * known yet). After it, batch inference can predict the day.
 */
export async function morningFeaturePipeline(groups: AirQualityGroups, data: AirQualityData, day: number): Promise<IngestCounts> {
  const stored = await storedReadings(groups.airQuality, day - LAG_DAYS, day);
  const airQuality: Row[] = [];
  const weather: Row[] = [];
  for (const { city, forecast } of data.series) {
    const before = Array.from({ length: LAG_DAYS }, (_, k) => stored.get(readingKey(city.name, day - 1 - k)));
    airQuality.push({ city: city.name, date: dateOf(day), pm25: null, ...pm25Lags(before) });
    weather.push(weatherRow(city.name, day, forecast[day]!));
  }
  const [aq, w] = await Promise.all([groups.airQuality.insert(airQuality), groups.weather.insert(weather)]);
  return { airQuality: aq.rowsInserted + aq.rowsUpdated, weather: w.rowsInserted + w.rowsUpdated };
}

/** The evening run for `day`: the sensors' readings of the day complete the rows written in the morning. */
export async function eveningFeaturePipeline(groups: AirQualityGroups, data: AirQualityData, day: number): Promise<InsertResult> {
  const date = dateOf(day);
  const morning = await groups.airQuality.read({ filter: feature("date").eq(date) });
  const reading = new Map(data.series.map((s) => [s.city.name, s.pm25[day]!]));
  const rows: Row[] = morning.toArray().map((r) => {
    const row = r.toJSON() as Record<string, unknown>;
    return {
      city: row["city"] as string,
      date,
      pm25: reading.get(row["city"] as string) ?? null,
      pm25_lag_1d: row["pm25_lag_1d"] as number | null,
      pm25_rolling_3d: row["pm25_rolling_3d"] as number | null,
      pm25_rolling_7d: row["pm25_rolling_7d"] as number | null,
    };
  });
  if (rows.length === 0) throw new Error(`no air-quality rows for ${date.toISOString().slice(0, 10)}: run the morning pipeline first`);
  return groups.airQuality.insert(rows);
}

function weatherRow(city: string, day: number, w: WeatherReading): Row {
  return {
    city,
    date: dateOf(day),
    temperature: w.temperature,
    precipitation: w.precipitation,
    wind_speed: w.windSpeed,
    wind_direction: w.windDirection,
    ...windComponents(w.windDirection),
  };
}

const readingKey = (city: string, day: number) => `${city}/${day}`;

/** The PM2.5 readings stored for days [from, to), by city and day. */
async function storedReadings(group: FeatureGroup, from: number, to: number): Promise<Map<string, number>> {
  const table = await group.read({
    columns: ["city", "date", "pm25"],
    filter: feature("date")
      .ge(dateOf(from))
      .and(feature("date").lt(dateOf(to)), feature("pm25").isNotNull()),
  });
  const out = new Map<string, number>();
  for (const r of table.toArray()) {
    const row = r.toJSON() as Record<string, unknown>;
    out.set(readingKey(row["city"] as string, dayIndex(row["date"] as number)), row["pm25"] as number);
  }
  return out;
}
