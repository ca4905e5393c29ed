// Hostile values by protobuf field type. Every value here is valid on the wire (the client must be
// able to encode it); it is the server's job to refuse it with a code that blames the caller.
import { ScalarType } from "@bufbuild/protobuf";
import { tableFromArrays, tableToIPC } from "apache-arrow";

export type Rng = () => number;

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

export const HOSTILE_STRINGS: readonly string[] = [
  "",
  "x".repeat(10_000),
  "a\0b",
  "\0",
  "../../etc/passwd",
  "..",
  "/etc/passwd",
  "/tmp/granary",
  "C:\\Windows\\system32",
  "ünïcödé 🚀 \u202e\u200b",
  "\uffff\ufeff",
  "'; DROP TABLE projects; --",
  "1' OR '1'='1",
  '"quoted" \\ backslash',
  "%s%n%x",
  "${process.env}",
  " leading space",
  "UPPER_case-Mixed.dots",
  "a".repeat(64),
  "a".repeat(65),
  "\n\r\t",
];

const INT32 = [0, -1, 1, 2147483647, -2147483648];
const UINT32 = [0, 1, 4294967295];
const INT64 = [0n, -1n, 1n, 9223372036854775807n, -9223372036854775808n];
const UINT64 = [0n, 1n, 18446744073709551615n];
const DOUBLE = [0, -0, -1, NaN, Infinity, -Infinity, 1e308, -1e308, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER + 2];
const FLOAT = [0, -1, NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45];

/** Seconds at the edges of every calendar a server might convert to: int64, year 0, year 1, year 9999+. */
export const EXTREME_SECONDS = [
  0n,
  -1n,
  9223372036854775807n,
  -9223372036854775808n,
  -62167219200n,
  -62135596800n,
  253402300800n,
  253402300799n,
  8640000000000n,
  -8640000000001n,
  315576000001n,
  -315576000001n,
];
export const EXTREME_NANOS = [0, -1, 999_999_999, 1_000_000_000, 2147483647, -2147483648];

export function randomString(rng: Rng): string {
  if (rng() < 0.8) return pick(rng, HOSTILE_STRINGS);
  const length = Math.floor(rng() * 40);
  let s = "";
  for (let i = 0; i < length; i++) s += String.fromCodePoint(Math.floor(rng() * 0x2ffff) % 0xd800);
  return s;
}

export function randomBytes(rng: Rng, max = 4096): Uint8Array {
  const out = new Uint8Array(Math.floor(rng() * max));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rng() * 256);
  return out;
}

/** Bytes that look like Arrow IPC to a different degree: garbage, a magic prefix, a valid stream with the wrong or hostile columns. */
export function hostileArrow(rng: Rng): Uint8Array {
  switch (Math.floor(rng() * 6)) {
    case 0:
      return new Uint8Array();
    case 1:
      return randomBytes(rng);
    case 2: {
      const head = new TextEncoder().encode("ARROW1\0\0");
      const tail = randomBytes(rng, 512);
      const out = new Uint8Array(head.length + tail.length);
      out.set(head);
      out.set(tail, head.length);
      return out;
    }
    case 3:
      return tableToIPC(tableFromArrays({ junk: ["a", "b"], "../../etc/passwd": Float64Array.from([NaN, Infinity]) }), "stream");
    case 4:
      return tableToIPC(
        tableFromArrays({
          id: BigInt64Array.from([9223372036854775807n, -9223372036854775808n]),
          x: Float64Array.from([NaN, -Infinity]),
          t: Float64Array.from([Infinity, -1e308]),
        }),
        "stream",
      );
    default: {
      // A valid stream cut short: the schema message survives, the batch does not.
      const ipc = tableToIPC(tableFromArrays({ id: BigInt64Array.from([1n, 2n]), x: Float64Array.from([1, 2]) }), "stream");
      return ipc.slice(0, Math.max(1, Math.floor(ipc.length * rng())));
    }
  }
}

export function scalarValue(rng: Rng, scalar: ScalarType, longAsString: boolean): unknown {
  const long = (v: bigint) => (longAsString ? v.toString() : v);
  switch (scalar) {
    case ScalarType.STRING:
      return randomString(rng);
    case ScalarType.BYTES:
      return rng() < 0.5 ? randomBytes(rng) : hostileArrow(rng);
    case ScalarType.BOOL:
      return rng() < 0.5;
    case ScalarType.DOUBLE:
      return pick(rng, DOUBLE);
    case ScalarType.FLOAT:
      return pick(rng, FLOAT);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return pick(rng, INT32);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return pick(rng, UINT32);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return long(pick(rng, INT64));
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return long(pick(rng, UINT64));
  }
}

/** A cheap, short value of the type, for huge repeated fields (so a 10k list stays a few hundred KB). */
export function smallScalar(rng: Rng, scalar: ScalarType, longAsString: boolean): unknown {
  if (scalar === ScalarType.STRING) return rng() < 0.5 ? "" : "../x";
  if (scalar === ScalarType.BYTES) return randomBytes(rng, 8);
  return scalarValue(rng, scalar, longAsString);
}
