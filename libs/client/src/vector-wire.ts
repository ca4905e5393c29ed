// FeatureVectors (granary.online.v1) read straight from its bytes: packed numeric columns become
// typed arrays, so a batch of 100 × 50 doubles is 50 Float64Arrays instead of 5,000 boxed numbers
// inside protobuf-es messages. Field numbers are those of proto/granary/online/v1 and types/v1.
import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import { DataTypeSchema, FeatureGroupRefSchema, ValueStatus, type DataType, type FeatureGroupRef } from "@granary/proto/types";
import { concatBytes } from "./concat-bytes.js";

/** The value arrays of ColumnData's oneof, by case name (field numbers 1 to 10). */
export const COLUMN_KINDS = ["bools", "int32s", "int64s", "floats", "doubles", "strings", "bytes", "timestamps", "dates", "lists"] as const;
export type ColumnKind = (typeof COLUMN_KINDS)[number];

/** A ColumnData as read: typed arrays for numbers and bools (0/1), arrays for strings and bytes. */
export interface WireColumnData {
  /** The oneof case; undefined when the producer set none (every value reads as null). */
  readonly kind: ColumnKind | undefined;
  /**
   * For lists, empty: the values are in `items`, row i's at offsets[i] .. offsets[i + 1]. Plain
   * arrays, too, when the column comes from a protobuf-es message (vectorBatchOfMessage).
   */
  readonly values: Float64Array | Float32Array | Int32Array | BigInt64Array | Uint8Array | readonly unknown[];
  readonly offsets?: Uint32Array;
  readonly items?: WireColumnData;
  readonly nullIndexes: Uint32Array;
}

export interface WireColumn {
  readonly name: string;
  readonly type: DataType;
  readonly data: WireColumnData | undefined;
  /** ValueStatus per row; a status beyond 255 (unknown to this SDK) is stored as 0, which reads as NOT_FOUND. */
  readonly statuses: Uint8Array;
}

export interface WireEventTimes {
  readonly featureGroup: FeatureGroupRef | undefined;
  /** Microseconds since the epoch; 0 where the row was not found. */
  readonly micros: BigInt64Array;
}

export interface WireVectors {
  readonly rowCount: number;
  readonly columns: readonly WireColumn[];
  readonly eventTimes: readonly WireEventTimes[];
}

/** A malformed response: INTERNAL, as connect reports a response protobuf-es cannot parse. */
export function malformed(what: string, cause?: unknown): ConnectError {
  const detail = cause instanceof Error ? `: ${cause.message}` : "";
  return new ConnectError(`malformed FeatureVectors from the online service: ${what}${detail}`, Code.Internal, undefined, undefined, cause);
}

/** Decodes a FeatureVectors message; malformed bytes throw an INTERNAL ConnectError saying where. */
export function readFeatureVectors(bytes: Uint8Array): WireVectors {
  let vectors: WireVectors;
  try {
    vectors = readVectors(bytes);
  } catch (err) {
    // BinaryReader's own errors: premature EOF, an illegal tag, a string that is not UTF-8 (proto3
    // strings are checked, as protobuf-es does).
    throw err instanceof ConnectError ? err : malformed("unreadable bytes", err);
  }
  for (const c of vectors.columns) checkColumn(c, vectors.rowCount);
  return vectors;
}

function readVectors(bytes: Uint8Array): WireVectors {
  const r = new BinaryReader(bytes);
  let rowCount = 0;
  const columns: WireColumn[] = [];
  const eventTimes: WireEventTimes[] = [];
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) {
      checkWireType(wt, WireType.Varint, "FeatureVectors.row_count");
      rowCount = r.uint32();
    } else if (no === 2) columns.push(readColumn(lengthDelimited(r, wt, "FeatureVectors.columns")));
    else if (no === 3) eventTimes.push(readEventTimes(lengthDelimited(r, wt, "FeatureVectors.event_times")));
    else r.skip(wt, no);
  }
  return { rowCount, columns, eventTimes };
}

