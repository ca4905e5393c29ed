import * as arrow from "apache-arrow";
import type { PlainValue } from "@granary/cel";
import type { FittedTransformation, NumericColumn } from "@granary/transformations";
import type { DataType } from "@granary/proto/types";
import { arrowTypeOf, buildColumn, valueReader } from "@granary/arrow";
import type { BatchTransform } from "../duck/index.js";
import { evaluateRow, type OnDemandColumn } from "./on-demand.js";

export interface OutputLayout {
  /** Value columns of the input, in output order (query outputs, then stored on-demand values). */
  readonly values: readonly { readonly name: string; readonly type: DataType }[];
  /** On-demand features computed here from the values and request parameters. */
  readonly onDemand: readonly OnDemandColumn[];
  /** Input columns passed through after the values (event times, the split). */
  readonly trailing: readonly string[];
  /** Request parameter name → input column holding it (dropped from the output). */
  readonly parameters: ReadonlyMap<string, string>;
  /** Model-dependent transformations by output column; undefined: untransformed. */
  readonly transformations: ReadonlyMap<string, FittedTransformation> | undefined;
}

/**
 * Turns point-in-time rows into the view's output: on-demand features computed with the same CEL
 * code and null rules as the online service, model-dependent transformations applied with the
 * shared @granary/transformations code (scalers over typed arrays, no value objects), hidden
 * request-parameter columns dropped.
 */
export class TrainingOutput implements BatchTransform {
  readonly #layout: OutputLayout;
  #schema: arrow.Schema | undefined;

  constructor(layout: OutputLayout) {
    this.#layout = layout;
  }

  schema(input: arrow.Schema): arrow.Schema {
    const byName = new Map(input.fields.map((f) => [f.name, f]));
    const fields: arrow.Field[] = [];
    const valueField = (name: string, type: DataType) =>
      new arrow.Field(name, transformedType(this.#layout.transformations?.get(name), type) ?? arrowTypeOf(type), true);
    for (const v of this.#layout.values) fields.push(valueField(v.name, v.type));
    for (const odf of this.#layout.onDemand) fields.push(valueField(odf.name, odf.type));
    for (const name of this.#layout.trailing) fields.push(byName.get(name)!);
    this.#schema = new arrow.Schema(fields);
    return this.#schema;
  }

  apply(batch: arrow.RecordBatch): arrow.RecordBatch {
    const schema = this.#schema ?? this.schema(batch.schema);
    const n = batch.numRows;
    const children: arrow.Data[] = [];
    const dataOf = (name: string) => batch.getChild(name)!.data[0]!;
    for (const v of this.#layout.values) children.push(this.#transform(v.name, v.type, dataOf(v.name)));
    if (this.#layout.onDemand.length > 0) {
      const readers = new Map<string, (i: number) => PlainValue | null>();
      const reader = (name: string, type: DataType) => {
        let r = readers.get(name);
        if (!r) {
          const child = batch.getChild(name);
          r = child ? valueReader(child.data[0]!, type) : () => null;
          readers.set(name, r);
        }
        return r;
      };
      for (const odf of this.#layout.onDemand) {
        const out: (PlainValue | null)[] = new Array(n);
        for (let i = 0; i < n; i++) {
          out[i] = evaluateRow(
            odf,
            (name) => reader(name, odf.features.get(name)!)(i),
            (name) => reader(this.#layout.parameters.get(name) ?? "", odf.parameters.get(name)!)(i),
          );
        }
        children.push(this.#transform(odf.name, odf.type, buildColumn(odf.type, out)));
      }
    }
    for (const name of this.#layout.trailing) children.push(dataOf(name));
    const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children });
    return new arrow.RecordBatch(schema, data);
  }

  #transform(name: string, type: DataType, data: arrow.Data): arrow.Data {
    const fitted = this.#layout.transformations?.get(name);
    return fitted ? applyTransformation(fitted, type, data) : data;
  }
}

function transformedType(fitted: FittedTransformation | undefined, type: DataType): arrow.DataType | undefined {
  void type;
  switch (fitted?.outputKind) {
    case "double":
      return new arrow.Float64();
    case "int64":
      return new arrow.Int64();
    case "one_hot":
      return new arrow.List(new arrow.Field("item", new arrow.Float32(), true));
    default:
      return undefined;
  }
}

/** One column through a fitted transformation; null stays null. */
export function applyTransformation(fitted: FittedTransformation, type: DataType, data: arrow.Data): arrow.Data {
  const n = data.length;
  const nullBitmap = data.nullCount > 0 ? copyBits(data.nullBitmap!, data.offset, n) : new Uint8Array(0);
  const validity = nullBitmap.length > 0 ? { bitmap: nullBitmap } : undefined;
  switch (fitted.outputKind) {
    case "double": {
      const values = data.values as NumericColumn & { subarray(a: number, b: number): NumericColumn };
      const out = new Float64Array(n);
      fitted.applyColumn(values.subarray(0, n), validity, out);
      return arrow.makeData({ type: new arrow.Float64(), length: n, nullCount: data.nullCount, nullBitmap, data: out });
    }
    case "int64": {
      const read = valueReader(data, type);
      const input = Array.from({ length: n }, (_, i) => (read(i) ?? "") as string | number | bigint | boolean);
      const labels = new Int32Array(n);
      fitted.applyColumn(input, validity, labels);
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(labels[i]!);
      return arrow.makeData({ type: new arrow.Int64(), length: n, nullCount: data.nullCount, nullBitmap, data: out });
    }
    case "one_hot": {
      const read = valueReader(data, type);
      const input = Array.from({ length: n }, (_, i) => (read(i) ?? "") as string | number | bigint | boolean);
      const width = fitted.width;
      const values = new Float32Array(n * width);
      fitted.applyColumn(input, validity, values);
      const offsets = new Int32Array(n + 1);
      for (let i = 0; i <= n; i++) offsets[i] = i * width;
      const child = arrow.makeData({ type: new arrow.Float32(), length: n * width, nullCount: 0, data: values });
      return arrow.makeData({
        type: new arrow.List(new arrow.Field("item", new arrow.Float32(), true)),
        length: n,
        nullCount: data.nullCount,
        nullBitmap,
        valueOffsets: offsets,
        child,
      });
    }
  }
}

function copyBits(bits: Uint8Array, offset: number, n: number): Uint8Array {
  if (offset === 0) return bits.slice(0, Math.ceil(n / 8));
  const out = new Uint8Array(Math.ceil(n / 8));
  for (let i = 0; i < n; i++) if ((bits[(offset + i) >>> 3]! >>> ((offset + i) & 7)) & 1) out[i >>> 3]! |= 1 << (i & 7);
  return out;
}
