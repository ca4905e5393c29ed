import * as arrow from "apache-arrow";
import { InvalidArgumentError } from "@granary/errors";

/** 0001-01-01T00:00:00Z in microseconds since the epoch: earlier event times are refused. */
export const MIN_EVENT_MICROS = -62_135_596_800_000_000n;

/** The event times a write accepts, in microseconds since the epoch, both ends included. */
export interface EventTimeBounds {
  readonly minMicros: bigint;
  readonly maxMicros: bigint;
}

/**
 * Event times a write accepts now: from year 1 to `nowMicros` plus the allowance for clock skew
 * (GRANARY_MAX_FUTURE_EVENT_TIME_S). A row far in the future would otherwise win every later write
 * of its key online (the newest event time wins) while offline moves on.
 */
export function eventTimeBounds(nowMicros: bigint, maxFutureSeconds: number): EventTimeBounds {
  return { minMicros: MIN_EVENT_MICROS, maxMicros: nowMicros + BigInt(maxFutureSeconds) * 1_000_000n };
}

/** Fails with INVALID_ARGUMENT naming the column, the row and the value when `micros` is out of bounds. */
export function checkEventTime(column: string, row: number, micros: bigint, bounds: EventTimeBounds): void {
  if (micros >= bounds.minMicros && micros <= bounds.maxMicros) return;
  const when =
    micros < bounds.minMicros
      ? `before year 1 (${bounds.minMicros} µs)`
      : `more than the allowed skew past now (latest ${describeMicros(bounds.maxMicros)}; GRANARY_MAX_FUTURE_EVENT_TIME_S)`;
  throw new InvalidArgumentError(`row ${row}: event-time column "${column}" is ${describeMicros(micros)}, ${when}; nothing was written`);
}

function describeMicros(micros: bigint): string {
  const ms = micros / 1000n;
  const date = ms >= -8_640_000_000_000_000n && ms <= 8_640_000_000_000_000n ? new Date(Number(ms)) : undefined;
  return date && !Number.isNaN(date.getTime()) ? `${micros} µs (${date.toISOString()})` : `${micros} µs`;
}

const MICROS_PER_DAY = 86_400_000_000n;

/**
 * Row i of an Arrow timestamp or date column as exact microseconds since the epoch (null for null),
 * whatever the unit: apache-arrow's own getters go through doubles and lose int64 precision.
 */
export function timeMicrosReader(data: arrow.Data): (i: number) => bigint | null {
  const vector = arrow.makeVector(data);
  const type = data.type as arrow.DataType;
  const values = data.values as ArrayLike<number | bigint>;
  const valid = (i: number) => vector.isValid(i);
  if (arrow.DataType.isTimestamp(type)) {
    const unit = (type as arrow.Timestamp).unit;
    return (i) => {
      if (!valid(i)) return null;
      const v = BigInt(values[i]!);
      switch (unit) {
        case arrow.TimeUnit.SECOND:
          return v * 1_000_000n;
        case arrow.TimeUnit.MILLISECOND:
          return v * 1000n;
        case arrow.TimeUnit.MICROSECOND:
          return v;
        default:
          return floorDiv(v, 1000n);
      }
    };
  }
  if (arrow.DataType.isDate(type)) {
    if ((type as arrow.Date_).unit === arrow.DateUnit.DAY) return (i) => (valid(i) ? BigInt(values[i]!) * MICROS_PER_DAY : null);
    return (i) => (valid(i) ? floorDiv(BigInt(values[i]!), 86_400_000n) * MICROS_PER_DAY : null);
  }
  throw new InvalidArgumentError(`a ${String(type)} column is not a time`);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