function readColumn(bytes: Uint8Array): WireColumn {
  const r = new BinaryReader(bytes);
  let name = "";
  const type = new Chunks();
  const values = new Chunks();
  const statuses = new Scalars("status", bytes);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) {
      checkWireType(wt, WireType.LengthDelimited, "FeatureColumn.name");
      name = r.string(true);
    } else if (no === 2) type.add(lengthDelimited(r, wt, "FeatureColumn.type"));
    else if (no === 3) values.add(lengthDelimited(r, wt, "FeatureColumn.values"));
    else if (no === 4) statuses.add(r, wt, `column "${name}" statuses`);
    else r.skip(wt, no);
  }
  return {
    name,
    type: fromBinary(DataTypeSchema, type.bytes()),
    data: values.empty ? undefined : readColumnData(values.bytes(), 0),
    statuses: statuses.decode() as Uint8Array,
  };
}

function readEventTimes(bytes: Uint8Array): WireEventTimes {
  const r = new BinaryReader(bytes);
  const group = new Chunks();
  const micros = new Scalars("int64s", bytes);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) group.add(lengthDelimited(r, wt, "EventTimeColumn.feature_group"));
    else if (no === 2) micros.add(r, wt, "EventTimeColumn.micros");
    else r.skip(wt, no);
  }
  return { featureGroup: group.empty ? undefined : fromBinary(FeatureGroupRefSchema, group.bytes()), micros: micros.decode() as BigInt64Array };
}

const MAX_LIST_DEPTH = 16;
const PRESENT: number = ValueStatus.PRESENT;

function readColumnData(bytes: Uint8Array, depth: number): WireColumnData {
  if (depth > MAX_LIST_DEPTH) throw malformed(`lists nested more than ${MAX_LIST_DEPTH} deep`);
  const r = new BinaryReader(bytes);
  // The last oneof case seen wins; repeats of the same case merge (protobuf's rule for messages).
  let kind: ColumnKind | undefined;
  let chunks = new Chunks();
  const nulls = new Scalars("uint32s", bytes);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no >= 1 && no <= 10) {
      const next = COLUMN_KINDS[no - 1]!;
      const payload = lengthDelimited(r, wt, `ColumnData.${next}`);
      if (next !== kind) ((kind = next), (chunks = new Chunks()));
      chunks.add(payload);
    } else if (no === 11) nulls.add(r, wt, "ColumnData.null_indexes");
    else r.skip(wt, no);
  }
  const nullIndexes = nulls.decode() as Uint32Array;
  if (kind === undefined) return { kind, values: [], nullIndexes };
  if (kind === "lists") return { kind, values: [], ...readListArray(chunks.bytes(), depth), nullIndexes };
  return { kind, values: readArray(chunks.bytes(), kind), nullIndexes };
}

function readListArray(bytes: Uint8Array, depth: number): { offsets: Uint32Array; items: WireColumnData } {
  const r = new BinaryReader(bytes);
  const offsets = new Scalars("uint32s", bytes);
  const items = new Chunks();
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) offsets.add(r, wt, "ListArray.offsets");
    else if (no === 2) items.add(lengthDelimited(r, wt, "ListArray.items"));
    else r.skip(wt, no);
  }
  return { offsets: offsets.decode() as Uint32Array, items: readColumnData(items.bytes(), depth + 1) };
}

/** BoolArray, Int32Array, …: field 1 is the repeated value. */
function readArray(bytes: Uint8Array, kind: Exclude<ColumnKind, "lists">): WireColumnData["values"] {
  const r = new BinaryReader(bytes);
  if (kind === "strings" || kind === "bytes") {
    const out: (string | Uint8Array)[] = [];
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (no !== 1) r.skip(wt, no);
      else if (kind === "bytes") out.push(lengthDelimited(r, wt, "BytesArray.values"));
      else {
        checkWireType(wt, WireType.LengthDelimited, "StringArray.values");
        out.push(r.string(true));
      }
    }
    return out as string[] | Uint8Array[];
  }
  const values = new Scalars(kind, bytes);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) values.add(r, wt, `${kind} values`);
    else r.skip(wt, no);
  }
  return values.decode() as WireColumnData["values"];
}

