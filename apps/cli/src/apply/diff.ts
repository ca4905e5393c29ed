import { equals, toJson, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { typeName } from "@granary/client";
import { FeatureGroupSchema, FeatureViewSchema, type FeatureGroup, type FeatureView } from "@granary/proto/metadata";
import { ValueSchema, type Column, type Value } from "@granary/proto/types";

/** One field that differs between the server's copy and the file. */
export interface FieldChange {
  /** The proto field name (what UpdateFeatureGroup's mask takes). */
  readonly field: string;
  /** What differs, for people: `[cc_num] → [cc_num, ts]`, `type of amount: double → float`. */
  readonly detail: string;
}

export interface DefinitionDiff {
  /** Columns at the end of the file's list that the server lacks: added with AppendFeatures. */
  readonly appended: readonly Column[];
  /** Differences UpdateFeatureGroup / UpdateFeatureView may make. */
  readonly mutable: readonly FieldChange[];
  /** Differences only a new version can hold. */
  readonly immutable: readonly FieldChange[];
}

/** Assigned by the services; never part of a definition. */
const SERVER_FIELDS = new Set([
  "id",
  "create_time",
  "update_time",
  "etag",
  "output_columns",
  "serving_keys",
  "resolved",
  "created_by",
  "logging_feature_group",
]);
export const MUTABLE_GROUP_FIELDS: readonly string[] = [
  "description",
  "tags",
  "custom_metadata",
  "statistics_config",
  "validation_rules",
  "online_ttl",
  "embedding_indexes",
];
export const MUTABLE_VIEW_FIELDS: readonly string[] = ["description", "tags", "logging", "monitoring"];
/**
 * Operational settings of a view that the SDK changes too (fv.enableLogging, fv.setDriftThresholds):
 * a file that does not declare them leaves them as the server has them, instead of resetting them.
 */
const KEPT_WHEN_UNDECLARED: readonly string[] = ["logging", "monitoring"];

/** How a feature group version in the file differs from the server's. */
export function diffGroup(server: FeatureGroup, local: FeatureGroup): DefinitionDiff {
  const a = fieldsOf(FeatureGroupSchema, server);
  const b = fieldsOf(FeatureGroupSchema, local);
  const mutable: FieldChange[] = [];
  const immutable: FieldChange[] = [];
  let appended: Column[] = [];
  for (const field of union(a, b)) {
    const x = a.get(field);
    const y = b.get(field);
    if (canonical(x) === canonical(y)) continue;
    if (field === "columns") {
      const prefix = server.columns.length < local.columns.length && canonical(x) === canonical((y as unknown[]).slice(0, server.columns.length));
      if (prefix) appended = local.columns.slice(server.columns.length);
      else immutable.push({ field, detail: describeColumns(server.columns, local.columns) });
      continue;
    }
    (MUTABLE_GROUP_FIELDS.includes(field) ? mutable : immutable).push({ field, detail: describeChange(x, y) });
  }
  return { appended, mutable, immutable };
}

/** How a feature view version in the file differs from the server's (derived output columns and serving keys aside). */
export function diffView(server: FeatureView, local: FeatureView): DefinitionDiff {
  const a = fieldsOf(FeatureViewSchema, server);
  const b = fieldsOf(FeatureViewSchema, local);
  const mutable: FieldChange[] = [];
  const immutable: FieldChange[] = [];
  for (const field of union(a, b)) {
    const x = a.get(field);
    const y = b.get(field);
    if (canonical(x) === canonical(y)) continue;
    if (y === undefined && KEPT_WHEN_UNDECLARED.includes(field)) continue;
    (MUTABLE_VIEW_FIELDS.includes(field) ? mutable : immutable).push({ field, detail: describeChange(x, y) });
  }
  return { appended: [], mutable, immutable };
}

function fieldsOf<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Map<string, unknown> {
  const json = toJson(schema, message, { useProtoFieldName: true, alwaysEmitImplicit: true }) as Record<string, unknown>;
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(json)) if (!SERVER_FIELDS.has(k) && k !== "project" && k !== "name" && k !== "version") out.set(k, v);
  return out;
}

function union(a: Map<string, unknown>, b: Map<string, unknown>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])];
}

/** JSON with object keys sorted: maps compare equal whatever their insertion order. */
export function canonical(value: unknown): string {
  return (
    JSON.stringify(value, (_k, v: unknown) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
        : v,
    ) ?? "unset"
  );
}

/** Where two JSON values differ, down to the first few differing leaves: `filter.condition.operator: "…GE" → "…GT"`. */
export function describeChange(from: unknown, to: unknown): string {
  const leaves: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (leaves.length >= 3 || canonical(a) === canonical(b)) return;
    const objects = isObject(a) && isObject(b);
    const sameLengthArrays = Array.isArray(a) && Array.isArray(b) && a.length === b.length;
    if (objects) {
      for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) walk(a[k], b[k], path ? `${path}.${k}` : k);
    } else if (sameLengthArrays) {
      a.forEach((x, i) => walk(x, (b as unknown[])[i], `${path}[${i}]`));
    } else {
      leaves.push(`${path ? `${path}: ` : ""}${short(a)} → ${short(b)}`);
    }
  };
  walk(from, to, "");
  return leaves.join("; ");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function short(value: unknown): string {
  const text = render(value);
  return text.length > 70 ? `${text.slice(0, 67)}…` : text;
}

/** A JSON value as people read it: `[cc_num, ts]`, `{ histograms: true }`, `"text"`. */
function render(value: unknown): string {
  if (value === undefined || value === null) return "unset";
  if (Array.isArray(value)) return `[${value.map(render).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1));
    return `{ ${entries.map(([k, v]) => `${k}: ${render(v)}`).join(", ")} }`;
  }
  return JSON.stringify(value);
}

function describeColumns(server: readonly Column[], local: readonly Column[]): string {
  const parts: string[] = [];
  const before = new Map(server.map((c) => [c.name, c]));
  const after = new Map(local.map((c) => [c.name, c]));
  const removed = server.filter((c) => !after.has(c.name)).map((c) => c.name);
  const added = local.filter((c) => !before.has(c.name)).map((c) => c.name);
  if (removed.length > 0) parts.push(`removed ${removed.join(", ")}`);
  if (added.length > 0) parts.push(`added ${added.join(", ")}${removed.length === 0 ? " (columns can only be appended at the end)" : ""}`);
  for (const c of local) {
    const old = before.get(c.name);
    if (!old) continue;
    if (typeName(old.type) !== typeName(c.type) || old.type?.dimension !== c.type?.dimension)
      parts.push(`type of ${c.name}: ${typeName(old.type)} → ${typeName(c.type)}`);
    if (old.description !== c.description) parts.push(`description of ${c.name}`);
    if (!sameValue(old.defaultValue, c.defaultValue)) parts.push(`default of ${c.name}`);
  }
  const common = local.filter((c) => before.has(c.name)).map((c) => c.name);
  const serverOrder = server.filter((c) => after.has(c.name)).map((c) => c.name);
  if (parts.length === 0 && common.join() !== serverOrder.join()) parts.push("order of the columns");
  return parts.length > 0 ? parts.join("; ") : "columns";
}

function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  return a === undefined || b === undefined ? a === b : equals(ValueSchema, a, b);
}
