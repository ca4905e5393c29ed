import { randomUUID } from "node:crypto";
import { mkdir, readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { InvalidArgumentError } from "@granary/errors";
import type { FeatureGroup } from "@granary/proto/metadata";
import { PART_FILE } from "./commit-paths.js";
import { partitionSegment, SCHEMA_FILE } from "./partition-paths.js";

/** What writeGroupFiles needs of a DuckDB connection (DuckConnection is one). */
export interface SqlRunner {
  run(sql: string, signal?: AbortSignal): Promise<void>;
  rows(sql: string, signal?: AbortSignal): Promise<Record<string, unknown>[]>;
}

/** Partition directories an Insert may create (its `maxPartitions`): more is refused (split the insert). */
export const MAX_PARTITIONS_PER_COMMIT = 1024;

export interface WriteGroupFilesOptions {
  readonly signal?: AbortSignal | undefined;
  /**
   * More distinct partitions than this is INVALID_ARGUMENT, before anything is written. Unset: no
   * limit (a compaction rewrites every partition of a group; a write-log micro-batch is bounded
   * by its row count and must not fail for good).
   */
  readonly maxPartitions?: number | undefined;
}

/** DuckDB's partition number while writing; never a column name (those start with a letter). */
const PART_COLUMN = "__granary_partition";

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * Writes a feature group's rows as the Parquet files of one commit into `targetDir` (an existing,
 * empty directory: a commit's `.tmp-<sequence>`), and returns their paths relative to it, sorted.
 * `selectSql` is a SELECT of the rows with the columns to store (the group's and `_seq`).
 *
 * - A group without `partition_key`: one file, `part-00000.parquet`.
 * - A partitioned group: `<col>=<value>/…/part-NNNNN.parquet`, one level per partition column in
 *   its order (see partition-paths.ts for the names), the partition columns kept in the files too,
 *   and `schema.parquet` (no rows; see SCHEMA_FILE) first in the list.
 *   The distinct partition values are computed first (INVALID_ARGUMENT, nothing written, when
 *   there are more than `maxPartitions`), then DuckDB writes every row once, split by partition
 *   number, and the directories are renamed to their names. `selectSql` runs twice (three times
 *   counting the schema file's LIMIT 0), so it must be deterministic (materialise an expensive
 *   one first).
 *
 * Nothing is made durable here: CommitLayout.publish fsyncs every file and directory under the
 * commit directory before renaming it into place. This is the one way group files are written
 * (inserts and compaction alike), so every reader finds the same layout.
 */
export async function writeGroupFiles(
  sql: SqlRunner,
  group: FeatureGroup,
  selectSql: string,
  targetDir: string,
  options: WriteGroupFilesOptions = {},
): Promise<string[]> {
  const { signal, maxPartitions } = options;
  if (group.partitionKey.length === 0) {
    await sql.run(`COPY (${selectSql}) TO ${literal(join(targetDir, PART_FILE))} (FORMAT parquet)`, signal);
    return [PART_FILE];
  }
  const keys = group.partitionKey.map(ident);
  const parts = `__granary_parts_${randomUUID().replace(/-/g, "")}`;
  await sql.run(
    `CREATE TEMP TABLE ${parts} AS SELECT (row_number() OVER ()) - 1 AS ${PART_COLUMN}, * FROM (SELECT DISTINCT ${keys.join(", ")} FROM (${selectSql})${maxPartitions === undefined ? "" : ` LIMIT ${maxPartitions + 1}`})`,
    signal,
  );
  try {
    const texts = await sql.rows(`SELECT ${PART_COLUMN} AS n, ${keys.map((k, i) => `${k}::VARCHAR AS v${i}`).join(", ")} FROM ${parts}`, signal);
    if (maxPartitions !== undefined && texts.length > maxPartitions) {
      throw new InvalidArgumentError(
        `the rows span more than ${maxPartitions} partitions of feature group "${group.name}" (partition key ${group.partitionKey.join(", ")}); split them into several inserts`,
      );
    }
    const dirs = new Map<number, string[]>();
    for (const row of texts) {
      const segments = group.partitionKey.map((name, i) => partitionSegment(name, (row[`v${i}`] as string | null) ?? null));
      dirs.set(Number(row.n as bigint | number), segments);
    }
    const on = keys.map((k) => `s.${k} IS NOT DISTINCT FROM p.${k}`).join(" AND ");
    await sql.run(
      `COPY (SELECT s.*, p.${PART_COLUMN} FROM (${selectSql}) s JOIN ${parts} p ON ${on}) TO ${literal(targetDir)} ` +
        `(FORMAT parquet, PARTITION_BY (${PART_COLUMN}), FILENAME_PATTERN 'part-{i}')`,
      signal,
    );
    const files = await nameDirectories(targetDir, dirs);
    await sql.run(`COPY (SELECT * FROM (${selectSql}) LIMIT 0) TO ${literal(join(targetDir, SCHEMA_FILE))} (FORMAT parquet)`, signal);
    return [SCHEMA_FILE, ...files];
  } finally {
    await sql.run(`DROP TABLE IF EXISTS ${parts}`).catch(() => undefined);
  }
}

/** Renames DuckDB's `__granary_partition=<n>` directories to their `<col>=<value>/…` paths, and their files to `part-NNNNN.parquet`. */
async function nameDirectories(targetDir: string, dirs: ReadonlyMap<number, readonly string[]>): Promise<string[]> {
  const files: string[] = [];
  for (const [n, segments] of dirs) {
    const from = join(targetDir, `${PART_COLUMN}=${n}`);
    const to = join(targetDir, ...segments);
    if (segments.length > 1) await mkdir(join(targetDir, ...segments.slice(0, -1)), { recursive: true });
    await rename(from, to);
    const written = (await readdir(to)).filter((f) => /^part-\d+\.parquet$/.test(f)).sort((a, b) => indexOf(a) - indexOf(b));
    for (let i = 0; i < written.length; i++) {
      const name = `part-${String(i).padStart(5, "0")}.parquet`;
      if (written[i] !== name) await rename(join(to, written[i]!), join(to, name));
      files.push([...segments, name].join("/"));
    }
  }
  return files.sort();
}

const indexOf = (file: string) => Number(/^part-(\d+)\.parquet$/.exec(file)![1]);
