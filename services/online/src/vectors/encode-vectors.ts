import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  EventTimeColumnSchema,
  FeatureColumnSchema,
  FeatureVectorsSchema,
  GetFeatureVectorsResponseSchema,
  GetModelFeatureVectorsResponseSchema,
  type FeatureVectors,
} from "@granary/proto/online";
import { ColumnDataSchema, ScalarType, type DataType } from "@granary/proto/types";
import { preEncoded } from "@granary/server";
import type { ResolvedModel } from "../upstream/model-resolver.js";
import { LITTLE_ENDIAN, type ColumnBuilder } from "./column-builder.js";

/** A lookup's result before it becomes a message: typed columns and event times. */
export interface LookupResult {
  readonly rowCount: number;
  readonly columns: readonly { readonly name: string; readonly builder: ColumnBuilder }[];
  readonly eventTimes: readonly { readonly name: string; readonly version: number; readonly micros: BigInt64Array }[];
  /** When `columns` are transformed: the same columns before the transformations (feature logging reads them). */
  readonly untransformed?: readonly { readonly name: string; readonly builder: ColumnBuilder }[] | undefined;
}

/**
 * A lookup's GetFeatureVectorsResponse: the grpc-js server sends the bytes written here once from
 * the typed columns; any other transport (connect's in-process router) reads its fields, decoded
 * from those bytes on first use (libs/server `preEncoded`).
 */
export function featureVectorsResponse(result: LookupResult): MessageInitShape<typeof GetFeatureVectorsResponseSchema> {
  let buffer: Buffer | undefined;
  const bytes = encodeVectorsResponse(result, undefined, (size) => (buffer = responseBuffers.take(size)));
  return preEncoded(GetFeatureVectorsResponseSchema, bytes, () => responseBuffers.give(buffer!));
}

/** A lookup's GetModelFeatureVectorsResponse, naming the model version it was made for; as featureVectorsResponse. */
export function modelFeatureVectorsResponse(result: LookupResult, model: ResolvedModel): MessageInitShape<typeof GetModelFeatureVectorsResponseSchema> {
  // GetModelFeatureVectorsResponse: 1 vectors, 2 model_version, 3 feature_view, 4 training_dataset_version.
  let buffer: Buffer | undefined;
  const tail = (w: BinaryWriter) => {
    w.tag(2, WireType.Varint).int32(model.version);
    w.tag(3, WireType.LengthDelimited)
      .fork()
      .tag(1, WireType.LengthDelimited)
      .string(model.featureView.name)
      .tag(2, WireType.Varint)
      .int32(model.featureView.version)
      .join();
    if (model.trainingDatasetVersion) w.tag(4, WireType.Varint).int32(model.trainingDatasetVersion);
  };
  const bytes = encodeVectorsResponse(result, tail, (size) => (buffer = responseBuffers.take(size)));
  return preEncoded(GetModelFeatureVectorsResponseSchema, bytes, () => responseBuffers.give(buffer!));
}

/**
 * Encodes GetFeatureVectorsResponse (and GetModelFeatureVectorsResponse, whose field 1 is the same
 * FeatureVectors) straight from the typed columns into one buffer of the exact size: the sizes of
 * every nested message are known from the columns, so nothing is written twice and the only
 * allocation is the response itself (protobuf-es would box 5,000 numbers for a batch of 100 × 50,
 * and its writer copies each nested message again). Packed doubles are the Float64Array's bytes,
 * statuses the Uint8Array itself. Fields after `vectors` (model version, …) are appended by `tail`.
 */
export function encodeVectorsResponse(result: LookupResult, tail?: (w: BinaryWriter) => void, allocate?: (size: number) => Buffer): Uint8Array {
  const plan = planVectors(result);
  const tailBytes = tail ? tailOf(tail) : undefined;
  const size = 1 + varintSize(plan.size) + plan.size + (tailBytes?.length ?? 0);
  const target = allocate ? allocate(size) : Buffer.allocUnsafe(size);
  const out = new Out(target.length === size ? target : target.subarray(0, size));
  out.tag(1, LEN);
  out.varint(plan.size);
  writeFeatureVectors(out, result, plan);
  if (tailBytes) out.bytes(tailBytes);
  if (out.pos !== size) throw new Error(`encoded ${out.pos} bytes of a response sized ${size}`);
  return out.buf;
}

