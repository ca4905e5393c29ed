import { UsageError } from "./cli-error.js";

/** A feature group or view named on the command line: `name` (the latest version) or `name:version`. */
export interface VersionedRef {
  readonly name: string;
  /** 0 means the latest version. */
  readonly version: number;
}

const REF = /^([a-z][a-z0-9_]{0,62})(?::(\d+))?$/;

/** Parses `name` or `name:version`; `what` names the thing in the error ("feature group"). */
export function parseRef(text: string, what: string): VersionedRef {
  const m = REF.exec(text.trim());
  if (!m) throw new UsageError(`"${text}" is not a ${what}: write name or name:version (lower-case letters, digits, _)`);
  const version = m[2] === undefined ? 0 : Number(m[2]);
  if (m[2] !== undefined && version < 1) throw new UsageError(`"${text}": versions start at 1`);
  return { name: m[1]!, version };
}

/** `name v3`, or `name (latest)` for version 0. */
export function describeRef(ref: VersionedRef): string {
  return ref.version === 0 ? `${ref.name} (latest)` : `${ref.name} v${ref.version}`;
}
