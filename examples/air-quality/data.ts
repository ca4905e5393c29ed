// Seeded synthetic air-quality and weather data, in place of the book's aqicn.org sensor CSVs and
// Open-Meteo calls: no downloads, and the same seed always gives the same cities, days and values.
//
// PM2.5 is a city's background level, which drifts slowly and persists from day to day (so
// yesterday's reading is a fair naive forecast), plus the day's weather: cold, calm, dry days and
// wind from the city's industrial side push it up, rain and wind wash it out, and a little of
// yesterday's stagnant air lingers. The weather has seasons, day-to-day
// persistence and noise. A forecast of each day's weather (the observed weather plus forecast
// error) is what the daily pipeline knows in the morning.
import { gaussian, seededRandom } from "../shared/demo-runtime.js";

export interface AirQualityDataSize {
  /** Number of cities (sensors). */
  readonly cities: number;
  /** Number of simulated days, starting at START_DATE. */
  readonly days: number;
  readonly seed: number;
}

export interface CityProfile {
  readonly name: string;
  /** Typical PM2.5 (µg/m³) on an average day. */
  readonly basePm25: number;
  readonly meanTemperature: number;
  /** Half the summer–winter swing of the daily mean temperature (°C). */
  readonly temperatureSwing: number;
  /** The direction the wind usually blows from (degrees). */
  readonly prevailingWindDeg: number;
  /** Where the city's industry and motorways lie: wind from there brings pollution. */
  readonly pollutionBearingDeg: number;
}

/** One day's weather in a city: the observation (history) or the forecast issued that morning. */
export interface WeatherReading {
  /** Daily mean temperature (°C). */
  readonly temperature: number;
  /** Daily precipitation (mm). */
  readonly precipitation: number;
  /** Daily mean wind speed (m/s). */
  readonly windSpeed: number;
  /** The direction the wind blows from (degrees, 0 = north). */
  readonly windDirection: number;
}

export interface CitySeries {
  readonly city: CityProfile;
  /** Per day: the observed weather. */
  readonly weather: readonly WeatherReading[];
  /** Per day: the forecast of that day's weather as known on its morning. */
  readonly forecast: readonly WeatherReading[];
  /** Per day: the sensor's daily PM2.5 (µg/m³). */
  readonly pm25: readonly number[];
}

export interface AirQualityData {
  readonly size: AirQualityDataSize;
  /** Midnight UTC of every simulated day. */
  readonly dates: readonly Date[];
  readonly series: readonly CitySeries[];
}

/** The first simulated day. Fixed, so a seed always gives the same dates. */
export const START_DATE = new Date(Date.UTC(2023, 0, 1));
export const DAY_MS = 86_400_000;

const PROFILES: readonly CityProfile[] = [
  { name: "stockholm", basePm25: 9, meanTemperature: 8, temperatureSwing: 10, prevailingWindDeg: 230, pollutionBearingDeg: 90 },
  { name: "krakow", basePm25: 28, meanTemperature: 9, temperatureSwing: 11, prevailingWindDeg: 260, pollutionBearingDeg: 300 },
  { name: "delhi", basePm25: 70, meanTemperature: 25, temperatureSwing: 8, prevailingWindDeg: 300, pollutionBearingDeg: 120 },
  { name: "dublin", basePm25: 10, meanTemperature: 10, temperatureSwing: 5, prevailingWindDeg: 250, pollutionBearingDeg: 45 },
  { name: "seoul", basePm25: 25, meanTemperature: 13, temperatureSwing: 13, prevailingWindDeg: 300, pollutionBearingDeg: 270 },
  { name: "lima", basePm25: 22, meanTemperature: 19, temperatureSwing: 3, prevailingWindDeg: 200, pollutionBearingDeg: 30 },
  { name: "madrid", basePm25: 12, meanTemperature: 15, temperatureSwing: 9, prevailingWindDeg: 240, pollutionBearingDeg: 180 },
  { name: "toronto", basePm25: 9, meanTemperature: 9, temperatureSwing: 13, prevailingWindDeg: 270, pollutionBearingDeg: 200 },
];

/** The day index of a date (0 = START_DATE). */
export function dayIndex(date: Date | number): number {
  const ms = date instanceof Date ? date.getTime() : date;
  return Math.round((ms - START_DATE.getTime()) / DAY_MS);
}

/** Midnight UTC of day `index`. */
export function dateOf(index: number): Date {
  return new Date(START_DATE.getTime() + index * DAY_MS);
}

/** "2023-01-05" */
export function isoDay(date: Date | number): string {
  return new Date(date).toISOString().slice(0, 10);
}