/**
 * Every column has a status per row, and a row whose status is PRESENT has a value: anything else
 * would read as a wrong value (or a null that is not one), so it is an error instead.
 */
function checkColumn(c: WireColumn, rowCount: number): void {
  if (c.statuses.length !== rowCount) throw malformed(`column "${c.name}" has ${c.statuses.length} statuses for ${rowCount} rows`);
  let last = rowCount - 1;
  while (last >= 0 && c.statuses[last] !== PRESENT) last--;
  if (last >= 0 && c.data) checkData(c.data, last + 1, `column "${c.name}"`);
}

function checkData(data: WireColumnData, rows: number, where: string): void {
  if (data.kind === undefined) return;
  if (data.kind !== "lists") {
    if (data.values.length < rows) throw malformed(`${where} has ${data.values.length} values for ${rows} rows`);
    return;
  }
  const offsets = data.offsets!;
  if (offsets.length < rows + 1) throw malformed(`${where} has ${offsets.length} list offsets for ${rows} rows`);
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i]! < offsets[i - 1]!) throw malformed(`${where}: list offsets decrease at ${i}`);
  }
  checkData(data.items!, offsets[offsets.length - 1]!, `${where} (list items)`);
}

function checkWireType(wt: WireType, wanted: WireType, field: string): void {
  if (wt !== wanted) throw malformed(`${field} has wire type ${wt}, expected ${wanted}`);
}

function lengthDelimited(r: BinaryReader, wt: WireType, field: string): Uint8Array {
  checkWireType(wt, WireType.LengthDelimited, field);
  return r.bytes();
}

/** The occurrences of one message field: their concatenation is the merged message (protobuf's rule). */
class Chunks {
  #parts: Uint8Array[] = [];
  get empty(): boolean {
    return this.#parts.length === 0;
  }
  add(part: Uint8Array): void {
    this.#parts.push(part);
  }
  bytes(): Uint8Array {
    return concatBytes(this.#parts);
  }
}

type ScalarKind = "bools" | "int32s" | "int64s" | "floats" | "doubles" | "timestamps" | "dates" | "uint32s" | "status";

const FIXED_WIDTH: Partial<Record<ScalarKind, number>> = { doubles: 8, floats: 4 };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The occurrences of one repeated scalar field, packed (a run of values) or not (one value per
 * tag), in order: counted first, then decoded into one typed array.
 */
class Scalars {
  readonly #kind: ScalarKind;
  readonly #width: number | undefined;
  /** Packed runs and single values, as byte ranges of the message. */
  #runs: Uint8Array[] = [];
  #count = 0;

  /** The message the field is in (the reader's buffer). */
  readonly #message: Uint8Array;

  constructor(kind: ScalarKind, message: Uint8Array) {
    this.#kind = kind;
    this.#message = message;
    this.#width = FIXED_WIDTH[kind];
  }

  add(r: BinaryReader, wt: WireType, field: string): void {
    if (wt === WireType.LengthDelimited) {
      const run = r.bytes();
      this.#count += this.#width ? countFixed(run, this.#width, field) : countVarints(run, field);
      this.#runs.push(run);
      return;
    }
    const wanted = this.#width === 8 ? WireType.Bit64 : this.#width === 4 ? WireType.Bit32 : WireType.Varint;
    checkWireType(wt, wanted, field);
    const start = r.pos;
    r.skip(wt);
    this.#runs.push(this.#message.subarray(start, r.pos));
    this.#count++;
  }

