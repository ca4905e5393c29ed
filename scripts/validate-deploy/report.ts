// One named check and what it found. A check passes when it found no problems; each problem says
// what is wrong and, where it helps, what to change.

export interface Check {
  /** "helm", "kubernetes", "compose", "dockerfile". */
  readonly section: string;
  readonly name: string;
  readonly problems: readonly string[];
}

export function check(section: string, name: string, problems: readonly string[]): Check {
  return { section, name, problems };
}

export function passed(checks: readonly Check[]): boolean {
  return checks.every((c) => c.problems.length === 0);
}

/** Problems of every failed check, each prefixed by the check's section and name. */
export function problemsOf(checks: readonly Check[]): string[] {
  return checks.flatMap((c) => c.problems.map((p) => `${c.section}: ${c.name}: ${p}`));
}

export function formatCheck(c: Check): string {
  if (c.problems.length === 0) return `  ok    ${c.name}`;
  return [`  FAIL  ${c.name}`, ...c.problems.map((p) => `        - ${p}`)].join("\n");
}

/** A plain object (a YAML mapping), or undefined. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Reads a nested property: get(obj, "spec", "template", "spec"). */
export function get(value: unknown, ...path: (string | number)[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (typeof key === "number") {
      if (!Array.isArray(current)) return undefined;
      current = current[key];
    } else {
      const record = asRecord(current);
      if (!record) return undefined;
      current = record[key];
    }
  }
  return current;
}

/** Helm's merge of values: maps merge recursively, everything else (lists too) replaces. */
export function mergeValues(base: unknown, override: unknown): unknown {
  const b = asRecord(base);
  const o = asRecord(override);
  if (!b || !o) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...b };
  for (const [key, value] of Object.entries(o)) {
    out[key] = value === null ? undefined : mergeValues(b[key], value);
  }
  return out;
}
