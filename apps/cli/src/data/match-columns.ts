import { CliError } from "../cli-error.js";
import { suggest } from "../suggest.js";
import type { TypedColumn } from "./record-batch.js";

/** What a file must be matched against: a feature group version's schema (or a spine's). */
export interface GroupSchema {
  readonly name: string;
  readonly version: number;
  readonly columns: readonly { readonly name: string; readonly type?: TypedColumn["type"] }[];
  readonly primaryKey: readonly string[];
  readonly eventTime: string;
  /** What the file is read into, in messages (default: "feature group <name> v<version>"). */
  readonly label?: string;
  /** What the required columns are, in messages (default: "its primary key (…)"). */
  readonly keyLabel?: string;
}

/**
 * The group columns a file's columns are, in the file's order. Every file column must be a column
 * of the group; group columns the file lacks are left out (null, or their default), except the
 * primary key and event time, which every row needs.
 */
export function matchColumns(fileColumns: readonly string[], group: GroupSchema, file: string): TypedColumn[] {
  const byName = new Map(group.columns.map((c) => [c.name, c]));
  const seen = new Set<string>();
  const out: TypedColumn[] = [];
  const label = group.label ?? `feature group ${group.name} v${group.version}`;
  for (const name of fileColumns) {
    const column = byName.get(name);
    if (!column?.type) {
      const hint = suggest(name, [...byName.keys()]);
      throw new CliError(
        `${file}: column "${name}" is not in ${label}${hint ? ` (did you mean "${hint}"?)` : ""}; its columns are ${[...byName.keys()].join(", ")}`,
      );
    }
    if (seen.has(name)) throw new CliError(`${file}: column "${name}" appears twice`);
    seen.add(name);
    out.push({ name, type: column.type });
  }
  const required = [...group.primaryKey, ...(group.eventTime ? [group.eventTime] : [])];
  const missing = required.filter((name) => !seen.has(name));
  if (missing.length > 0) {
    throw new CliError(
      `${file} has no column ${missing.map((m) => `"${m}"`).join(", ")}: every row of ${label} needs ${group.keyLabel ?? "its primary key"} (${group.primaryKey.join(", ")})${group.eventTime ? ` and event time (${group.eventTime})` : ""}`,
    );
  }
  return out;
}
