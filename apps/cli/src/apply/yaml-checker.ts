import { suggest } from "../suggest.js";

/** A step into a YAML document: a mapping key or a sequence index. */
export type PathSegment = string | number;

/** One thing wrong with a file, at a path such as feature_groups[1].columns[2].type. */
export interface Problem {
  readonly path: readonly PathSegment[];
  readonly message: string;
}

/** `feature_groups[1].columns[2].type`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) out += typeof segment === "number" ? `[${segment}]` : out === "" ? segment : `.${segment}`;
  return out;
}

const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * A value of a parsed YAML document with the path it was found at. Every read checks the shape,
 * reports a problem naming the path when it is wrong, and returns undefined, so that one pass finds
 * every mistake in a file rather than the first.
 */
export class At {
  readonly problems: Problem[];
  readonly path: readonly PathSegment[];
  readonly value: unknown;

  constructor(problems: Problem[], path: readonly PathSegment[], value: unknown) {
    this.problems = problems;
    this.path = path;
    this.value = value;
  }

  static root(value: unknown): At {
    return new At([], [], value);
  }

  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  at(segment: PathSegment, value: unknown): At {
    return new At(this.problems, [...this.path, segment], value);
  }

  fail(message: string): undefined {
    this.problems.push({ path: this.path, message });
    return undefined;
  }

  /** A mapping whose keys are all in `fields`; an unknown key is a problem (with a suggestion). */
  object(fields: readonly string[], what = "a mapping"): Record<string, At> | undefined {
    const v = this.value;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return this.fail(`must be ${what}, got ${describe(v)}`);
    const out: Record<string, At> = {};
    for (const key of fields) out[key] = this.at(key, (v as Record<string, unknown>)[key]);
    for (const key of Object.keys(v)) {
      if (fields.includes(key)) continue;
      const hint = suggest(key, fields);
      this.at(key, undefined).fail(`unknown field${hint ? ` (did you mean "${hint}"?)` : `; expected ${fields.join(", ")}`}`);
    }
    return out;
  }

  /** The entries of a mapping with free keys. */
  entries(): [string, At][] | undefined {
    const v = this.value;
    if (v === undefined || v === null) return [];
    if (typeof v !== "object" || Array.isArray(v)) return this.fail(`must be a mapping, got ${describe(v)}`);
    return Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, this.at(k, x)]);
  }

  string(options: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const v = this.value;
    if (v === undefined || v === null) return options.required ? this.fail("is required") : undefined;
    if (typeof v !== "string") return this.fail(`must be a string, got ${describe(v)}`);
    if (options.nonEmpty && v.trim() === "") return this.fail("must not be empty");
    return v;
  }

  /** A name of a project, group, view or column: what the services accept. */
  identifier(what: string, options: { required?: boolean } = { required: true }): string | undefined {
    const v = this.string(options);
    if (v === undefined) return undefined;
    if (!IDENTIFIER.test(v)) return this.fail(`${what} "${v}" must be a lower-case letter followed by lower-case letters, digits or _ (at most 63 characters)`);
    return v;
  }

  int(options: { min?: number; required?: boolean } = {}): number | undefined {
    const v = this.value;
    if (v === undefined || v === null) return options.required ? this.fail("is required") : undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) return this.fail(`must be an integer, got ${describe(v)}`);
    if (options.min !== undefined && v < options.min) return this.fail(`must be ${options.min} or more, got ${v}`);
    return v;
  }

  number(): number | undefined {
    const v = this.value;
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number") return this.fail(`must be a number, got ${describe(v)}`);
    return v;
  }

  bool(): boolean | undefined {
    const v = this.value;
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") return this.fail(`must be true or false, got ${describe(v)}`);
    return v;
  }

  /** A sequence (absent or null is empty). */
  list(options: { required?: boolean; nonEmpty?: boolean } = {}): At[] | undefined {
    const v = this.value;
    if (v === undefined || v === null) return options.required ? this.fail("is required") : [];
    if (!Array.isArray(v)) return this.fail(`must be a list, got ${describe(v)}`);
    if (options.nonEmpty && v.length === 0) return this.fail("must list at least one item");
    return v.map((x, i) => this.at(i, x));
  }

  /** A list of strings; a single string is taken as a list of one. */
  strings(options: { required?: boolean; nonEmpty?: boolean } = {}): string[] | undefined {
    if (typeof this.value === "string") return [this.value];
    const items = this.list(options);
    if (!items) return undefined;
    const out: string[] = [];
    const seen = new Set<string>();
    let ok = true;
    for (const item of items) {
      const s = item.string({ required: true, nonEmpty: true });
      if (s === undefined) {
        ok = false;
      } else if (seen.has(s)) {
        item.fail(`"${s}" is listed twice`);
        ok = false;
      } else {
        seen.add(s);
        out.push(s);
      }
    }
    return ok ? out : undefined;
  }

  /** A mapping of strings to strings. */
  stringMap(): Record<string, string> | undefined {
    const entries = this.entries();
    if (!entries) return undefined;
    const out: Record<string, string> = {};
    let ok = true;
    for (const [k, at] of entries) {
      const v = at.value;
      if (typeof v === "string") out[k] = v;
      else if (typeof v === "number" || typeof v === "boolean") out[k] = String(v);
      else {
        at.fail(`must be a string, got ${describe(v)}`);
        ok = false;
      }
    }
    return ok ? out : undefined;
  }

  /** One of `choices` (case-insensitive), or undefined when absent. */
  choice<T extends string>(choices: readonly T[]): T | undefined {
    const v = this.string();
    if (v === undefined) return undefined;
    const found = choices.find((c) => c === v.toLowerCase());
    if (found) return found;
    const hint = suggest(v.toLowerCase(), choices);
    return this.fail(`unknown value "${v}"${hint ? ` (did you mean "${hint}"?)` : ""}: use ${choices.join(", ")}`);
  }
}

export function describe(v: unknown): string {
  if (v === undefined || v === null) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return `${typeof v} ${String(v)}`;
}
