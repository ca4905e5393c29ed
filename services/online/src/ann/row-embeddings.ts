import { endianness } from "node:os";
import type { FeatureGroup } from "@granary/proto/metadata";
import type { DataType } from "@granary/proto/types";
import { cellOf, decodeRowInto, encodeRowDefaults, type CellSink, type RowDefaults } from "../store/row-codec.js";

/** Floats are stored little-endian; on a little-endian host their bytes are copied as they are. */
const LITTLE_ENDIAN = endianness() === "LE";

/**
 * Reads embedding columns out of a group's stored rows as Float32Arrays: null, or a list of another
 * length than the column's dimension, reads as undefined (such a row is not indexed). A column
 * appended after a row was written reads as its default.
 *
 * With `reuse`, every read returns the same arrays, overwritten by the next read: a search that
 * only computes a distance from each row allocates nothing per row.
 */
export class RowEmbeddings {
  readonly #types: readonly DataType[];
  readonly #defaults: RowDefaults | undefined;
  readonly #sinks: (CellSink | undefined)[];
  #out: (Float32Array | undefined)[] = [];

  constructor(group: FeatureGroup, columns: readonly string[], options: { reuse?: boolean } = {}) {
    this.#types = group.columns.map((c) => c.type!);
    this.#defaults = encodeRowDefaults(
      this.#types,
      group.columns.map((c) => (c.defaultValue ? cellOf(c.defaultValue) : null)),
    );
    this.#sinks = new Array<CellSink | undefined>(this.#types.length);
    columns.forEach((name, slot) => {
      const position = group.columns.findIndex((c) => c.name === name);
      if (position < 0) throw new Error(`column "${name}" is not in feature group "${group.name}"`);
      const dimension = this.#types[position]!.dimension;
      const scratch = options.reuse ? new Float32Array(dimension) : undefined;
      const scratchBytes = scratch && new Uint8Array(scratch.buffer);
      this.#sinks[position] = {
        value: (_row, buf, offset) => {
          const count = buf.readUInt32LE(offset);
          if (count !== dimension || dimension === 0) return void (this.#out[slot] = undefined);
          const vector = scratch ?? new Float32Array(dimension);
          const start = offset + 4;
          // A view of exactly these bytes: lmdb-js may lend a buffer whose `length` is not its real one.
          if (LITTLE_ENDIAN) (scratchBytes ?? new Uint8Array(vector.buffer)).set(new Uint8Array(buf.buffer, buf.byteOffset + start, dimension * 4));
          else for (let i = 0, at = start; i < dimension; i++, at += 4) vector[i] = buf.readFloatLE(at);
          this.#out[slot] = vector;
        },
        missing: () => void (this.#out[slot] = undefined),
      };
    });
  }

  /** The row's embeddings, in the order of the columns given at construction. */
  read(raw: Buffer): (Float32Array | undefined)[] {
    this.#out = [];
    decodeRowInto(raw, this.#types, this.#sinks, 0, this.#defaults);
    return this.#out;
  }
}
