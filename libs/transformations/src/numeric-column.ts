/**
 * The numeric column layouts the services hold: typed arrays from Arrow batches (offline) and the
 * `values` arrays of protobuf-es packed fields (online: `number[]`, and `bigint[]` for int64).
 */
export type NumericColumn = Float64Array | Float32Array | Int32Array | BigInt64Array | readonly number[] | readonly bigint[];

// Where the low and high 32-bit halves of an int64 sit in an Int32Array view of it.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LOW = LITTLE_ENDIAN ? 0 : 1;
const HIGH = 1 - LOW;
const TWO_TO_32 = 4294967296;

/**
 * Writes `(Number(input[i]) - center) / scale` for every row. Reading a BigInt64Array element
 * allocates a bigint, so int64 columns are read through an Int32Array view of the same memory:
 * `high * 2^32 + low` adds two exact doubles, so it rounds once, to the same double as `Number()`.
 */
export function affineInto(input: NumericColumn, center: number, scale: number, out: Float64Array): void {
  const n = input.length;
  if (input instanceof BigInt64Array) {
    const words = new Int32Array(input.buffer, input.byteOffset, n * 2);
    for (let i = 0; i < n; i++) {
      const x = words[2 * i + HIGH]! * TWO_TO_32 + (words[2 * i + LOW]! >>> 0);
      out[i] = (x - center) / scale;
    }
  } else if (n > 0 && typeof input[0] === "bigint") {
    const values = input as readonly bigint[];
    for (let i = 0; i < n; i++) out[i] = (Number(values[i]!) - center) / scale;
  } else {
    const values = input as ArrayLike<number>;
    for (let i = 0; i < n; i++) out[i] = (values[i]! - center) / scale;
  }
}
