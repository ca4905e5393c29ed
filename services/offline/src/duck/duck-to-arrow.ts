import duckdb from "@duckdb/node-bindings";
import * as arrow from "apache-arrow";
import { BitmapBuilder } from "./bitmap-builder.js";

export interface ArrowBatchBuilderOptions {
  /**
   * The batches flush() returns share the builder's buffers, valid until the next append: for a
   * consumer that has written a batch out before asking for the next (an IPC stream), no batch
   * allocates. Default false: every batch owns its memory.
   */
  readonly reuse?: boolean;
}

/**
 * Turns DuckDB result chunks into Arrow record batches without a JavaScript value per cell:
 * fixed-width vectors are copied as bytes, validity masks bit for bit (DuckDB's and Arrow's share
 * a layout), strings byte for byte.
 */
export class ArrowBatchBuilder {
  readonly schema: arrow.Schema;
  readonly #columns: ColumnBuilder[];
  #length = 0;

  constructor(names: readonly string[], types: readonly duckdb.LogicalType[], capacity: number, options: ArrowBatchBuilderOptions = {}) {
    const fields = names.map((name, i) => new arrow.Field(name, arrowTypeOfLogical(types[i]!, name), true));
    this.schema = new arrow.Schema(fields);
    this.#columns = fields.map((f) => builderFor(f.type, capacity, options.reuse ?? false));
  }

  get length(): number {
    return this.#length;
  }

  append(chunk: duckdb.DataChunk): void {
    this.appendRows(chunk, 0, duckdb.data_chunk_get_size(chunk));
  }

  /** Appends rows [from, from+n) of a chunk (a multiple of eight for `from` keeps bitmaps fast). */
  appendRows(chunk: duckdb.DataChunk, from: number, n: number): void {
    const size = duckdb.data_chunk_get_size(chunk);
    for (let c = 0; c < this.#columns.length; c++) {
      this.#columns[c]!.appendRange(duckdb.data_chunk_get_vector(chunk, c), from, n, size);
    }
    this.#length += n;
  }

  /** The rows appended so far as one record batch; the builder starts over. */
  flush(): arrow.RecordBatch {
    const children = this.#columns.map((c) => c.finish());
    const data = arrow.makeData({ type: new arrow.Struct(this.schema.fields), length: this.#length, nullCount: 0, children });
    this.#length = 0;
    return new arrow.RecordBatch(this.schema, data);
  }
}

/** The Arrow type a DuckDB result column becomes. Timestamps are microseconds, UTC. */
export function arrowTypeOfLogical(logical: duckdb.LogicalType, name: string): arrow.DataType {
  switch (duckdb.get_type_id(logical)) {
    case duckdb.Type.BOOLEAN:
      return new arrow.Bool();
    case duckdb.Type.TINYINT:
      return new arrow.Int8();
    case duckdb.Type.SMALLINT:
      return new arrow.Int16();
    case duckdb.Type.INTEGER:
      return new arrow.Int32();
    case duckdb.Type.BIGINT:
      return new arrow.Int64();
    case duckdb.Type.UTINYINT:
      return new arrow.Uint8();
    case duckdb.Type.USMALLINT:
      return new arrow.Uint16();
    case duckdb.Type.UINTEGER:
      return new arrow.Uint32();
    case duckdb.Type.UBIGINT:
      return new arrow.Uint64();
    case duckdb.Type.FLOAT:
      return new arrow.Float32();
    case duckdb.Type.DOUBLE:
      return new arrow.Float64();
    case duckdb.Type.TIMESTAMP:
    case duckdb.Type.TIMESTAMP_TZ:
      return new arrow.TimestampMicrosecond("UTC");
    case duckdb.Type.DATE:
      return new arrow.DateDay();
    case duckdb.Type.VARCHAR:
      return new arrow.Utf8();
    case duckdb.Type.BLOB:
      return new arrow.Binary();
    case duckdb.Type.LIST: {
      const child = arrowTypeOfLogical(duckdb.list_type_child_type(logical), name);
      return new arrow.List(new arrow.Field("item", child, true));
    }
    default:
      throw new Error(`column ${name}: DuckDB type ${duckdb.Type[duckdb.get_type_id(logical)]} has no Arrow mapping here`);
  }
}

interface ColumnBuilder {
  /** Appends rows [from, from+n) of a vector holding `size` rows. */
  appendRange(vector: duckdb.Vector, from: number, n: number, size: number): void;
  finish(): arrow.Data;
}

function builderFor(type: arrow.DataType, capacity: number, reuse: boolean): ColumnBuilder {
  if (arrow.DataType.isBool(type)) return new BoolBuilder(capacity, reuse);
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isBinary(type)) return new BytesBuilder(type, capacity, reuse);
  if (arrow.DataType.isList(type)) return new ListBuilder(type, capacity, reuse);
  return new FixedBuilder(type, capacity, reuse);
}

function validityOf(vector: duckdb.Vector, size: number): Uint8Array | null {
  const v = duckdb.vector_get_validity(vector, Math.ceil(size / 64) * 8) as Uint8Array | null | undefined;
  return v && v.byteLength > 0 ? v : null;
}

class FixedBuilder implements ColumnBuilder {
  readonly #type: arrow.DataType;
  readonly #width: number;
  readonly #reuse: boolean;
  #bytes: Uint8Array;
  #length = 0;
  readonly #validity: BitmapBuilder;

