import type { PlainValue } from "@granary/cel";
import { typeName } from "@granary/client";
import { ScalarType, type DataType } from "@granary/proto/types";

/**
 * Text (a CSV cell, a `key=value` argument) as the value of a column type, in the form the engine
 * and the SDK both take: int64 as bigint, timestamps as microseconds since the epoch (bigint), dates
 * as days since the epoch, bytes from base64, lists from a JSON array. Empty text is null.
 */
export function parseValue(type: DataType, text: string): PlainValue | null {
  return valueParser(type)(text);
}

/** A parser of one column type, made once and applied to every cell of the column. */
export function valueParser(type: DataType): (text: string) => PlainValue | null {
  if (type.list) return (text) => (text === "" ? null : parseList(type, text));
  const scalar = scalarParser(type);
  return (text) => (text === "" ? null : scalar(text));
}

/** Thrown for text that is not a value of the type; the caller adds where it came from. */
export class ValueParseError extends TypeError {
  override readonly name = "ValueParseError";
}

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const SPECIAL_FLOATS: Record<string, number> = {
  nan: NaN,
  inf: Infinity,
  "+inf": Infinity,
  "-inf": -Infinity,
  infinity: Infinity,
  "+infinity": Infinity,
  "-infinity": -Infinity,
};
const TRUE = new Set(["true", "t", "1", "yes", "y"]);
const FALSE = new Set(["false", "f", "0", "no", "n"]);
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MICROS_PER_DAY = 86_400_000_000n;

function scalarParser(type: DataType): (raw: string) => PlainValue {
  const name = typeName({ ...type, list: false } as DataType);
  const fail = (raw: string): never => {
    throw new ValueParseError(`${quote(raw)} is not ${article(name)}`);
  };
  switch (type.scalar) {
    case ScalarType.BOOL:
      return (raw) => {
        const text = raw.trim().toLowerCase();
        if (TRUE.has(text)) return true;
        if (FALSE.has(text)) return false;
        return fail(raw);
      };
    case ScalarType.INT32:
      return (raw) => {
        const n = Number(raw);
        if (!Number.isInteger(n) || !INT.test(raw.trim())) return fail(raw);
        if (n < INT32_MIN || n > INT32_MAX) throw new ValueParseError(`${quote(raw)} is out of range for int32`);
        return n;
      };
    case ScalarType.INT64:
      return (raw) => {
        const text = raw.trim();
        if (!INT.test(text)) return fail(raw);
        const n = BigInt(text);
        if (n < INT64_MIN || n > INT64_MAX) throw new ValueParseError(`${quote(raw)} is out of range for int64`);
        return n;
      };
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return (raw) => {
        const n = Number(raw);
        if (!Number.isNaN(n) && raw.trim() !== "" && FLOAT.test(raw.trim())) return n;
        return SPECIAL_FLOATS[raw.trim().toLowerCase()] ?? fail(raw);
      };
    case ScalarType.TIMESTAMP:
      return (raw) => parseTimestampMicros(raw.trim()) ?? fail(raw);
    case ScalarType.DATE:
      return (raw) => {
        const micros = parseTimestampMicros(raw.trim());
        return micros === undefined ? fail(raw) : Number(floorDiv(micros, MICROS_PER_DAY));
      };
    case ScalarType.BYTES:
      return (raw) => {
        const text = raw.trim();
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1)
          throw new ValueParseError(`${quote(raw)} is not base64 (bytes are written in base64)`);
        return new Uint8Array(Buffer.from(text, "base64"));
      };
    default:
      return (raw) => raw;
  }
}

function parseList(type: DataType, text: string): PlainValue {
  let items: unknown;
  try {
    items = JSON.parse(text);
  } catch {
    throw new ValueParseError(`${quote(text)} is not a ${typeName(type)}: write a JSON array such as [1, 2, 3]`);
  }
  if (!Array.isArray(items)) throw new ValueParseError(`${quote(text)} is not a ${typeName(type)}: write a JSON array such as [1, 2, 3]`);
  const item = { ...type, list: false } as DataType;
  const parse = scalarParser(item);
  return items.map((v: unknown, i) => {
    if (v === null) throw new ValueParseError(`${quote(text)}: item ${i} is null (list items cannot be null)`);
    if (typeof v === "object") throw new ValueParseError(`${quote(text)}: item ${i} is not a ${typeName(item)}`);
    return parse(String(v));
  });
}

// 2025-01-31, 2025-01-31T10:20:30, 2025-01-31 10:20:30.123456+02:00, …Z
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * An ISO-8601 date or date-time as microseconds since the epoch. Without a zone it is UTC (never the
 * machine's zone: the same file must load the same everywhere). An integer is epoch milliseconds,
 * as the SDK takes numbers. Undefined when the text is neither.
 */
export function parseTimestampMicros(text: string): bigint | undefined {
  if (INT.test(text)) return BigInt(text) * 1000n;
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone = "Z"] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return undefined;
  const ms = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s));
  if (new Date(ms).getUTCDate() !== day) return undefined;
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const digits = zone.slice(1).replace(":", "");
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"));
  }
  const micros = BigInt(fraction.padEnd(6, "0").slice(0, 6));
  return (BigInt(ms) - BigInt(offsetMinutes) * 60_000n) * 1000n + micros;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** `key=value` arguments as a map of the raw texts; a missing `=` is a usage error for the caller. */
export function splitAssignment(text: string): { key: string; value: string } | undefined {
  const i = text.indexOf("=");
  if (i <= 0) return undefined;
  return { key: text.slice(0, i).trim(), value: text.slice(i + 1) };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function article(name: string): string {
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}
