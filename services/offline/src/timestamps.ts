import { create } from "@bufbuild/protobuf";
import { TimestampSchema, type Duration, type Timestamp } from "@bufbuild/protobuf/wkt";

/** Microseconds since the epoch: the unit of every time in the commit log and in the SQL. */
export function timestampMicros(ts: Timestamp): bigint {
  return ts.seconds * 1_000_000n + BigInt(Math.floor(ts.nanos / 1000));
}

/** A Timestamp from microseconds since the epoch (floored to the second for negative times, as protobuf wants). */
export function timestampFromMicros(micros: bigint): Timestamp {
  let seconds = micros / 1_000_000n;
  if (micros % 1_000_000n < 0n) seconds -= 1n;
  return create(TimestampSchema, { seconds, nanos: Number(micros - seconds * 1_000_000n) * 1000 });
}

/** A Duration in microseconds. */
export function durationMicros(d: Duration): bigint {
  return d.seconds * 1_000_000n + BigInt(Math.floor(d.nanos / 1000));
}
