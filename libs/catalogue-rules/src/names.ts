import { fieldError, quote } from "./field-error.js";

/** Names of projects, groups, views, columns and parameters: safe as SQL, Parquet and file names. */
export const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

/** Throws INVALID_ARGUMENT at `field` unless `value` is an identifier; `what` names it ("column name"). */
export function checkIdentifier(value: string, field: string, what: string): void {
  if (IDENTIFIER.test(value)) return;
  throw fieldError(field, `${what} ${quote(value)} must be an identifier: a lower-case letter, then at most 62 lower-case letters, digits or underscores`);
}
