import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@granary/errors";

// google.protobuf.Timestamp is defined for 0001-01-01T00:00:00Z through 9999-12-31T23:59:59.999999999Z
// with nanos in [0, 1e9); Duration for ±10,000 years with nanos of the seconds' sign. Anything else
// decodes fine but breaks every conversion downstream (Date, ISO text, timestamptz), so requests
// holding one are refused here, naming the field, instead of failing deep in a store as INTERNAL.
const MIN_TIMESTAMP_SECONDS = -62135596800n;
const MAX_TIMESTAMP_SECONDS = 253402300799n;
const MAX_DURATION_SECONDS = 315576000000n;

// Whether a message can hold a Timestamp or Duration, decided once per schema.
const holdsTimes = new Map<DescMessage, boolean>();

/** Throws InvalidArgumentError for the first Timestamp or Duration, at any depth, outside its defined range. */
export function checkWellFormedTimes(schema: DescMessage, message: object): void {
  if (canHoldTimes(schema)) walk(schema, message as Record<string, unknown>, "");
}

function walk(schema: DescMessage, message: Record<string, unknown>, prefix: string): void {
  for (const field of schema.fields) {
    const value = valueOf(field, message);
    if (value === undefined) continue;
    const path = prefix + field.name;
    if (field.fieldKind === "message") {
      visit(field.message, value as Record<string, unknown>, path);
    } else if (field.fieldKind === "list" && field.listKind === "message") {
      (value as Record<string, unknown>[]).forEach((v, i) => visit(field.message, v, `${path}[${i}]`));
    } else if (field.fieldKind === "map" && field.mapKind === "message") {
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) visit(field.message, v as Record<string, unknown>, `${path}[${key}]`);
    }
  }
}

function visit(schema: DescMessage, value: Record<string, unknown>, path: string): void {
  if (schema.typeName === "google.protobuf.Timestamp") checkTimestamp(value, path);
  else if (schema.typeName === "google.protobuf.Duration") checkDuration(value, path);
  else if (canHoldTimes(schema)) walk(schema, value, `${path}.`);
}

function checkTimestamp(value: Record<string, unknown>, path: string): void {
  const seconds = BigInt(value.seconds as bigint | string | number);
  const nanos = value.nanos as number;
  if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS || nanos < 0 || nanos > 999_999_999) {
    throw new InvalidArgumentError(`invalid request: ${path}: a timestamp must lie between years 1 and 9999 with nanos in [0, 999999999]`, { field: path });
  }
}

function checkDuration(value: Record<string, unknown>, path: string): void {
  const seconds = BigInt(value.seconds as bigint | string | number);
  const nanos = value.nanos as number;
  const mixedSigns = (seconds > 0n && nanos < 0) || (seconds < 0n && nanos > 0);
  if (seconds < -MAX_DURATION_SECONDS || seconds > MAX_DURATION_SECONDS || nanos < -999_999_999 || nanos > 999_999_999 || mixedSigns) {
    throw new InvalidArgumentError(`invalid request: ${path}: a duration must lie within ±10000 years with nanos of the seconds' sign`, { field: path });
  }
}

function valueOf(field: DescField, message: Record<string, unknown>): unknown {
  if (field.oneof === undefined) return message[field.localName];
  const selected = message[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return selected?.case === field.localName ? selected.value : undefined;
}

function canHoldTimes(schema: DescMessage): boolean {
  let holds = holdsTimes.get(schema);
  if (holds === undefined) {
    holds = reachesTime(schema, new Set());
    holdsTimes.set(schema, holds);
  }
  return holds;
}

function reachesTime(schema: DescMessage, visiting: Set<DescMessage>): boolean {
  if (visiting.has(schema)) return false;
  visiting.add(schema);
  return schema.fields.some((f) => {
    const message =
      f.fieldKind === "message" || (f.fieldKind === "list" && f.listKind === "message") || (f.fieldKind === "map" && f.mapKind === "message")
        ? f.message
        : undefined;
    if (!message) return false;
    if (message.typeName === "google.protobuf.Timestamp" || message.typeName === "google.protobuf.Duration") return true;
    return !message.typeName.startsWith("google.protobuf.") && reachesTime(message, visiting);
  });
}
