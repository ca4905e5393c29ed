import { realpath } from "node:fs/promises";
import { join, sep } from "node:path";

/**
 * Why a path taken from a record may not be opened. The reason names no filesystem path: it may
 * reach a log line or, through the caller's message, a client.
 */
export class ConfinementError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.name = "ConfinementError";
    this.reason = reason;
  }

  /** The file does not exist (as opposed to lying outside its directory). */
  get missing(): boolean {
    return this.reason === MISSING;
  }

  /** What a client is told: missing, or outside (the finer reason is for the log only). */
  get publicReason(): string {
    return this.reason === MISSING ? MISSING : "a file outside its directory";
  }
}

const MISSING = "a file that does not exist";

// Glob characters: DuckDB's read_parquet expands them, so a recorded `p/g/v1/*` would read every
// file of the directory, and `{`/`[` patterns could name more than one file.
const UNSAFE = /[\\*?[\]{}\0]/;

/**
 * The lexical check of a path relative to the data root, against the directory (`prefix`, with a
 * trailing slash, such as `shop/orders/v1/`) it must lie inside: no absolute path, no `.`/`..`
 * or empty segment, no backslash, glob character or NUL, and the prefix as its leading segments.
 * Returns the reason it fails, or undefined.
 */
export function pathProblem(relative: string, prefix: string): string | undefined {
  if (relative === "") return "an empty path";
  if (relative.startsWith("/") || /^[A-Za-z]:/.test(relative)) return "an absolute path";
  if (UNSAFE.test(relative)) return "a path with a backslash, glob character or NUL";
  if (relative.split("/").some((s) => s === "" || s === "." || s === "..")) return "a path with an empty, '.' or '..' segment";
  if (!prefix.endsWith("/") || !relative.startsWith(prefix) || relative.length === prefix.length) return "a path outside its directory";
  return undefined;
}

/**
 * A data root that hands out paths of files inside it only. Besides the lexical check, the file is
 * resolved with realpath and must lie, after every symbolic link is followed, inside the realpath
 * of `<root>/<prefix>`: a symlink anywhere on the way (the file, its commit directory, the group,
 * the project) that leads out of that directory is refused, as is a file that does not exist.
 */
export class ConfinedRoot {
  readonly root: string;
  #real: Promise<string> | undefined;

  constructor(root: string) {
    this.root = root;
  }

  /** The realpath of the root itself (computed once; the root is not expected to move). */
  realRoot(): Promise<string> {
    this.#real ??= realpath(this.root).catch((err: unknown) => {
      this.#real = undefined;
      throw err;
    });
    return this.#real;
  }

  /**
   * The real absolute path of `relative` (the file that will be opened, with no symlink left to
   * swap), after checking that it lies inside `prefix`. Throws ConfinementError when it does not;
   * other errors (the root unreadable) pass through.
   */
  async resolve(relative: string, prefix: string): Promise<string> {
    const problem = pathProblem(relative, prefix);
    if (problem) throw new ConfinementError(problem);
    const inside = join(await this.realRoot(), prefix) + (prefix.endsWith("/") ? "" : sep);
    let real: string;
    try {
      real = await realpath(join(this.root, relative));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") throw new ConfinementError(MISSING);
      if (code === "ELOOP") throw new ConfinementError("a symbolic link loop");
      throw err;
    }
    if (!real.startsWith(inside) || real.length === inside.length) throw new ConfinementError("a symbolic link that leads outside its directory");
    return real;
  }
}
