// The directory names of a partitioned commit (Hive style, `<column>=<value>`), apart from the
// pruning that reads them (partitions.ts) and the writer that makes them (partitioned-copy.ts).
//
// The names are ours, not DuckDB's: DuckDB's own PARTITION_BY writes a null and the string
// "NULL" to one directory (`s=NULL`), and a null and the string "__HIVE_DEFAULT_PARTITION__"
// likewise, where its two writers then clobber one file (a corrupt Parquet file: measured with
// DuckDB 1.5.6). So the writer lets DuckDB split the rows by a partition number and names the
// directories itself, with an encoding that
//
// - keeps ASCII letters, digits, `_` and `-`, and percent-encodes every other UTF-8 byte
//   (`%2F`, `%2E`, `%3D`, `%25`, `%00`, …), so no value can make a separator, a `.`/`..`
//   segment, a second `=`, a glob character, a NUL or a newline: a segment never leaves its
//   commit directory and always passes the confinement check (confined-path.ts);
// - writes a null as `NULL`, and a string DuckDB's Hive reader would take for a null — `NULL` or
//   `__HIVE_DEFAULT_PARTITION__`, ignoring case (both read as null in DuckDB 1.5.6) — with every
//   byte encoded (`%4E%55%4C%4C`). DuckDB URL-decodes the rest, so where it reads values from
//   these paths it reads the values the files hold. Readers here do not depend on that: every
//   partitioned commit lists a schema file (SCHEMA_FILE) that turns DuckDB's Hive detection off,
//   and the values come from the files' own typed columns.
import { createHash } from "node:crypto";
import { SEQUENCE_DIR } from "./commit-paths.js";

/**
 * Beside the partition directories of a commit: a Parquet file with the commit's columns and no
 * row. read_parquet detects a Hive layout on its own when every file of its list has the same
 * `<key>=<value>` directories, and then takes those columns from the path with types it guesses
 * (a string partition `s=1` reads as BIGINT, a BOOLEAN as VARCHAR: measured with DuckDB 1.5.6),
 * not the file's. A file of the list without them turns the detection off, so every read of a
 * partitioned commit (this file is never pruned) reads the typed columns the files hold.
 */
export const SCHEMA_FILE = "schema.parquet";

/** True for a commit's schema file (`<sequence>/schema.parquet`): no rows, never pruned. */
export function isSchemaFile(file: string): boolean {
  const parts = file.split("/");
  return parts[parts.length - 1] === SCHEMA_FILE && SEQUENCE_DIR.test(parts[parts.length - 2] ?? "");
}

/** How a null partition value is written. */
export const NULL_VALUE = "NULL";
/** The longest directory name most filesystems allow (NAME_MAX), in bytes. */
export const MAX_SEGMENT_BYTES = 255;

const KEPT = /^[A-Za-z0-9_-]$/;
/** Texts DuckDB's Hive reader turns into a null (compared lower-cased). */
const READS_AS_NULL = new Set(["null", "__hive_default_partition__"]);
const ENCODED = /^(?:[A-Za-z0-9_-]|%[0-9A-Fa-f]{2})*$/;
const strict = new TextDecoder("utf-8", { fatal: true });

/** The directory text of a partition value given as DuckDB's VARCHAR cast of it (null for null). */
export function encodePartitionValue(text: string | null): string {
  if (text === null) return NULL_VALUE;
  const every = READS_AS_NULL.has(text.toLowerCase());
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const ch = String.fromCharCode(byte);
    out += !every && KEPT.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The value of an encoded directory text: null for a null, undefined when it is not one this service writes. */
export function decodePartitionValue(raw: string): string | null | undefined {
  if (raw.toLowerCase() === "null") return null;
  if (!ENCODED.test(raw) || READS_AS_NULL.has(raw.toLowerCase())) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === "%") {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(raw.charCodeAt(i));
    }
  }
  try {
    return strict.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/**
 * `<column>=<encoded value>`: one directory level of a partitioned commit. A value whose name would
 * exceed MAX_SEGMENT_BYTES (long text, mostly non-ASCII: each such byte takes three) is named by
 * its SHA-256 instead, `<column>=~<64 hex digits>`: distinct values keep distinct directories,
 * and as `~` is no character of the encoding, such a name reads as "unknown" and its files are
 * never pruned (see partitionTextsOfFile).
 */
export function partitionSegment(column: string, text: string | null): string {
  const segment = `${column}=${encodePartitionValue(text)}`;
  if (Buffer.byteLength(segment) <= MAX_SEGMENT_BYTES) return segment;
  return `${column}=~${createHash("sha256")
    .update(text ?? "", "utf8")
    .digest("hex")}`;
}

/**
 * The raw partition values (DuckDB's text of each, null for null) of a commit file path, absolute
 * or relative to the root, in the order of `partitionKey`: the directories between the commit's
 * sequence directory and the file must be exactly `<key[0]>=…/…/<key[n-1]>=…`. Undefined for a
 * file that is not laid out so (an unpartitioned commit, a tombstone file, a path this service
 * did not write): such a file is never pruned.
 */
export function partitionTextsOfFile(partitionKey: readonly string[], file: string): (string | null)[] | undefined {
  const k = partitionKey.length;
  const parts = file.split("/");
  if (k === 0 || parts.length < k + 2) return undefined;
  const first = parts.length - k - 1;
  if (!SEQUENCE_DIR.test(parts[first - 1]!)) return undefined;
  const out: (string | null)[] = [];
  for (let i = 0; i < k; i++) {
    const prefix = `${partitionKey[i]}=`;
    const segment = parts[first + i]!;
    if (!segment.startsWith(prefix)) return undefined;
    const value = decodePartitionValue(segment.slice(prefix.length));
    if (value === undefined) return undefined;
    out.push(value);
  }
  return out;
}
