import { create } from "@bufbuild/protobuf";
import { TimestampSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { CelInput } from "@bufbuild/cel";
import { ScalarType, type DataType } from "@granary/proto/types";

/** A Granary value as services hold it: numbers, bigints (int64, timestamp micros), strings, bytes, lists. */
export type PlainValue = boolean | number | bigint | string | Uint8Array | readonly PlainValue[];

/** A value of a column as CEL sees it (celTypeOf): ints as bigint, timestamps as Timestamp messages. */
export function toCel(type: DataType, value: PlainValue): CelInput {
  if (type.list) {
    const item = { ...type, list: false } as DataType;
    return (value as readonly PlainValue[]).map((v) => toCel(item, v)) as CelInput;
  }
  switch (type.scalar) {
    case ScalarType.INT32:
    case ScalarType.DATE:
    case ScalarType.INT64:
      return typeof value === "bigint" ? value : BigInt(value as number);
    case ScalarType.TIMESTAMP: {
      const micros = BigInt(value as bigint | number);
      const seconds = micros / 1_000_000n - (micros % 1_000_000n < 0n ? 1n : 0n);
      return create(TimestampSchema, { seconds, nanos: Number(micros - seconds * 1_000_000n) * 1000 });
    }
    default:
      return value as CelInput;
  }
}

/** A CEL result back into the declared output type. */
export function fromCel(type: DataType, value: unknown): PlainValue {
  if (type.list) {
    const item = { ...type, list: false } as DataType;
    return [...(value as Iterable<unknown>)].map((v) => fromCel(item, v));
  }
  switch (type.scalar) {
    case ScalarType.INT32:
    case ScalarType.DATE:
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return Number(value);
    case ScalarType.INT64:
      return BigInt(value as bigint);
    case ScalarType.TIMESTAMP: {
      const ts = ((value as { message?: Timestamp }).message ?? value) as Timestamp;
      return ts.seconds * 1_000_000n + BigInt(Math.floor(ts.nanos / 1000));
    }
    default:
      return value as PlainValue;
  }
}
