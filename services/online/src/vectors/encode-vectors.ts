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
import type { ColumnBuilder } from "./column-builder.js";

/** A lookup's result before it becomes a message: typed columns and event times. */
export interface LookupResult {
  readonly rowCount: number;
  readonly columns: readonly { readonly name: string; readonly builder: ColumnBuilder }[];
  readonly eventTimes: readonly { readonly name: string; readonly version: number; readonly micros: BigInt64Array }[];
}

// Packed doubles and floats are little-endian IEEE 754 on the wire; so is typed-array memory on
// every platform Node runs on in practice. Checked once, with a per-value fallback just in case.
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/**
 * A lookup's GetFeatureVectorsResponse: the grpc-js server sends the bytes written here once from
 * the typed columns; any other transport (connect's in-process router) reads its fields, decoded
 * from those bytes on first use (libs/server `preEncoded`).
 */
export function featureVectorsResponse(result: LookupResult): MessageInitShape<typeof GetFeatureVectorsResponseSchema> {
  return preEncoded(GetFeatureVectorsResponseSchema, encodeVectorsResponse(result));
}

/** A lookup's GetModelFeatureVectorsResponse, naming the model version it was made for; as featureVectorsResponse. */
export function modelFeatureVectorsResponse(result: LookupResult, model: ResolvedModel): MessageInitShape<typeof GetModelFeatureVectorsResponseSchema> {
  // GetModelFeatureVectorsResponse: 1 vectors, 2 model_version, 3 feature_view, 4 training_dataset_version.
  const bytes = encodeVectorsResponse(result, (w) => {
    w.tag(2, WireType.Varint).int32(model.version);
    w.tag(3, WireType.LengthDelimited)
      .fork()
      .tag(1, WireType.LengthDelimited)
      .string(model.featureView.name)
      .tag(2, WireType.Varint)
      .int32(model.featureView.version)
      .join();
    if (model.trainingDatasetVersion) w.tag(4, WireType.Varint).int32(model.trainingDatasetVersion);
  });
  return preEncoded(GetModelFeatureVectorsResponseSchema, bytes);
}

/**
 * Encodes GetFeatureVectorsResponse (and GetModelFeatureVectorsResponse, whose field 1 is the same
 * FeatureVectors) straight from the typed columns: packed doubles are the Float64Array's bytes,
 * statuses the Uint8Array itself. Protobuf-es would box 5,000 numbers for a batch of 100 × 50.
 * Fields after `vectors` (model version, …) are appended by the caller's `tail`.
 */
export function encodeVectorsResponse(result: LookupResult, tail?: (w: BinaryWriter) => void): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).fork();
  writeFeatureVectors(w, result);
  w.join();
  tail?.(w);
  return w.finish();
}

function writeFeatureVectors(w: BinaryWriter, result: LookupResult): void {
  if (result.rowCount !== 0) w.tag(1, WireType.Varint).uint32(result.rowCount);
  for (const { name, builder } of result.columns) {
    w.tag(2, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(name);
    writeDataType(w, builder.type);
    w.tag(3, WireType.LengthDelimited).fork();
    writeColumnData(w, builder);
    w.join();
    if (builder.statuses.length > 0) w.tag(4, WireType.LengthDelimited).bytes(builder.statuses);
    w.join();
  }
  for (const t of result.eventTimes) {
    w.tag(3, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(t.name);
    if (t.version !== 0) w.tag(2, WireType.Varint).int32(t.version);
    w.join();
    w.tag(2, WireType.LengthDelimited).fork();
    for (const m of t.micros) w.int64(m);
    w.join();
    w.join();
  }
}

function writeDataType(w: BinaryWriter, type: DataType): void {
  w.tag(2, WireType.LengthDelimited).fork();
  if (type.scalar !== 0) w.tag(1, WireType.Varint).int32(type.scalar);
  if (type.list) w.tag(2, WireType.Varint).bool(true);
  if (type.dimension !== 0) w.tag(3, WireType.Varint).uint32(type.dimension);
  w.join();
}

/** ColumnData's fields: bools 1, int32s 2, int64s 3, floats 4, doubles 5, …, timestamps 8, dates 9. */
function writeColumnData(w: BinaryWriter, b: ColumnBuilder): void {
  const packed = (field: number, write: () => void) => {
    w.tag(field, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).fork();
    write();
    w.join();
    w.join();
  };
  if (b.f64) {
    if (LITTLE_ENDIAN) packedRaw(w, 5, new Uint8Array(b.f64.buffer, b.f64.byteOffset, b.f64.byteLength));
    else packed(5, () => b.f64!.forEach((v) => w.double(v)));
  } else if (b.f32) {
    if (LITTLE_ENDIAN) packedRaw(w, 4, new Uint8Array(b.f32.buffer, b.f32.byteOffset, b.f32.byteLength));
    else packed(4, () => b.f32!.forEach((v) => w.float(v)));
  } else if (b.i32) {
    packed(b.type.scalar === ScalarType.DATE ? 9 : 2, () => b.i32!.forEach((v) => w.int32(v)));
  } else if (b.i64) {
    packed(b.type.scalar === ScalarType.TIMESTAMP ? 8 : 3, () => b.i64!.forEach((v) => w.int64(v)));
  } else if (b.bool) {
    packedRaw(w, 1, b.bool);
  } else {
    // Strings, bytes and lists: rare on the hot path; let protobuf-es encode them.
    const bytes = toBinary(ColumnDataSchema, b.toColumnData());
    w.raw(bytes);
  }
}

/** A packed repeated field (field 1 of the array message `field`) whose bytes are `raw`. */
function packedRaw(w: BinaryWriter, field: number, raw: Uint8Array): void {
  w.tag(field, WireType.LengthDelimited).fork();
  if (raw.byteLength > 0) w.tag(1, WireType.LengthDelimited).bytes(raw);
  w.join();
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
