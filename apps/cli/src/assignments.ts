import type { Row } from "@granary/client";
import type { DataType } from "@granary/proto/types";
import { UsageError } from "./cli-error.js";
import { suggest } from "./suggest.js";
import { parseValue, splitAssignment, ValueParseError } from "./value-parsing.js";

/**
 * `name=value` arguments as a row, each value parsed by the type of its name (a serving key, a
 * feature, a request parameter). `what` names them in errors: "serving key".
 */
export function parseAssignments(args: readonly string[], types: ReadonlyMap<string, DataType>, what: string): Row {
  const row: Row = {};
  for (const arg of args) {
    const kv = splitAssignment(arg);
    if (!kv) throw new UsageError(`"${arg}" is not ${what}=value`);
    const type = types.get(kv.key);
    if (!type) {
      const names = [...types.keys()];
      const hint = suggest(kv.key, names);
      throw new UsageError(
        `"${kv.key}" is not a ${what}${hint ? ` (did you mean "${hint}"?)` : ""}; ${names.length > 0 ? `${what}s: ${names.join(", ")}` : `there are no ${what}s`}`,
      );
    }
    if (kv.key in row) throw new UsageError(`${what} "${kv.key}" is given twice`);
    try {
      row[kv.key] = parseValue(type, kv.value);
    } catch (err) {
      if (err instanceof ValueParseError) throw new UsageError(`${what} ${kv.key}: ${err.message}`);
      throw err;
    }
  }
  return row;
}
