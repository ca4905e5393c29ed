// FeatureVectors (granary.online.v1) read straight from its bytes: packed numeric columns become
// typed arrays, so a batch of 100 × 50 doubles is 50 Float64Arrays instead of 5,000 boxed numbers
// inside protobuf-es messages. Field numbers are those of proto/granary/online/v1 and types/v1.
import { Code, ConnectError } from "@connectrpc/connect";
import { ValueStatus, type DataType, type FeatureGroupRef, type ScalarType } from "@granary/proto/types";
import { RepeatedScalars, Slab } from "./packed-arrays.js";
import { WireReader } from "./wire-reader.js";

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
    // Doubles and statuses take as many bytes decoded as on the wire: one chunk of twice that
    // usually holds the batch (the slab adds chunks when not).
    vectors = readVectors(new WireReader(bytes), new Slab(bytes.length * 2));
  } catch (err) {
    throw err instanceof ConnectError ? err : malformed("unreadable bytes", err);
  }
  for (const c of vectors.columns) checkColumn(c, vectors.rowCount);
  return vectors;
}

const VARINT = 0;

// Each reader below merges what it reads into a state, so that a message field sent more than once
// (which protobuf merges) reads as protobuf-es reads it: the last scalar wins, repeated fields append.

function readVectors(r: WireReader, slab: Slab): WireVectors {
  let rowCount = 0;
  const columns: WireColumn[] = [];
  const eventTimes: WireEventTimes[] = [];
  while (r.next()) {
    if (r.no === 1) {
      r.expect(VARINT, "FeatureVectors.row_count");
      rowCount = r.uint32();
    } else if (r.no === 2) columns.push(readColumn(r.message("FeatureVectors.columns"), slab));
    else if (r.no === 3) eventTimes.push(readEventTimes(r.message("FeatureVectors.event_times"), slab));
    else r.skip();
  }
  return { rowCount, columns, eventTimes };
}

function readColumn(r: WireReader, slab: Slab): WireColumn {
  let name = "";
  const type = { scalar: 0, list: false, dimension: 0 };
  let data: ColumnDataState | undefined;
  const statuses = new RepeatedScalars("enums");
  while (r.next()) {
    if (r.no === 1) name = r.string("FeatureColumn.name");
    else if (r.no === 2) readDataType(r.message("FeatureColumn.type"), type);
    else if (r.no === 3) readColumnData(r.message("FeatureColumn.values"), (data ??= new ColumnDataState(0)));
    else if (r.no === 4) statuses.add(r, "FeatureColumn.statuses");
    else r.skip();
  }
  return {
    name,
    type: { $typeName: "granary.types.v1.DataType", scalar: type.scalar as ScalarType, list: type.list, dimension: type.dimension },
    data: data?.finish(slab),
    statuses: statuses.enums(slab),
  };
}

function readDataType(r: WireReader, type: { scalar: number; list: boolean; dimension: number }): void {
  while (r.next()) {
    if (r.no >= 1 && r.no <= 3) r.expect(VARINT, "DataType field");
    if (r.no === 1) type.scalar = r.uint32() | 0;
    else if (r.no === 2) type.list = r.uint32() !== 0;
    else if (r.no === 3) type.dimension = r.uint32();
    else r.skip();
  }
}

function readEventTimes(r: WireReader, slab: Slab): WireEventTimes {
  let group: { name: string; version: number } | undefined;
  const micros = new RepeatedScalars("int64s");
  while (r.next()) {
    if (r.no === 1) group = readGroupRef(r.message("EventTimeColumn.feature_group"), group ?? { name: "", version: 0 });
    else if (r.no === 2) micros.add(r, "EventTimeColumn.micros");
    else r.skip();
  }
  return { featureGroup: group && { $typeName: "granary.types.v1.FeatureGroupRef", ...group }, micros: micros.int64s(slab) };
}