/**
 * Buffers responses are encoded into, handed back once grpc-js has copied a response into its
 * frame (preEncoded's `sent`). A batch of 100 × 50 doubles is 42 KB: allocated per request, it is
 * off-heap memory that makes V8 collect the whole heap every few hundred requests.
 */
class BufferPool {
  readonly #free: Buffer[] = [];
  /** A buffer of at least `size` bytes (a free one, else a new one rounded up to a power of two). */
  take(size: number): Buffer {
    const buffer = this.#free.pop();
    if (buffer && buffer.length >= size) return buffer;
    return Buffer.allocUnsafeSlow(Math.max(4096, 2 ** Math.ceil(Math.log2(size))));
  }
  give(buffer: Buffer): void {
    // Only buffers of the usual sizes are kept: one huge response does not pin its memory.
    if (this.#free.length < 8 && buffer.length <= 1 << 20) this.#free.push(buffer);
  }
}

const responseBuffers = new BufferPool();

const LEN = WireType.LengthDelimited;
const VARINT = WireType.Varint;

/** The sizes of a FeatureVectors message's parts, computed before writing it. */
interface VectorsPlan {
  readonly size: number;
  /** Per column (COLUMN_SLOTS each): FeatureColumn size, its DataType size, its ColumnData size, the packed array message's size, the packed values' size. */
  readonly columns: Int32Array;
  /** Columns encoded by protobuf-es beforehand (strings, bytes, lists): their ColumnData bytes. */
  readonly encoded: (Uint8Array | undefined)[];
  /** Per event-time column: [EventTimeColumn size, its FeatureGroupRef size, the packed micros size]. */
  readonly eventTimes: Int32Array;
}

const COLUMN_SLOTS = 5;

function planVectors(result: LookupResult): VectorsPlan {
  let size = result.rowCount !== 0 ? 1 + varintSize(result.rowCount) : 0;
  const columns = new Int32Array(result.columns.length * COLUMN_SLOTS);
  const encoded: (Uint8Array | undefined)[] = [];
  result.columns.forEach(({ name, builder }, c) => {
    const typeSize = dataTypeSize(builder.type);
    let arraySize = 0;
    let dataSize: number;
    const packed = packedSize(builder);
    if (packed !== undefined) {
      arraySize = packed > 0 ? 1 + varintSize(packed) + packed : 0;
      dataSize = 1 + varintSize(arraySize) + arraySize;
    } else {
      const bytes = toBinary(ColumnDataSchema, builder.toColumnData());
      encoded[c] = bytes;
      dataSize = bytes.length;
    }
    const nameSize = Buffer.byteLength(name, "utf8");
    const statuses = builder.statuses.length;
    const columnSize =
      (nameSize > 0 ? 1 + varintSize(nameSize) + nameSize : 0) +
      (1 + varintSize(typeSize) + typeSize) +
      (1 + varintSize(dataSize) + dataSize) +
      (statuses > 0 ? 1 + varintSize(statuses) + statuses : 0);
    const at = c * COLUMN_SLOTS;
    columns[at] = columnSize;
    columns[at + 1] = typeSize;
    columns[at + 2] = dataSize;
    columns[at + 3] = arraySize;
    columns[at + 4] = packed ?? 0;
    size += 1 + varintSize(columnSize) + columnSize;
  });
  const eventTimes = new Int32Array(result.eventTimes.length * 3);
  result.eventTimes.forEach((t, i) => {
    const nameSize = Buffer.byteLength(t.name, "utf8");
    const refSize = (nameSize > 0 ? 1 + varintSize(nameSize) + nameSize : 0) + (t.version !== 0 ? 1 + varintSize(t.version) : 0);
    let micros = 0;
    const words = wordsOf(t.micros);
    for (let r = 0; r < t.micros.length; r++) micros += varint64Size(words[r * 2]!, words[r * 2 + 1]!);
    const columnSize = 1 + varintSize(refSize) + refSize + (1 + varintSize(micros) + micros);
    eventTimes[i * 3] = columnSize;
    eventTimes[i * 3 + 1] = refSize;
    eventTimes[i * 3 + 2] = micros;
    size += 1 + varintSize(columnSize) + columnSize;
  });
  return { size, columns, encoded, eventTimes };
}

function writeFeatureVectors(out: Out, result: LookupResult, plan: VectorsPlan): void {
  if (result.rowCount !== 0) {
    out.tag(1, VARINT);
    out.varint(result.rowCount);
  }
  result.columns.forEach(({ name, builder }, c) => {
    const at = c * COLUMN_SLOTS;
    out.tag(2, LEN);
    out.varint(plan.columns[at]!);
    out.string(1, name);
    out.tag(2, LEN);
    out.varint(plan.columns[at + 1]!);
    writeDataType(out, builder.type);
    out.tag(3, LEN);
    out.varint(plan.columns[at + 2]!);
    const encoded = plan.encoded[c];
    if (encoded) out.bytes(encoded);
    else writePacked(out, builder, plan.columns[at + 3]!, plan.columns[at + 4]!);
    if (builder.statuses.length > 0) {
      out.tag(4, LEN);
      out.varint(builder.statuses.length);
      out.bytes(builder.statuses);
    }
  });
  result.eventTimes.forEach((t, i) => {
    const at = i * 3;
    out.tag(3, LEN);
    out.varint(plan.eventTimes[at]!);
    out.tag(1, LEN);
    out.varint(plan.eventTimes[at + 1]!);
    out.string(1, t.name);
    if (t.version !== 0) {
      out.tag(2, VARINT);
      out.varint(t.version);
    }
    out.tag(2, LEN);
    out.varint(plan.eventTimes[at + 2]!);
    const words = wordsOf(t.micros);
    for (let r = 0; r < t.micros.length; r++) out.varint64(words[r * 2]!, words[r * 2 + 1]!);
  });
}

function dataTypeSize(type: DataType): number {
  return (type.scalar !== 0 ? 1 + varint32Size(type.scalar) : 0) + (type.list ? 2 : 0) + (type.dimension !== 0 ? 1 + varintSize(type.dimension) : 0);
}

function writeDataType(out: Out, type: DataType): void {
  if (type.scalar !== 0) {
    out.tag(1, VARINT);
    out.varint32(type.scalar);
  }
  if (type.list) {
    out.tag(2, VARINT);
    out.varint(1);
  }
  if (type.dimension !== 0) {
    out.tag(3, VARINT);
    out.varint(type.dimension);
  }
}

/** ColumnData's field for a typed column: bools 1, int32s 2, int64s 3, floats 4, doubles 5, timestamps 8, dates 9. */
function packedField(b: ColumnBuilder): number {
  if (b.f64) return 5;
  if (b.f32) return 4;
  if (b.i32) return b.type.scalar === ScalarType.DATE ? 9 : 2;
  if (b.i64) return b.type.scalar === ScalarType.TIMESTAMP ? 8 : 3;
  return 1;
}

/** The bytes of a typed column's packed values; undefined for columns protobuf-es encodes. */
function packedSize(b: ColumnBuilder): number | undefined {
  if (b.f64) return b.f64.byteLength;
  if (b.f32) return b.f32.byteLength;
  if (b.bool) return b.bool.byteLength;
  if (b.i32) {
    let n = 0;
    for (let r = 0; r < b.i32.length; r++) n += varint32Size(b.i32[r]!);
    return n;
  }
  if (b.i64) {
    const words = b.i64words ?? wordsOf(b.i64);
    let n = 0;
    for (let r = 0; r < b.i64.length; r++) n += varint64Size(words[r * 2]!, words[r * 2 + 1]!);
    return n;
  }
  return undefined;
}

/** ColumnData { <field>: XArray { 1: packed values } } of a typed column. */
function writePacked(out: Out, b: ColumnBuilder, arraySize: number, packed: number): void {
  out.tag(packedField(b), LEN);
  out.varint(arraySize);
  if (arraySize === 0) return;
  out.tag(1, LEN);
  out.varint(packed);
  if (b.f64) {
    if (LITTLE_ENDIAN) out.bytes(b.valueBytes!);
    else for (let r = 0; r < b.f64.length; r++) out.buf.writeDoubleLE(b.f64[r]!, out.advance(8));
  } else if (b.f32) {
    if (LITTLE_ENDIAN) out.bytes(b.valueBytes!);
    else for (let r = 0; r < b.f32.length; r++) out.buf.writeFloatLE(b.f32[r]!, out.advance(4));
  } else if (b.bool) out.bytes(b.bool);
  else if (b.i32) for (let r = 0; r < b.i32.length; r++) out.varint32(b.i32[r]!);
  else if (b.i64) {
    const words = b.i64words ?? wordsOf(b.i64);
    for (let r = 0; r < b.i64.length; r++) out.varint64(words[r * 2]!, words[r * 2 + 1]!);
  }
}

/** A BigInt64Array's values as [low, high] 32-bit words each (little-endian memory), read without BigInts. */
function wordsOf(values: BigInt64Array): Int32Array | BigWords {
  return LITTLE_ENDIAN ? new Int32Array(values.buffer, values.byteOffset, values.length * 2) : new BigWords(values);
}

/** wordsOf on a big-endian machine: the words computed from each BigInt. */
class BigWords {
  [index: number]: number;
  constructor(values: BigInt64Array) {
    values.forEach((v, r) => {
      this[r * 2] = Number(BigInt.asIntN(32, v));
      this[r * 2 + 1] = Number(BigInt.asIntN(32, v >> 32n));
    });
  }
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** An int32 (or enum) as protobuf writes it: negatives take 10 bytes (sign-extended to 64 bits). */
function varint32Size(v: number): number {
  return v < 0 ? 10 : varintSize(v);
}

function varint64Size(low: number, high: number): number {
  if (high === 0) return varintSize(low >>> 0);
  if (high < 0) return 10;
  // Bits beyond the low 32: 5 bytes carry 35 bits, then 7 per byte.
  const bits = 32 + (32 - Math.clz32(high));
  return Math.ceil(bits / 7);
}

/** A cursor over the response buffer. */
class Out {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  advance(n: number): number {
    const at = this.pos;
    this.pos += n;
    return at;
  }
  tag(field: number, wireType: WireType): void {
    this.varint((field << 3) | wireType);
  }
  varint(v: number): void {
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  varint32(v: number): void {
    if (v >= 0) this.varint(v);
    else this.varint64(v, -1);
  }
  /** A 64-bit varint from its two's complement 32-bit halves. */
  varint64(low: number, high: number): void {
    let lo = low >>> 0;
    let hi = high >>> 0;
    while (hi !== 0 || lo >= 0x80) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo;
  }
  string(field: number, value: string): void {
    const size = Buffer.byteLength(value, "utf8");
    if (size === 0) return;
    this.tag(field, LEN);
    this.varint(size);
    this.pos += this.buf.write(value, this.pos, "utf8");
  }
  bytes(value: Uint8Array): void {
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }
}

function tailOf(tail: (w: BinaryWriter) => void): Uint8Array {
  const w = new BinaryWriter();
  tail(w);
  return w.finish();
}

/** The same result as a protobuf-es message (tests, and callers that want objects). */
export function toFeatureVectors(result: LookupResult): FeatureVectors {
  return create(FeatureVectorsSchema, {
    rowCount: result.rowCount,
    columns: result.columns.map(({ name, builder }) =>
      create(FeatureColumnSchema, { name, type: builder.type, values: builder.toColumnData(), statuses: Array.from(builder.statuses) }),
    ),
    eventTimes: result.eventTimes.map((t) =>
      create(EventTimeColumnSchema, { featureGroup: { name: t.name, version: t.version }, micros: Array.from(t.micros) }),
    ),
  });
}
