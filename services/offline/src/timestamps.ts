import type { Timestamp } from "@bufbuild/protobuf/wkt";

/** Microseconds since the epoch: the unit of every time in the commit log and in the SQL. */
export function timestampMicros(ts: Timestamp): bigint {
  return ts.seconds * 1_000_000n + BigInt(Math.floor(ts.nanos / 1000));
}
