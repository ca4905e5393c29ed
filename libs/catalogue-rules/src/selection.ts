import { SelectionMode, type Selection } from "@granary/proto/metadata";
import type { Column } from "@granary/proto/types";
import { describeGroup } from "./describe.js";
import { fieldError, quote } from "./field-error.js";
import type { GroupColumns } from "./group-columns.js";

/**
 * The columns a query selects from its group: all of them in group order (mode ALL or unset), the
 * listed ones in listed order (INCLUDE), or all but the listed ones in group order (EXCEPT).
 */
export function selectColumns(group: GroupColumns, selection: Selection | undefined, field: string): Column[] {
  const mode = selection?.mode ?? SelectionMode.UNSPECIFIED;
  const listed = selection?.columns ?? [];
  switch (mode) {
    case SelectionMode.UNSPECIFIED:
    case SelectionMode.ALL:
      if (listed.length > 0) {
        throw fieldError(`${field}.columns`, "columns are listed but mode is ALL; use mode INCLUDE or EXCEPT");
      }
      return [...group.group.columns];
    case SelectionMode.INCLUDE:
      if (listed.length === 0) throw fieldError(`${field}.columns`, "mode INCLUDE needs at least one column");
      checkListed(group, listed, `${field}.columns`);
      return listed.map((name) => group.columns.get(name)).filter((c): c is Column => c !== undefined);
    case SelectionMode.EXCEPT: {
      checkListed(group, listed, `${field}.columns`);
      const excluded = new Set(listed);
      return group.group.columns.filter((c) => !excluded.has(c.name));
    }
    default:
      throw fieldError(`${field}.mode`, `unknown selection mode ${mode}`);
  }
}

function checkListed(group: GroupColumns, listed: readonly string[], field: string): void {
  const seen = new Set<string>();
  listed.forEach((name, i) => {
    if (!group.columns.has(name)) {
      throw fieldError(`${field}[${i}]`, `${quote(name)} is not a column of ${describeGroup(group.ref)}`);
    }
    if (seen.has(name)) throw fieldError(`${field}[${i}]`, `${quote(name)} is listed twice`);
    seen.add(name);
  });
}
