import { lstat, mkdir, readdir, realpath, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fsyncPath } from "./commit-layout.js";

/**
 * Where files the catalogue does not account for go instead of being deleted:
 *
 *   <root>/.quarantine/<batch>/<path relative to the root>
 *
 * `<batch>` is the UTC time of the move (`2026-12-06T23-07-03-123Z`), one per start. The service
 * never deletes what it cannot prove is garbage: a wrong or empty metadata database makes every
 * commit look unrecorded, so start-up only moves, and deleting is the operator's
 * `npm run offline:purge-quarantine` (with a dry run). `.quarantine` is not a project name (names
 * start with a letter), so nothing under it is ever read as a commit.
 */
export const QUARANTINE_DIR = ".quarantine";
const BATCH = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z(?:-\d+)?$/;

export function batchName(at: Date): string {
  return at.toISOString().replace(/:/g, "-").replace(".", "-");
}

/** When a batch was made, from its name; undefined for a name this service did not make. */
export function batchTime(name: string): Date | undefined {
  const m = BATCH.exec(name);
  if (!m) return undefined;
  const at = new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

export interface QuarantineResult {
  /** The batch directory, absolute ("" when nothing was moved). */
  readonly batch: string;
  /** What was moved, relative to the root (and, under the batch, to the batch). */
  readonly moved: readonly string[];
}

/**
 * Moves directories (relative to the root, as found by CommitLayout.findUnrecorded: real
 * directories, no symlink on the way) into a new quarantine batch, keeping their relative paths.
 * A rename inside the root: same filesystem, nothing copied, nothing lost if the process dies in
 * the middle (each directory is either where it was or in the batch).
 */
export async function quarantine(root: string, relatives: readonly string[], at = new Date()): Promise<QuarantineResult> {
  if (relatives.length === 0) return { batch: "", moved: [] };
  const batch = await newBatch(root, at);
  const moved: string[] = [];
  for (const relative of relatives) {
    const target = join(batch, relative);
    await mkdir(dirname(target), { recursive: true });
    await rename(join(root, relative), target);
    await fsyncPath(dirname(join(root, relative)));
    moved.push(relative);
  }
  await fsyncPath(batch);
  return { batch, moved };
}

/**
 * A fresh batch directory: `.quarantine` must be a real directory of the root (a symlink planted
 * there is refused, so nothing is moved out of the root), and the batch is created, never reused.
 */
async function newBatch(root: string, at: Date): Promise<string> {
  const base = await quarantineRoot(root, true);
  for (let n = 0; ; n++) {
    const batch = join(base, n === 0 ? batchName(at) : `${batchName(at)}-${n}`);
    try {
      await mkdir(batch);
      return batch;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || n >= 100) throw err;
    }
  }
}

/** `<root>/.quarantine`, checked to be a real directory inside the root; undefined if absent and not created. */
export async function quarantineRoot(root: string, create: boolean): Promise<string> {
  const base = join(root, QUARANTINE_DIR);
  if (create) await mkdir(base, { recursive: true });
  const info = await lstat(base);
  const realRoot = await realpath(root);
  if (!info.isDirectory() || info.isSymbolicLink() || (await realpath(base)) !== join(realRoot, QUARANTINE_DIR)) {
    throw new Error(`${base} is not a plain directory inside the data root (a symbolic link?); refusing to use it as the quarantine`);
  }
  return base;
}

export interface QuarantineBatch {
  readonly name: string;
  readonly path: string;
  /** undefined for an entry this service did not make (never purged). */
  readonly at: Date | undefined;
  /** Files (not directories) inside, counted without following symlinks. */
  readonly files: number;
  readonly bytes: number;
  /** Not a plain directory (a symlink, a file): never purged. */
  readonly plain: boolean;
}

/** The batches in the quarantine, oldest first (none when it does not exist). */
export async function listQuarantine(root: string): Promise<QuarantineBatch[]> {
  let base: string;
  try {
    base = await quarantineRoot(root, false);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: QuarantineBatch[] = [];
  for (const entry of await readdir(base, { withFileTypes: true })) {
    const path = join(base, entry.name);
    const plain = entry.isDirectory();
    const { files, bytes } = plain ? await sizeOf(path) : { files: 0, bytes: 0 };
    out.push({ name: entry.name, path, at: batchTime(entry.name), files, bytes, plain });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export interface PurgeOptions {
  readonly dryRun: boolean;
  /** Only batches made at least this long before `now`. */
  readonly olderThanMs?: number;
  readonly now?: Date;
}

/**
 * The batches a purge removes (and removes them unless dry-run): plain directories with a batch
 * name old enough. Anything else under `.quarantine` is left alone. `rm` removes a symlink inside a
 * batch as a link, never what it points to.
 */
export async function purgeQuarantine(root: string, options: PurgeOptions): Promise<{ purged: QuarantineBatch[]; kept: QuarantineBatch[] }> {
  const now = (options.now ?? new Date()).getTime();
  const purged: QuarantineBatch[] = [];
  const kept: QuarantineBatch[] = [];
  for (const b of await listQuarantine(root)) {
    const old = b.at !== undefined && now - b.at.getTime() >= (options.olderThanMs ?? 0);
    if (b.plain && old) purged.push(b);
    else kept.push(b);
  }
  if (!options.dryRun) for (const b of purged) await rm(b.path, { recursive: true, force: true });
  return { purged, kept };
}

async function sizeOf(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = await sizeOf(path);
      files += inner.files;
      bytes += inner.bytes;
    } else {
      files++;
      bytes += (await lstat(path)).size;
    }
  }
  return { files, bytes };
}
