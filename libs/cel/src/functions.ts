import { celFunc, CelScalar, type CelFunc } from "@bufbuild/cel";

const D = CelScalar.DOUBLE;
const EARTH_RADIUS_KM = 6371.0088;

function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

const unary = (name: string, fn: (x: number) => number): CelFunc => celFunc(`math.${name}`, [D], D, fn);

/**
 * Functions on-demand features may call beyond CEL's standard library (which has no math). The
 * same list is used wherever an expression is checked or evaluated: metadata, online, offline and
 * the client, so a feature computes the same value everywhere.
 */
export const GRANARY_CEL_FUNCTIONS: readonly CelFunc[] = [
  unary("sqrt", Math.sqrt),
  unary("abs", Math.abs),
  unary("floor", Math.floor),
  unary("ceil", Math.ceil),
  unary("round", Math.round),
  unary("log", Math.log),
  unary("exp", Math.exp),
  unary("sin", Math.sin),
  unary("cos", Math.cos),
  unary("tan", Math.tan),
  unary("asin", Math.asin),
  unary("acos", Math.acos),
  unary("atan", Math.atan),
  unary("radians", (x) => (x * Math.PI) / 180),
  unary("degrees", (x) => (x * 180) / Math.PI),
  celFunc("math.pow", [D, D], D, Math.pow),
  celFunc("math.atan2", [D, D], D, Math.atan2),
  celFunc("math.min", [D, D], D, Math.min),
  celFunc("math.max", [D, D], D, Math.max),
  // Great-circle distance in kilometres between two (latitude, longitude) points in degrees.
  celFunc("geo.haversine_km", [D, D, D, D], D, haversineKm),
];

/** Names callable in expressions, for documentation and error messages. */
export const GRANARY_CEL_FUNCTION_NAMES: readonly string[] = GRANARY_CEL_FUNCTIONS.map((f) => f.name);
