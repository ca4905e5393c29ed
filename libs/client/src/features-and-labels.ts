// Training data split into model inputs and labels, as hsfs's train_test_split returns X and y.
import type * as arrow from "apache-arrow";

/** `x`: every column but the labels (helper columns and event times, when asked for, stay in x); `y`: the labels, in the view's order. */
export function featuresAndLabels(table: arrow.Table, labels: readonly string[]): { x: arrow.Table; y: arrow.Table } {
  const names = table.schema.fields.map((f) => f.name);
  const missing = labels.filter((l) => !names.includes(l));
  // An empty table (a split with no rows) may come back without a schema; it splits into two empty tables.
  if (missing.length > 0 && names.length > 0) throw new TypeError(`label ${missing.map((m) => `"${m}"`).join(", ")} is not a column of the data`);
  const isLabel = new Set(labels);
  return { x: table.select(names.filter((n) => !isLabel.has(n))), y: table.select(labels.filter((l) => names.includes(l))) };
}
