// Arrow tables from the SDK as the plain numbers a TypeScript model works on.
import type * as arrow from "apache-arrow";

/** A column's values (null where missing); throws when the table has no such column. */
export function columnValues(table: arrow.Table, name: string): (number | null)[] {
  const column = table.getChild(name);
  if (!column) throw new Error(`the table has no column "${name}" (columns: ${table.schema.fields.map((f) => f.name).join(", ")})`);
  const out: (number | null)[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const v: unknown = column.get(i);
    out.push(v === null || v === undefined ? null : Number(v instanceof Date ? v.getTime() : v));
  }
  return out;
}

export function stringValues(table: arrow.Table, name: string): string[] {
  const column = table.getChild(name);
  if (!column) throw new Error(`the table has no column "${name}"`);
  return Array.from({ length: table.numRows }, (_, i) => String(column.get(i)));
}

/**
 * The rows of `names` as a matrix. Rows with a null are left out (training: the book drops them
 * with dropna) or get `fill` (inference: every row must be answered).
 */
export function featureMatrix(table: arrow.Table, names: readonly string[], nulls: { fill: number } | "drop"): { x: number[][]; kept: number[] } {
  const columns = names.map((n) => columnValues(table, n));
  const x: number[][] = [];
  const kept: number[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row = columns.map((c) => c[i] ?? null);
    if (row.some((v) => v === null)) {
      if (nulls === "drop") continue;
      x.push(row.map((v) => v ?? nulls.fill));
    } else {
      x.push(row as number[]);
    }
    kept.push(i);
  }
  return { x, kept };
}
