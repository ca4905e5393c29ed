// A feature group's columns read off an Arrow table, as hsfs infers a schema from a DataFrame: the
// types are the ones the services accept for that Arrow input without conversion (schema-check.ts
// in @granary/arrow), so a group declared from a table takes that table's inserts.
import * as arrow from "apache-arrow";
import type { ColumnSpec, TypeName } from "./column-types.js";

export interface ColumnsFromOptions {
  /** Checked to be in the table and of a type a key can have (no lists, no floats). */
  readonly primaryKey?: readonly string[];
  /** Checked to be a timestamp or date column. */
  readonly eventTime?: string;
  /** Types that win over the inferred ones (also what a column of Arrow's Null type needs). */
  readonly types?: Readonly<Record<string, TypeName>>;
  readonly descriptions?: Readonly<Record<string, string>>;
  /** Columns of the table that are not columns of the group. */
  readonly exclude?: readonly string[];
}

/**
 * The column specs of a feature group whose rows are this table's (or schema's), in the table's
 * order. Refuses, naming every such column, types Granary cannot store (structs, maps, decimals,
 * unsigned 64-bit integers, nested lists…); dictionary-encoded columns take their values' type.
 *
 *     fs.getOrCreateFeatureGroup({ name: "trans", primaryKey: ["tid"], eventTime: "ts",
 *       columns: columnsFrom(table, { primaryKey: ["tid"], eventTime: "ts" }) });
 */
export function columnsFrom(table: arrow.Table | arrow.Schema, options: ColumnsFromOptions = {}): ColumnSpec[] {
  const schema = table instanceof arrow.Table ? table.schema : table;
  const exclude = new Set(options.exclude ?? []);
  const problems: string[] = [];
  const columns: ColumnSpec[] = [];
  let unsupported = false;
  for (const field of schema.fields) {
    if (exclude.has(field.name)) continue;
    const type = options.types?.[field.name] ?? typeNameOf(field.type);
    if (type === undefined) {
      problems.push(
        arrow.DataType.isNull(field.type)
          ? `column "${field.name}" has no type (every value is null): give it in options.types`
          : `column "${field.name}" is ${String(field.type)}, which Granary cannot store`,
      );
      unsupported = true;
      continue;
    }
    const description = options.descriptions?.[field.name];
    columns.push(description === undefined ? { name: field.name, type } : { name: field.name, type, description });
  }
  const typeOf = new Map(columns.map((c) => [c.name, c.type as string]));
  for (const key of options.primaryKey ?? []) {
    const type = typeOf.get(key);
    if (type === undefined) problems.push(`primary key "${key}" is not a column of the table`);
    else if (/^(list|array|embedding)<|^(float|float32|double|float64)$/.test(type))
      problems.push(`primary key "${key}" is ${type}: a key is a string, an integer, a bool, bytes, a timestamp or a date`);
  }
  if (options.eventTime !== undefined) {
    const type = typeOf.get(options.eventTime);
    if (type === undefined) problems.push(`event time "${options.eventTime}" is not a column of the table`);
    else if (type !== "timestamp" && type !== "date") problems.push(`event time "${options.eventTime}" is ${type}: it must be a timestamp or a date`);
  }
  for (const name of [...Object.keys(options.types ?? {}), ...Object.keys(options.descriptions ?? {}), ...exclude]) {
    if (!schema.fields.some((f) => f.name === name)) problems.push(`"${name}" is named in options but is not a column of the table`);
  }
  if (unsupported) problems.push(`Granary stores ${STORED}: convert such columns, or leave them out with options.exclude`);
  if (problems.length > 0) throw new TypeError(`columnsFrom: ${problems.join("; ")}`);
  return columns;
}

const STORED =
  "bool, integers (unsigned up to 32 bits), floats, strings, binaries, timestamps, dates, lists of those and fixed-size lists of float32 (embeddings)";

/** The Granary type an Arrow type is stored as; undefined when there is none. */
export function typeNameOf(type: arrow.DataType): TypeName | undefined {
  if (arrow.DataType.isDictionary(type)) return typeNameOf(type.dictionary);
  if (arrow.DataType.isFixedSizeList(type)) {
    const item = type.children[0]!.type;
    // A fixed-size list of float32 is what embedding libraries hand over: an embedding of that dimension.
    if (arrow.DataType.isFloat(item) && item.precision === arrow.Precision.SINGLE) return `embedding<${type.listSize}>`;
    const scalar = scalarNameOf(item);
    return scalar === undefined ? undefined : `list<${scalar}>`;
  }
  if (arrow.DataType.isList(type) || type instanceof arrow.LargeList) {
    const scalar = scalarNameOf((type as arrow.List).children[0]!.type);
    return scalar === undefined ? undefined : `list<${scalar}>`;
  }
  return scalarNameOf(type);
}

function scalarNameOf(type: arrow.DataType): string | undefined {
  if (arrow.DataType.isBool(type)) return "bool";
  if (arrow.DataType.isInt(type)) {
    if (type.isSigned) return type.bitWidth <= 32 ? "int32" : "int64";
    // Unsigned integers widen into int64 up to 32 bits; a uint64 may not fit.
    return type.bitWidth <= 32 ? "int64" : undefined;
  }
  if (arrow.DataType.isFloat(type)) return type.precision === arrow.Precision.DOUBLE ? "double" : "float";
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type) || type instanceof arrow.Utf8View) return "string";
  if (arrow.DataType.isBinary(type) || arrow.DataType.isLargeBinary(type) || type instanceof arrow.BinaryView) return "bytes";
  if (arrow.DataType.isTimestamp(type)) return "timestamp";
  if (arrow.DataType.isDate(type)) return "date";
  return undefined;
}
