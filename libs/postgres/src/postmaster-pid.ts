import { readFile } from "node:fs/promises";
import path from "node:path";

/**
 * What the lock file of a data directory says about who owns it:
 * - `absent`: no lock file, nothing to clean up;
 * - `stale`: left by a server that is gone (a crash, a killed container), safe to remove;
 * - `running`: a PostgreSQL process with that pid is alive, so the directory may really be in use.
 */
export type PostmasterPidState =
  { readonly kind: "absent" } | { readonly kind: "stale"; readonly pid: number | undefined } | { readonly kind: "running"; readonly pid: number };

export function postmasterPidPath(dataDir: string): string {
  return path.join(dataDir, "postmaster.pid");
}

/**
 * PostgreSQL removes a lock file whose pid is dead by itself, but it refuses to start when that pid
 * has since been reused by another live process running as the same user, which is common after a
 * container restart. We call the file stale unless the pid belongs to a process named `postgres`;
 * without /proc (macOS) any live pid counts as running, erring on the side of not breaking a lock.
 */
export async function inspectPostmasterPid(dataDir: string): Promise<PostmasterPidState> {
  let text: string;
  try {
    text = await readFile(postmasterPidPath(dataDir), "utf8");
  } catch (err) {
    if (isNodeError(err) && err.code === "ENOENT") return { kind: "absent" };
    throw err;
  }
  const pid = Number.parseInt(text.split("\n")[0] ?? "", 10);
  // A torn or empty file (crash while writing it) makes PostgreSQL refuse too; nothing owns it.
  if (!Number.isSafeInteger(pid) || pid <= 0) return { kind: "stale", pid: undefined };
  if (!isAlive(pid)) return { kind: "stale", pid };
  const name = await processName(pid);
  return name === undefined || name === "postgres" ? { kind: "running", pid } : { kind: "stale", pid };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return isNodeError(err) && err.code === "EPERM";
  }
}

async function processName(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/comm`, "utf8")).trim();
  } catch {
    return undefined;
  }
}

function isNodeError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && "code" in err;
}
