/** A categorical value as the services hold it: strings, and bool or integer columns. */
export type CategoryValue = string | number | bigint | boolean;

/**
 * Position of each training category. Categories are the training split's sorted distinct values
 * as strings; non-string values are compared through `String()` (true → "true", 42n → "42"), the
 * way DuckDB casts BOOLEAN and integers to VARCHAR. Lookup goes through a Map, so JavaScript's
 * string order never has to agree with DuckDB's.
 */
export class CategoryIndex {
  readonly categories: readonly string[];
  private readonly positions = new Map<string, number>();

  constructor(categories: readonly string[]) {
    this.categories = Object.freeze([...categories]);
    // A duplicate keeps its first position, so an index always points back at its category.
    this.categories.forEach((category, i) => {
      if (!this.positions.has(category)) this.positions.set(category, i);
    });
  }

  /** The category's position, or -1 for a value the training split never had, or for null. */
  indexOf(value: CategoryValue | null | undefined): number {
    if (value === null || value === undefined) return -1;
    return this.positions.get(typeof value === "string" ? value : String(value)) ?? -1;
  }
}
