import type * as arrow from "apache-arrow";

/** An Arrow table's rows as plain objects (nulls kept as null), column by column. */
export function tableRows(table: arrow.Table): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = Array.from({ length: table.numRows }, () => ({}));
  for (const field of table.schema.fields) {
    const column = table.getChild(field.name)!;
    for (let i = 0; i < table.numRows; i++) rows[i]![field.name] = column.get(i) ?? null;
  }
  return rows;
}
