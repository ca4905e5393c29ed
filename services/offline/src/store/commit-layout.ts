import { mkdir, open, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { CommitFiles } from "./commit-files.js";
import { commitDirOfFile, groupPath, LOG_SEQUENCE_FILE, SEQUENCE_DIR, sequenceName } from "./commit-paths.js";
import { ConfinedRoot, ConfinementError } from "./confined-path.js";

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** A commit being written: its temporary directory, and where it goes once durable. */
export interface StagedCommit {
  readonly tmpDir: string;
  readonly finalDir: string;
  /** The commit directory relative to the root (`<project>/<group>/v<version>/<sequence>`): its files are recorded as `${dir}/${file}`. */
  readonly dir: string;
}

export class CommitLayout {
  readonly root: string;
  /** Opens paths taken from records only inside the root (see ConfinedRoot). */
  readonly confined: ConfinedRoot;
  /** Checks recorded commit files before any read (see CommitFiles). */
  readonly files: CommitFiles;

  constructor(root: string) {
    this.root = root;
    this.confined = new ConfinedRoot(root);
    this.files = new CommitFiles(this.confined);
  }

  /**
   * A path this service builds (never one taken from a record: those go through `files` or
   * `confined`), made absolute. Refuses what could leave the root, as a last line of defence.
   */
  absolute(relative: string): string {
    if (isAbsolute(relative) || relative.split("/").includes("..")) throw new Error("a data path must be relative to the data root and stay inside it");
    return join(this.root, relative);
  }

  async stage(project: string, name: string, version: number, sequence: bigint): Promise<StagedCommit> {
    const group = groupPath(project, name, version);
    const dir = sequenceName(sequence);
    const tmpDir = join(this.root, group, `.tmp-${dir}`);
    await rm(tmpDir, { recursive: true, force: true });
    await mkdir(tmpDir, { recursive: true });
    return { tmpDir, finalDir: join(this.root, group, dir), dir: `${group}/${dir}` };
  }

  /**
   * Makes a staged commit durable: fsync every file and every directory under it (a partitioned
   * commit nests `<col>=<value>/` directories; each directory is synced after its entries), rename
   * it into place, fsync the parent.
   */
  async publish(staged: StagedCommit): Promise<void> {
    await fsyncTree(staged.tmpDir);
    await rename(staged.tmpDir, staged.finalDir);
    await fsyncPath(join(staged.finalDir, ".."));
  }

  /** Records in a staged commit the highest write-log sequence it includes (published, and fsynced, with its files). */
  async writeLogSequence(staged: StagedCommit, logSequence: bigint): Promise<void> {
    await writeFile(join(staged.tmpDir, LOG_SEQUENCE_FILE), logSequence.toString());
  }

  /** The write-log sequence a published commit recorded (see writeLogSequence); undefined for a commit not made from the log. */
  async logSequenceOf(project: string, name: string, version: number, sequence: bigint): Promise<bigint | undefined> {
    try {
      const text = await readFile(this.absolute(`${groupPath(project, name, version)}/${sequenceName(sequence)}/${LOG_SEQUENCE_FILE}`), "utf8");
      return /^\d+$/.test(text.trim()) ? BigInt(text.trim()) : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  /** Removes a commit's files, staged or published, whose recording was never attempted. */
  async discard(staged: StagedCommit): Promise<void> {
    await rm(staged.tmpDir, { recursive: true, force: true });
    await rm(staged.finalDir, { recursive: true, force: true });
  }

  /**
   * Commit directories no recorded commit lists (written by an insert that died before recording
   * it, or files the catalogue does not know at all) and leftover temporary directories, relative
   * to the root. Nothing is removed here: start-up moves them to the quarantine (see quarantine.ts).
   *
   * Only what it finds by listing real directories under the root is a candidate, never a path from
   * a record (records can only spare a directory), and symlinks are not followed: a forged record or
   * a planted link cannot point a move outside the root.
   */
  async findUnrecorded(recorded: ReadonlySet<string>): Promise<string[]> {
    const found: string[] = [];
    for (const { base, dir } of await this.#commitDirs()) {
      const orphan = dir.startsWith(".tmp-") || (SEQUENCE_DIR.test(dir) && !recorded.has(`${base}/${dir}`));
      if (orphan && (await this.#isRealDirectory(`${base}/${dir}`))) found.push(`${base}/${dir}`);
    }
    return found;
  }

  /** The group versions (`<project>/<group>/v<version>`) with at least one published commit directory on disk. */
  async groupsWithCommits(): Promise<string[]> {
    const groups = new Set<string>();
    for (const { base, dir } of await this.#commitDirs()) {
      if (SEQUENCE_DIR.test(dir) && !groups.has(base) && (await this.#isRealDirectory(`${base}/${dir}`))) groups.add(base);
    }
    return [...groups];
  }

  /** Every directory inside a group version's directory, as found by listing (no symlink followed at the group levels). */
  async #commitDirs(): Promise<{ base: string; dir: string }[]> {
    const out: { base: string; dir: string }[] = [];
    for (const project of await dirs(this.root)) {
      if (!NAME.test(project)) continue;
      for (const group of await dirs(join(this.root, project))) {
        if (!NAME.test(group)) continue;
        for (const version of await dirs(join(this.root, project, group))) {
          if (!/^v\d+$/.test(version)) continue;
          const base = `${project}/${group}/${version}`;
          for (const dir of await dirs(join(this.root, base))) out.push({ base, dir });
        }
      }
    }
    return out;
  }

  /** True when the path is a directory inside the root with no symlink on its way (a replaced parent would fail). */
  async #isRealDirectory(relative: string): Promise<boolean> {
    try {
      const real = await this.confined.resolve(relative, `${relative.slice(0, relative.lastIndexOf("/"))}/`);
      return real === join(await this.confined.realRoot(), relative);
    } catch (err) {
      if (err instanceof ConfinementError) return false;
      throw err;
    }
  }
}

/**
 * The commit directories (relative to the root) that recorded commits list: the
 * `<project>/<group>/v<version>/<sequence>` a file lies in, however deep (partition directories).
 */
export function recordedDirs(files: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const f of files) out.add(commitDirOfFile(f) ?? f.slice(0, f.lastIndexOf("/")));
  return out;
}

/** fsync of a directory's files and subdirectories (no symlink followed), then of the directory itself. */
async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await fsyncTree(join(dir, entry.name));
    else if (entry.isFile()) await fsyncPath(join(dir, entry.name));
  }
  await fsyncPath(dir);
}

export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function dirs(path: string): Promise<string[]> {
  try {
    return (await readdir(path, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}
