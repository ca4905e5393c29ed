import { create } from "@bufbuild/protobuf";
import { timestampDate, type Duration, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ColumnDataSchema, ScalarType, type ColumnData, type DataType, type Value } from "@granary/proto/types";

export function typeName(t: DataType | undefined): string {
  if (!t) return "?";
  const scalar = (ScalarType[t.scalar] ?? "?").toLowerCase();
  if (!t.list) return scalar;
  return t.dimension > 0 ? `list<${scalar}>[${t.dimension}]` : `list<${scalar}>`;
}

export function formatTime(ts: Timestamp | undefined): string {
  if (!ts) return "—";
  return timestampDate(ts)
    .toISOString()
    .replace("T", " ")
    .replace(/\.000Z$/, "Z");
}

export function formatMicros(micros: bigint): string {
  return new Date(Number(micros / 1000n)).toISOString().replace("T", " ");
}

export function formatDuration(d: Duration | undefined): string {
  if (!d) return "none";
  let s = Number(d.seconds);
  if (s === 0 && d.nanos === 0) return "none";
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.join(" ");
}

export function formatNumber(n: number | bigint | undefined): string {
  if (n === undefined) return "—";
  if (typeof n === "bigint") return n.toLocaleString("en-US");
  if (Number.isInteger(n)) return n.toLocaleString("en-US");
  const abs = Math.abs(n);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e7) ? n.toExponential(3) : n.toLocaleString("en-US", { maximumFractionDigits: 4 });
}

export function formatBytes(n: bigint | number): string {
  let v = Number(n);
  for (const unit of ["B", "KiB", "MiB", "GiB"]) {
    if (v < 1024 || unit === "GiB") return `${unit === "B" ? v : v.toFixed(1)} ${unit}`;
    v /= 1024;
  }
  return `${v} B`;
}

function dateFromDays(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

export function formatValue(v: Value | undefined): string {
  if (!v) return "null";
  const k = v.kind;
  switch (k.case) {
    case "boolValue":
    case "int32Value":
    case "int64Value":
    case "stringValue":
      return String(k.value);
    case "floatValue":
    case "doubleValue":
      return formatNumber(k.value);
    case "bytesValue":
      return `${k.value.byteLength} bytes`;
    case "timestampValue":
      return formatTime(k.value);
    case "dateValue":
      return dateFromDays(k.value);
    case "listValue":
      return `[${k.value.values.map(formatValue).join(", ")}]`;
    case undefined:
      return "null";
  }
}

/** One cell of a columnar array, as text (null when its index is listed as null). */
export function columnCell(data: ColumnData | undefined, row: number, nulls?: ReadonlySet<number>): string {
  if (!data) return "null";
  if ((nulls ?? new Set(data.nullIndexes)).has(row)) return "null";
  const v = data.values;
  switch (v.case) {
    case "bools":
    case "int32s":
    case "int64s":
    case "strings":
      return String(v.value.values[row] ?? "null");
    case "floats":
    case "doubles": {
      const n = v.value.values[row];
      return n === undefined ? "null" : formatNumber(n);
    }
    case "bytes":
      return `${v.value.values[row]?.byteLength ?? 0} bytes`;
    case "timestamps": {
      const n = v.value.values[row];
      return n === undefined ? "null" : formatMicros(n);
    }
    case "dates": {
      const n = v.value.values[row];
      return n === undefined ? "null" : dateFromDays(n);
    }
    case "lists": {
      const start = v.value.offsets[row] ?? 0;
      const end = v.value.offsets[row + 1] ?? start;
      const items: string[] = [];
      for (let i = start; i < end; i++) items.push(columnCell(v.value.items, i));
      return `[${items.join(", ")}]`;
    }
    case undefined:
      return "null";
  }
}

/** A one-row column of the given type from what a person typed. */
export function columnFromText(type: DataType | undefined, text: string): ColumnData {
  const t = text.trim();
  const scalar = type?.scalar ?? ScalarType.STRING;
  switch (scalar) {
    case ScalarType.BOOL:
      return create(ColumnDataSchema, { values: { case: "bools", value: { values: [t === "true" || t === "1"] } } });
    case ScalarType.INT32:
      return create(ColumnDataSchema, { values: { case: "int32s", value: { values: [Number.parseInt(t, 10)] } } });
    case ScalarType.INT64:
      return create(ColumnDataSchema, { values: { case: "int64s", value: { values: [BigInt(t)] } } });
    case ScalarType.FLOAT:
      return create(ColumnDataSchema, { values: { case: "floats", value: { values: [Number(t)] } } });
    case ScalarType.DOUBLE:
      return create(ColumnDataSchema, { values: { case: "doubles", value: { values: [Number(t)] } } });
    case ScalarType.TIMESTAMP:
      return create(ColumnDataSchema, { values: { case: "timestamps", value: { values: [BigInt(Date.parse(t)) * 1000n] } } });
    case ScalarType.DATE:
      return create(ColumnDataSchema, { values: { case: "dates", value: { values: [Math.floor(Date.parse(t) / 86_400_000)] } } });
    case ScalarType.BYTES:
      return create(ColumnDataSchema, { values: { case: "bytes", value: { values: [new TextEncoder().encode(t)] } } });
    default:
      return create(ColumnDataSchema, { values: { case: "strings", value: { values: [t] } } });
  }
}

/** Checks typed text before a call, so a typo gets a message instead of an exception. */
export function textProblem(type: DataType | undefined, text: string): string | undefined {
  const t = text.trim();
  if (t === "") return "given";
  switch (type?.scalar) {
    case ScalarType.INT32:
    case ScalarType.INT64:
      return /^-?\d+$/.test(t) ? undefined : "a whole number";
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return Number.isFinite(Number(t)) ? undefined : "a number";
    case ScalarType.TIMESTAMP:
    case ScalarType.DATE:
      return Number.isNaN(Date.parse(t)) ? "a date such as 2024-05-01T12:00:00Z" : undefined;
    default:
      return undefined;
  }
}

export function enumLabel(name: string | undefined): string {
  return (name ?? "unspecified").toLowerCase().replace(/_/g, " ");
}