  constructor(type: arrow.DataType, capacity: number, reuse: boolean) {
    this.#type = type;
    this.#width = (type.ArrayType as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    this.#reuse = reuse;
    this.#bytes = new Uint8Array(capacity * this.#width);
    this.#validity = new BitmapBuilder(capacity, false, reuse);
  }

  appendRange(vector: duckdb.Vector, from: number, n: number, size: number): void {
    const w = this.#width;
    const need = (this.#length + n) * w;
    if (need > this.#bytes.byteLength) {
      const grown = new Uint8Array(Math.max(need, this.#bytes.byteLength * 2));
      grown.set(this.#bytes.subarray(0, this.#length * w));
      this.#bytes = grown;
    }
    const src = duckdb.vector_get_data(vector, (from + n) * w);
    this.#bytes.set(src.subarray(from * w, (from + n) * w), this.#length * w);
    this.#validity.appendFrom(validityOf(vector, size), from, n);
    this.#length += n;
  }

  finish(): arrow.Data {
    const Ctor = this.#type.ArrayType as unknown as new (b: ArrayBuffer, o: number, l: number) => ArrayBufferView;
    const values = new Ctor(this.#bytes.buffer as ArrayBuffer, 0, this.#length);
    const { bitmap, nullCount } = this.#validity.take(this.#length);
    const data = arrow.makeData({ type: this.#type, length: this.#length, nullCount, nullBitmap: bitmap, data: values } as never) as arrow.Data;
    if (!this.#reuse) this.#bytes = new Uint8Array(this.#bytes.byteLength);
    this.#length = 0;
    return data;
  }
}

class BoolBuilder implements ColumnBuilder {
  #values: BitmapBuilder;
  readonly #validity: BitmapBuilder;
  #length = 0;

  constructor(capacity: number, reuse: boolean) {
    this.#values = new BitmapBuilder(capacity, true, reuse);
    this.#validity = new BitmapBuilder(capacity, false, reuse);
  }

  appendRange(vector: duckdb.Vector, from: number, n: number, size: number): void {
    const src = duckdb.vector_get_data(vector, from + n);
    this.#values.appendBytes(src, from, n);
    this.#validity.appendFrom(validityOf(vector, size), from, n);
    this.#length += n;
  }

  finish(): arrow.Data {
    const { bitmap: values } = this.#values.take(this.#length);
    const { bitmap, nullCount } = this.#validity.take(this.#length);
    const data = arrow.makeData({ type: new arrow.Bool(), length: this.#length, nullCount, nullBitmap: bitmap, data: values });
    this.#length = 0;
    return data;
  }
}

class BytesBuilder implements ColumnBuilder {
  readonly #type: arrow.Utf8 | arrow.Binary;
  readonly #reuse: boolean;
  #offsets: Int32Array;
  #data: Uint8Array;
  #used = 0;
  #length = 0;
  readonly #validity: BitmapBuilder;

  constructor(type: arrow.DataType, capacity: number, reuse: boolean) {
    this.#type = type as arrow.Utf8 | arrow.Binary;
    this.#reuse = reuse;
    this.#offsets = new Int32Array(capacity + 1);
    this.#data = new Uint8Array(capacity * 16);
    this.#validity = new BitmapBuilder(capacity, false, reuse);
  }

  appendRange(vector: duckdb.Vector, from: number, n: number, size: number): void {
    if (this.#length + n + 1 > this.#offsets.length) {
      const grown = new Int32Array(Math.max(this.#length + n + 1, this.#offsets.length * 2));
      grown.set(this.#offsets.subarray(0, this.#length + 1));
      this.#offsets = grown;
    }
    const src = duckdb.vector_get_data(vector, (from + n) * 16);
    const words = new Uint32Array(src.buffer, src.byteOffset, (from + n) * 4);
    const validity = validityOf(vector, size);
    for (let i = from; i < from + n; i++) {
      const valid = validity === null || ((validity[i >>> 3]! >>> (i & 7)) & 1) === 1;
      if (valid) {
        const len = words[i * 4]!;
        this.#reserve(len);
        if (len <= 12) {
          this.#data.set(src.subarray(i * 16 + 4, i * 16 + 4 + len), this.#used);
        } else {
          this.#data.set(duckdb.get_data_from_pointer(src.buffer as ArrayBuffer, src.byteOffset + i * 16 + 8, len), this.#used);
        }
        this.#used += len;
      }
      this.#offsets[++this.#length] = this.#used;
    }
    this.#validity.appendFrom(validity, from, n);
  }

  #reserve(len: number): void {
    if (this.#used + len <= this.#data.byteLength) return;
    const grown = new Uint8Array(Math.max(this.#used + len, this.#data.byteLength * 2));
    grown.set(this.#data.subarray(0, this.#used));
    this.#data = grown;
  }

  finish(): arrow.Data {
    const { bitmap, nullCount } = this.#validity.take(this.#length);
    const data = arrow.makeData({
      type: this.#type,
      length: this.#length,
      nullCount,
      nullBitmap: bitmap,
      valueOffsets: this.#reuse ? this.#offsets.subarray(0, this.#length + 1) : this.#offsets.slice(0, this.#length + 1),
      data: this.#reuse ? this.#data.subarray(0, this.#used) : this.#data.slice(0, this.#used),
    } as never) as arrow.Data;
    this.#length = 0;
    this.#used = 0;
    this.#offsets[0] = 0;
    return data;
  }
}

class ListBuilder implements ColumnBuilder {
  readonly #type: arrow.List;
  readonly #reuse: boolean;
  readonly #child: ColumnBuilder;
  #offsets: Int32Array;
  #childLength = 0;
  #length = 0;
  readonly #validity: BitmapBuilder;

  constructor(type: arrow.DataType, capacity: number, reuse: boolean) {
    this.#type = type as arrow.List;
    this.#reuse = reuse;
    this.#child = builderFor(this.#type.children[0]!.type, capacity * 4, reuse);
    this.#offsets = new Int32Array(capacity + 1);
    this.#validity = new BitmapBuilder(capacity, false, reuse);
  }

  appendRange(vector: duckdb.Vector, from: number, n: number, size: number): void {
    if (this.#length + n + 1 > this.#offsets.length) {
      const grown = new Int32Array(Math.max(this.#length + n + 1, this.#offsets.length * 2));
      grown.set(this.#offsets.subarray(0, this.#length + 1));
      this.#offsets = grown;
    }
    const src = duckdb.vector_get_data(vector, (from + n) * 16);
    const entries = new BigUint64Array(src.buffer, src.byteOffset, (from + n) * 2);
    const validity = validityOf(vector, size);
    const child = duckdb.list_vector_get_child(vector);
    const childSize = duckdb.list_vector_get_size(vector);
    // Consecutive lists usually sit back to back in the child vector: copy each run at once.
    let runStart = -1;
    let runEnd = -1;
    for (let i = from; i < from + n; i++) {
      const valid = validity === null || ((validity[i >>> 3]! >>> (i & 7)) & 1) === 1;
      if (valid) {
        const offset = Number(entries[2 * i]!);
        const len = Number(entries[2 * i + 1]!);
        if (offset !== runEnd) {
          if (runEnd > runStart) this.#child.appendRange(child, runStart, runEnd - runStart, childSize);
          runStart = offset;
          runEnd = offset;
        }
        runEnd += len;
        this.#childLength += len;
      }
      this.#offsets[++this.#length] = this.#childLength;
    }
    if (runEnd > runStart) this.#child.appendRange(child, runStart, runEnd - runStart, childSize);
    this.#validity.appendFrom(validity, from, n);
  }

  finish(): arrow.Data {
    const { bitmap, nullCount } = this.#validity.take(this.#length);
    const data = arrow.makeData({
      type: this.#type,
      length: this.#length,
      nullCount,
      nullBitmap: bitmap,
      valueOffsets: this.#reuse ? this.#offsets.subarray(0, this.#length + 1) : this.#offsets.slice(0, this.#length + 1),
      child: this.#child.finish(),
    });
    this.#length = 0;
    this.#childLength = 0;
    this.#offsets[0] = 0;
    return data;
  }
}