export function generateAirQualityData(size: AirQualityDataSize): AirQualityData {
  if (!(size.cities >= 1 && size.days >= 2)) throw new RangeError(`need at least 1 city and 2 days, got ${size.cities} cities and ${size.days} days`);
  const random = seededRandom(size.seed);
  const dates = Array.from({ length: size.days }, (_, i) => dateOf(i));
  const series = cityProfiles(size.cities, random).map((city) => citySeries(city, dates, random));
  return { size, dates, series };
}

/** The named profiles first; beyond them, made-up cities with random profiles. */
function cityProfiles(n: number, random: () => number): CityProfile[] {
  const out = PROFILES.slice(0, n);
  for (let i = out.length; i < n; i++) {
    out.push({
      name: `city_${i + 1}`,
      basePm25: 6 + 40 * random(),
      meanTemperature: 5 + 20 * random(),
      temperatureSwing: 3 + 10 * random(),
      prevailingWindDeg: 360 * random(),
      pollutionBearingDeg: 360 * random(),
    });
  }
  return out;
}

function citySeries(city: CityProfile, dates: readonly Date[], random: () => number): CitySeries {
  const weather: WeatherReading[] = [];
  const forecast: WeatherReading[] = [];
  const pm25: number[] = [];
  // Cleaner cities react less to the weather in absolute terms.
  const sensitivity = Math.min(1.6, Math.max(0.6, city.basePm25 / 20));
  let tempAnomaly = 0;
  let windAnomaly = 0;
  let rainedYesterday = false;
  let background = city.basePm25;
  let weatherEffect = 0;
  for (const date of dates) {
    const season = Math.cos((2 * Math.PI * (dayOfYear(date) - 196)) / 365.25); // 1 in mid July, -1 in mid January
    tempAnomaly = 0.7 * tempAnomaly + gaussian(random, 0, 2.5);
    const temperature = city.meanTemperature + city.temperatureSwing * season + tempAnomaly;
    const rainChance: number = 0.28 - 0.1 * season + (rainedYesterday ? 0.2 : 0);
    const precipitation: number = random() < rainChance ? -4 * Math.log(Math.max(random(), 1e-9)) : 0;
    rainedYesterday = precipitation > 0;
    windAnomaly = 0.5 * windAnomaly + gaussian(random, 0, 0.35);
    const windSpeed = Math.max(0.3, Math.exp(Math.log(4) - 0.15 * season + windAnomaly));
    const windDirection = mod360(city.prevailingWindDeg + gaussian(random, 0, 60));
    const observed: WeatherReading = {
      temperature: round(temperature, 1),
      precipitation: round(precipitation, 1),
      windSpeed: round(windSpeed, 1),
      windDirection: Math.round(windDirection),
    };
    weather.push(observed);
    forecast.push(forecastOf(observed, random));

    // The background drifts; today's weather acts on top of it; the sensor reads the sum with noise.
    const push =
      -0.45 * (observed.temperature - 12) - // cold air is dense and still, and heating burns fuel
      2.2 * (observed.windSpeed - 4) - // wind disperses particles
      4 * Math.log1p(observed.precipitation) + // rain washes them out
      2.5 * Math.cos(rad(observed.windDirection - city.pollutionBearingDeg)); // wind from the industry brings them
    background = city.basePm25 + 0.9 * (background - city.basePm25) + gaussian(random, 0, 0.05 * city.basePm25);
    weatherEffect = 0.2 * weatherEffect + 0.8 * sensitivity * push;
    const reading = background + weatherEffect + gaussian(random, 0, 0.04 * city.basePm25 + 0.5);
    pm25.push(round(Math.max(1, reading), 1));
  }
  return { city, weather, forecast, pm25 };
}

/** What a weather service would have forecast on the morning of the day. */
function forecastOf(observed: WeatherReading, random: () => number): WeatherReading {
  const precipitation = observed.precipitation > 0 ? observed.precipitation * Math.exp(gaussian(random, 0, 0.35)) : random() < 0.08 ? 1 + 2 * random() : 0;
  return {
    temperature: round(observed.temperature + gaussian(random, 0, 1.2), 1),
    precipitation: round(precipitation, 1),
    windSpeed: round(Math.max(0.3, observed.windSpeed + gaussian(random, 0, 0.7)), 1),
    windDirection: Math.round(mod360(observed.windDirection + gaussian(random, 0, 20))),
  };
}

function dayOfYear(date: Date): number {
  return Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
}

const rad = (deg: number) => (deg * Math.PI) / 180;
const mod360 = (deg: number) => ((deg % 360) + 360) % 360;
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
