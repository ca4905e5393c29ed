// The format of commit paths, apart from CommitLayout (the disk operations): the commit log reads a
// sequence number from a recorded path, and the layout owns the file checks (CommitFiles) that
// read the log's entries, so the format sits below both.

/**
 * Where commits live under the data root:
 *
 *   <root>/<project>/<group>/v<version>/<sequence>/part-00000.parquet
 *   <root>/<project>/<group>/v<version>/<sequence>/<col>=<value>/…/part-NNNNN.parquet   a partitioned group's insert,
 *   <root>/<project>/<group>/v<version>/<sequence>/schema.parquet                       with its schema file (no rows)
 *
 * (see partition-paths.ts and partitioned-copy.ts).
 *
 * `<sequence>` is the commit's sequence number, zero-padded to 20 digits. It is chosen before the
 * commit is recorded (the record lists the files, and its id is assigned by the metadata service
 * when it is recorded), and commits of a group are recorded in sequence order, so sequence numbers
 * grow with commit ids. A commit is written under `.tmp-<sequence>`, made durable, then renamed.
 */
export const PART_FILE = "part-00000.parquet";
/**
 * Beside the part file of a commit made from the write log: the highest log sequence the commit
 * includes (decimal text). It is made durable with the part file and counts only once the commit
 * is recorded, so "rows of the log up to here are in history" and the rows become true together.
 */
export const LOG_SEQUENCE_FILE = "log-sequence";
/** A published commit directory's name: the sequence number, zero-padded. */
export const SEQUENCE_DIR = /^\d{20}$/;

export function groupPath(project: string, name: string, version: number): string {
  return `${project}/${name}/v${version}`;
}

export function sequenceName(sequence: bigint): string {
  return sequence.toString().padStart(20, "0");
}

/**
 * The sequence number of a commit file path (relative to the root), if it follows the layout: the
 * fourth segment, `<project>/<group>/v<version>/<sequence>/`, whatever partition directories follow.
 */
export function sequenceOfFile(path: string): bigint | undefined {
  const parts = path.split("/");
  const dir = parts.length > 4 && SEQUENCE_DIR.test(parts[3]!) ? parts[3] : parts[parts.length - 2];
  return dir !== undefined && SEQUENCE_DIR.test(dir) ? BigInt(dir) : undefined;
}

/** The commit directory (`<project>/<group>/v<version>/<sequence>`) of a commit file path relative to the root, if it follows the layout. */
export function commitDirOfFile(path: string): string | undefined {
  const parts = path.split("/");
  return parts.length > 4 && SEQUENCE_DIR.test(parts[3]!) ? parts.slice(0, 4).join("/") : undefined;
}