function readGroupRef(r: WireReader, ref: { name: string; version: number }) {
  while (r.next()) {
    if (r.no === 1) ref.name = r.string("FeatureGroupRef.name");
    else if (r.no === 2) {
      r.expect(VARINT, "FeatureGroupRef.version");
      ref.version = r.uint32() | 0;
    } else r.skip();
  }
  return ref;
}

const MAX_LIST_DEPTH = 16;
const PRESENT: number = ValueStatus.PRESENT;

/** A ColumnData being read: its oneof case (the last one sent wins) and what that case holds so far. */
class ColumnDataState {
  readonly depth: number;
  kind: ColumnKind | undefined;
  scalars: RepeatedScalars | undefined;
  objects: (string | Uint8Array)[] = [];
  offsets: RepeatedScalars | undefined;
  items: ColumnDataState | undefined;
  readonly nulls = new RepeatedScalars("uint32s");

  constructor(depth: number) {
    if (depth > MAX_LIST_DEPTH) throw malformed(`lists nested more than ${MAX_LIST_DEPTH} deep`);
    this.depth = depth;
  }

  /** Switches to a case; a different one than before starts empty. */
  become(kind: ColumnKind): void {
    if (kind === this.kind) return;
    this.kind = kind;
    this.objects = [];
    this.scalars = kind === "strings" || kind === "bytes" || kind === "lists" ? undefined : new RepeatedScalars(SCALARS[kind]);
    this.offsets = kind === "lists" ? new RepeatedScalars("uint32s") : undefined;
    this.items = undefined;
  }

  finish(slab: Slab): WireColumnData {
    const nullIndexes = this.nulls.uint32s(slab);
    const kind = this.kind;
    if (kind === undefined) return { kind, values: [], nullIndexes };
    if (kind === "lists") {
      return { kind, values: [], offsets: this.offsets!.uint32s(slab), items: (this.items ?? new ColumnDataState(this.depth + 1)).finish(slab), nullIndexes };
    }
    if (kind === "strings" || kind === "bytes") return { kind, values: this.objects, nullIndexes };
    const s = this.scalars!;
    const values =
      kind === "doubles"
        ? s.doubles(slab)
        : kind === "floats"
          ? s.floats(slab)
          : kind === "bools"
            ? s.bools(slab)
            : kind === "int64s" || kind === "timestamps"
              ? s.int64s(slab)
              : s.int32s(slab);
    return { kind, values, nullIndexes };
  }
}

const SCALARS = { bools: "bools", int32s: "int32s", int64s: "int64s", floats: "floats", doubles: "doubles", timestamps: "int64s", dates: "int32s" } as const;

function readColumnData(r: WireReader, state: ColumnDataState): void {
  while (r.next()) {
    if (r.no >= 1 && r.no <= 10) {
      const kind = COLUMN_KINDS[r.no - 1]!;
      const array = r.message(`ColumnData.${kind}`);
      state.become(kind);
      if (kind === "lists") readListArray(array, state);
      else readArray(array, state, kind);
    } else if (r.no === 11) state.nulls.add(r, "ColumnData.null_indexes");
    else r.skip();
  }
}

function readListArray(r: WireReader, state: ColumnDataState): void {
  while (r.next()) {
    if (r.no === 1) state.offsets!.add(r, "ListArray.offsets");
    else if (r.no === 2) readColumnData(r.message("ListArray.items"), (state.items ??= new ColumnDataState(state.depth + 1)));
    else r.skip();
  }
}

/** BoolArray, Int32Array, …: field 1 is the repeated value. */
function readArray(r: WireReader, state: ColumnDataState, kind: Exclude<ColumnKind, "lists">): void {
  while (r.next()) {
    if (r.no !== 1) r.skip();
    else if (kind === "strings") state.objects.push(r.string("StringArray.values"));
    else if (kind === "bytes") state.objects.push(r.bytes("BytesArray.values"));
    else state.scalars!.add(r, `${kind} values`);
  }
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
