import { ScalarType, type DataType } from "@granary/proto/types";

/**
 * LMDB keys of the online store, order-preserving so a group's rows are contiguous and sorted by
 * primary key:
 *
 *   0x01 (format version) | group id: u64 big-endian | key column 1 | key column 2 | …
 *
 * Key columns, by type:
 *   int32, date          4 bytes big-endian, sign bit flipped (so negatives sort first)
 *   int64, timestamp     8 bytes big-endian, sign bit flipped
 *   bool                 1 byte
 *   string (UTF-8), bytes  the bytes with 0x00 escaped as 0x00 0xFF, then 0x00 0x01
 * The group id keeps groups and versions apart: a new version is a new group id.
 */
export const KEY_FORMAT = 0x01;

/** The longest key lmdb-js takes (its build sets MDB_MAXKEYSIZE to 1978 bytes). */
export const MAX_KEY_BYTES = 1978;

export type KeyValue = number | bigint | boolean | string | Uint8Array;

const TWO_32 = 2 ** 32;

/**
 * Builds keys in one reused buffer. The online read path builds a key per entity and group: it
 * starts from the group's cached prefix (`beginWith`) and hands `view()` to LMDB, allocating
 * nothing per key once warm (int64 keys within ±2^53 are written without BigInt arithmetic).
 */
export class KeyEncoder {
  #buf = Buffer.allocUnsafe(256);
  #data = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
  #len = 0;
  /** Views of #buf by length, so view() allocates no Buffer object per key. */
  #views: Buffer[] = [];

  begin(groupId: bigint): this {
    this.#len = 0;
    this.#ensure(9);
    this.#buf[0] = KEY_FORMAT;
    this.#buf.writeBigUInt64BE(groupId, 1);
    this.#len = 9;
    return this;
  }

  /** Starts a key with a group's prefix (`groupPrefix(id)`, cached by the caller). */
  beginWith(prefix: Buffer): this {
    this.#len = 0;
    this.#ensure(prefix.length);
    prefix.copy(this.#buf, 0);
    this.#len = prefix.length;
    return this;
  }

  add(type: DataType, value: KeyValue): this {
    switch (type.scalar) {
      case ScalarType.INT32:
      case ScalarType.DATE:
        this.#ensure(4);
        this.#buf.writeUInt32BE((Number(value) ^ 0x80000000) >>> 0, this.#len);
        this.#len += 4;
        break;
      case ScalarType.INT64:
      case ScalarType.TIMESTAMP: {
        this.#ensure(8);
        if (typeof value === "bigint") {
          // Written from the BigInt's digits (no BigInt arithmetic, no boxed number), sign bit flipped.
          this.#data.setBigInt64(this.#len, value);
          this.#buf[this.#len] = this.#buf[this.#len]! ^ 0x80;
          this.#len += 8;
          break;
        }
        const n = Number(value);
        if (Number.isSafeInteger(n)) {
          // Two's complement halves of a safe integer, sign bit flipped: no BigInt per key.
          const high = Math.floor(n / TWO_32);
          this.#buf.writeUInt32BE((high ^ 0x80000000) >>> 0, this.#len);
          this.#buf.writeUInt32BE(n - high * TWO_32, this.#len + 4);
        } else {
          this.#buf.writeBigUInt64BE(BigInt.asUintN(64, BigInt(value as bigint | number)) ^ 0x8000000000000000n, this.#len);
        }
        this.#len += 8;
        break;
      }
      case ScalarType.BOOL:
        this.#ensure(1);
        this.#buf[this.#len++] = value ? 1 : 0;
        break;
      case ScalarType.STRING:
      case ScalarType.BYTES: {
        const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : (value as Uint8Array);
        this.#ensure(bytes.length * 2 + 2);
        for (const b of bytes) {
          this.#buf[this.#len++] = b;
          if (b === 0) this.#buf[this.#len++] = 0xff;
        }
        this.#buf[this.#len++] = 0x00;
        this.#buf[this.#len++] = 0x01;
        break;
      }
      default:
        throw new Error(`type ${ScalarType[type.scalar]} cannot be part of a key`);
    }
    return this;
  }

  /** The key built so far, without copying: valid until the encoder is used again. */
  view(): Buffer {
    return (this.#views[this.#len] ??= this.#buf.subarray(0, this.#len));
  }

  /** A copy of the key built so far (the encoder's buffer is reused). */
  finish(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.#len));
  }

  #ensure(extra: number): void {
    if (this.#len + extra <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + extra));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
    this.#data = new DataView(next.buffer, next.byteOffset, next.byteLength);
    this.#views = [];
  }
}

/** The first key of a group's range (for scans and sweeps); the range ends before groupId + 1. */
export function groupPrefix(groupId: bigint): Buffer {
  const b = Buffer.allocUnsafe(9);
  b[0] = KEY_FORMAT;
  b.writeBigUInt64BE(groupId, 1);
  return b;
}

/** The group id of a key. */
export function groupIdOfKey(key: Uint8Array): bigint {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).readBigUInt64BE(1);
}