  decode(): Float64Array | Float32Array | Int32Array | BigInt64Array | Uint8Array | Uint32Array {
    const n = this.#count;
    switch (this.#kind) {
      case "doubles":
        return this.#fixed(new Float64Array(n), (v, at) => v.getFloat64(at, true));
      case "floats":
        return this.#fixed(new Float32Array(n), (v, at) => v.getFloat32(at, true));
      case "int32s":
      case "dates":
        return this.#varints(new Int32Array(n), (out, i, lo) => (out[i] = lo));
      case "uint32s":
        return this.#varints(new Uint32Array(n), (out, i, lo) => (out[i] = lo));
      case "bools":
        return this.#varints(new Uint8Array(n), (out, i, lo, hi) => (out[i] = lo !== 0 || hi !== 0 ? 1 : 0));
      case "status":
        return this.#varints(new Uint8Array(n), (out, i, lo, hi) => (out[i] = hi === 0 && lo >>> 0 <= 255 ? lo : 0));
      case "int64s":
      case "timestamps":
        return this.#int64s(new BigInt64Array(n));
    }
  }

  /** Packed doubles and floats are little-endian IEEE 754: copied byte for byte into fresh (aligned) memory. */
  #fixed<A extends Float64Array | Float32Array>(out: A, get: (v: DataView, at: number) => number): A {
    const width = out.BYTES_PER_ELEMENT;
    let i = 0;
    for (const run of this.#runs) {
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer, i * width, run.length).set(run);
      else {
        const view = new DataView(run.buffer, run.byteOffset, run.byteLength);
        for (let at = 0; at < run.length; at += width) out[i + at / width] = get(view, at);
      }
      i += run.length / width;
    }
    return out;
  }

  #varints<A extends Int32Array | Uint32Array | Uint8Array>(out: A, set: (out: A, i: number, lo: number, hi: number) => void): A {
    let i = 0;
    for (const run of this.#runs) {
      let at = 0;
      // One byte per value (statuses, bools, small ints): no varint arithmetic.
      while (at < run.length) {
        const b = run[at]!;
        if (b < 0x80) {
          set(out, i++, b, 0);
          at++;
        } else {
          at = varint64(run, at);
          set(out, i++, lo, hi);
        }
      }
    }
    return out;
  }

  /** int64 is a plain varint (two's complement, no zigzag): written as two 32-bit halves, no BigInt per value. */
  #int64s(out: BigInt64Array): BigInt64Array {
    const halves = new Int32Array(out.buffer);
    let i = 0;
    for (const run of this.#runs) {
      for (let at = 0; at < run.length; i++) {
        at = varint64(run, at);
        if (LITTLE_ENDIAN) ((halves[2 * i] = lo), (halves[2 * i + 1] = hi));
        else out[i] = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
      }
    }
    return out;
  }
}

function countFixed(run: Uint8Array, width: number, field: string): number {
  if (run.length % width !== 0) throw malformed(`${field}: a packed run of ${run.length} bytes is not a whole number of ${width}-byte values`);
  return run.length / width;
}

/** Varints in a packed run: bytes without the continuation bit; the run must end on one. */
function countVarints(run: Uint8Array, field: string): number {
  let n = 0;
  for (let i = 0; i < run.length; i++) if (run[i]! < 0x80) n++;
  if (run.length > 0 && run[run.length - 1]! >= 0x80) throw malformed(`${field}: a packed run ends inside a varint`);
  return n;
}

// The halves of the last varint64 read (module scratch: no allocation per value).
let lo = 0;
let hi = 0;

/** Reads a varint of at most 10 bytes at `at` into lo/hi; returns the position after it. */
function varint64(buf: Uint8Array, at: number): number {
  let l = 0;
  let h = 0;
  let shift = 0;
  for (let k = 0; k < 10; k++) {
    if (at >= buf.length) throw malformed("a varint runs past the end of its field");
    const b = buf[at++]!;
    if (shift < 28) l |= (b & 0x7f) << shift;
    else if (shift === 28) {
      l |= (b & 0x0f) << 28;
      h = (b & 0x7f) >> 4;
    } else h |= (b & 0x7f) << (shift - 32);
    shift += 7;
    if (b < 0x80) {
      lo = l | 0;
      hi = h | 0;
      return at;
    }
  }
  throw malformed("a varint longer than 10 bytes");
}
