import { parse as parseYaml } from "yaml";

export type FilterLiteral = string | number | boolean;

export type FilterOp = "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "in" | "is_null" | "is_not_null";

/** A feature-view filter as declared: conditions combined with and / or. */
export type FilterDecl =
  | { readonly kind: "condition"; readonly column: string; readonly op: FilterOp; readonly value?: FilterLiteral; readonly values?: readonly FilterLiteral[] }
  | { readonly kind: "and" | "or"; readonly filters: readonly FilterDecl[] };

const OPS: Record<string, FilterOp> = { "==": "eq", "=": "eq", "!=": "ne", "<>": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge" };
const CONDITION = /^\s*([a-z][a-z0-9_]*)\s*(==|=|!=|<>|<=|>=|<|>|\s(?:in|IN)\s)\s*(.+?)\s*$/;
const NULL_TEST = /^\s*([a-z][a-z0-9_]*)\s+is\s+(not\s+)?null\s*$/i;

/**
 * One condition in the text form of a filter: `amount > 100`, `category == 'food'`,
 * `category in [food, travel]`, `merchant_id is not null`. The literal is read as YAML (quoted or
 * plain strings, numbers, true/false, [a, b] lists); its type comes from the column when the
 * filter is built. Returns an error message for text that is not a condition.
 */
export function parseFilterCondition(text: string): FilterDecl | string {
  const nullTest = NULL_TEST.exec(text);
  if (nullTest) return { kind: "condition", column: nullTest[1]!, op: nullTest[2] ? "is_not_null" : "is_null" };
  const m = CONDITION.exec(text);
  const notCondition = `"${text}" is not a condition: write column op value, with op one of == != < <= > >= in, or column is [not] null`;
  if (!m) return notCondition;
  const [, column, rawOp, literalText] = m;
  let literal: unknown;
  try {
    literal = parseYaml(literalText!);
  } catch {
    return notCondition;
  }
  const op = rawOp!.trim().toLowerCase() === "in" ? "in" : OPS[rawOp!.trim()]!;
  if (op === "in") {
    const values = Array.isArray(literal) ? literal : [literal];
    if (values.length === 0) return `"${text}": in needs at least one value`;
    if (!values.every(isLiteral)) return `"${text}": in takes a list of plain values such as [a, b] or [1, 2]`;
    return { kind: "condition", column: column!, op, values: values as FilterLiteral[] };
  }
  if (literal === null) return `"${text}": compare with null as "${column} is null" or "${column} is not null"`;
  if (!isLiteral(literal)) return `"${text}": the value must be a string, a number or true/false`;
  return { kind: "condition", column: column!, op, value: literal };
}

function isLiteral(v: unknown): v is FilterLiteral {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}
