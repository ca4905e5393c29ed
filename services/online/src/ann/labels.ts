import { createHash } from "node:crypto";
import { recordKey } from "../store/row-changes.js";

const LABEL_BITS = (1n << 63n) - 1n;

/**
 * The index label of a row key: 63 bits of its SHA-256, the same in every process and replica, so
 * no label table has to be kept in step. Two keys of one group sharing a label (odds about n²/2⁶⁴,
 * 3·10⁻⁸ for a million rows) is detected when the second is written; that row is then found only by
 * an exact search.
 */
export function labelOf(key: Buffer): bigint {
  return createHash("sha256").update(key).digest().readBigUInt64BE(0) & LABEL_BITS;
}

/**
 * Records of the indexes kept in the store, per group and label (fixed-length keys: a row key may
 * be as long as LMDB allows a key, so it goes in the value):
 *   ann-label   / group / label → row key          (which row a label stands for)
 *   ann-pending / group / label → sequence + row key (changed since the group's indexes were saved)
 */
export class GroupRecords {
  readonly #prefix: Buffer;

  constructor(readonly name: "ann-label" | "ann-pending") {
    this.#prefix = recordKey(name);
  }

  /** One record's key (built in one allocation: a search reads one per candidate). */
  key(groupId: bigint, label: bigint): Buffer {
    const at = this.#prefix.length;
    const key = Buffer.allocUnsafe(at + 16);
    this.#prefix.copy(key, 0);
    key.writeBigUInt64BE(groupId, at);
    key.writeBigUInt64BE(label, at + 8);
    return key;
  }

  range(groupId: bigint): { start: Buffer; end: Buffer } {
    const at = (id: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(id);
      return recordKey(this.name, b);
    };
    return { start: at(groupId), end: at(groupId + 1n) };
  }

  /** The group of a record's key. */
  groupOf(key: Buffer): bigint {
    return key.readBigUInt64BE(this.#prefix.length);
  }

  /** Every record of this kind, of every group. */
  all(): { start: Buffer; end: Buffer } {
    return { start: recordKey(this.name), end: Buffer.from(`\x00${this.name}\x01`, "latin1") };
  }
}

export const labelRecords = new GroupRecords("ann-label");
export const pendingRecords = new GroupRecords("ann-pending");

/** A pending record's value: the change's sequence, then the row key. */
export function pendingValue(sequence: number, rowKey: Buffer): Buffer {
  const b = Buffer.allocUnsafe(8 + rowKey.length);
  b.writeDoubleBE(sequence, 0);
  rowKey.copy(b, 8);
  return b;
}

export function readPending(value: Buffer): { sequence: number; rowKey: Buffer } {
  return { sequence: value.readDoubleBE(0), rowKey: Buffer.from(value.subarray(8)) };
}
