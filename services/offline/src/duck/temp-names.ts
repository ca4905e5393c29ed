let counter = 0;

/** A unique name for a temporary DuckDB table. */
export function tempName(prefix: string): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}_${process.pid}_${counter}`;
}
