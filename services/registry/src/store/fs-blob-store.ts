import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm, rmdir, stat, type FileHandle } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { AbortedError, ResourceExhaustedError } from "@granary/errors";
import type { BlobReader, BlobStore, StagedBlob } from "./blob-store.js";

const DIGEST = /^[0-9a-f]{64}$/;
/** Writes of one upload that may run at once: libuv's pool has four threads by default. */
const WRITES_IN_FLIGHT = 3;
/** How much an upload writes between two background flushes. */
const FLUSH_EVERY_BYTES = 32 * 1024 * 1024;

/**
 * Blobs on a filesystem path:
 *
 *   <root>/sha256/<first two hex digits>/<digest>   content, named by its sha256
 *   <root>/tmp/<host>/<random>.part                 uploads in progress on <host>
 *
 * Temporary files sit on the same filesystem as the blobs, so placing one is a rename: a reader
 * sees the whole blob or none. Each host stages under its own directory, so a registry starting
 * up clears what it left behind without touching uploads other replicas (sharing the root on a
 * ReadWriteMany volume) are still writing.
 */
export function createFsBlobStore(root: string, host = hostname()): BlobStore {
  const blobsDir = join(root, "sha256");
  const tmpRoot = join(root, "tmp");
  const tmpDir = join(tmpRoot, host.replace(/[^A-Za-z0-9._-]/g, "_") || "host");
  const pathOf = (sha256: string): string => {
    if (!DIGEST.test(sha256)) throw new Error(`not a sha256 digest: ${sha256}`);
    return join(blobsDir, sha256.slice(0, 2), sha256);
  };

  return {
    async stage(content, maxBytes) {
      const tempName = join(tmpDir, `${randomBytes(12).toString("hex")}.part`);
      const file = await createTemp(tmpDir, tempName);
      const hash = createHash("sha256");
      let size = 0;
      // A few positioned writes in flight while the next chunks arrive and are hashed: the disk
      // (libuv's thread pool) and the event loop work side by side.
      const writing: Promise<void>[] = [];
      let flushing: Promise<void> | undefined;
      let flushedAt = 0;
      try {
        for await (const chunk of content) {
          const position = size;
          size += chunk.byteLength;
          if (size > maxBytes) {
            throw new ResourceExhaustedError(`an artifact may hold at most ${maxBytes} bytes (GRANARY_REGISTRY_MAX_ARTIFACT_MB)`);
          }
          hash.update(chunk);
          if (writing.length >= WRITES_IN_FLIGHT) await writing.shift();
          writing.push(handled(writeAll(file, chunk, position)));
          // Flush what is written so far while the rest arrives, so the final flush is short.
          if (size - flushedAt >= FLUSH_EVERY_BYTES && !flushing) {
            flushedAt = size;
            flushing = handled(file.datasync()).finally(() => (flushing = undefined));
          }
        }
        await Promise.all(writing);
        await flushing;
        // fdatasync: the content and what reading it back needs (the size), not the timestamps.
        await file.datasync();
      } catch (err) {
        await Promise.allSettled([...writing, flushing]);
        await file.close().catch(() => undefined);
        await rm(tempName, { force: true });
        if (isDiskFull(err)) throw new ResourceExhaustedError("the registry's blob store is full; retry once space is freed", { cause: err });
        throw err;
      }
      await file.close();
      return { sha256: hash.digest("hex"), sizeBytes: size, tempName };
    },

    async place(staged) {
      const target = pathOf(staged.sha256);
      const dir = join(blobsDir, staged.sha256.slice(0, 2));
      await mkdir(dir, { recursive: true });
      try {
        await rename(staged.tempName, target);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        throw new AbortedError("the upload was idle so long that its content was swept away (GRANARY_REGISTRY_UPLOAD_TIMEOUT_MIN); upload it again", {
          cause: err,
        });
      }
      await syncDirectory(dir);
    },

    async discard(staged) {
      await rm(staged.tempName, { force: true });
    },

    async open(sha256) {
      let file: FileHandle;
      try {
        file = await open(pathOf(sha256), "r");
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      const { size } = await file.stat();
      return blobReader(file, size);
    },

    async remove(sha256) {
      await rm(pathOf(sha256), { force: true });
    },

    async *digests() {
      for (const prefix of await listDir(blobsDir)) {
        for (const name of await listDir(join(blobsDir, prefix))) {
          if (DIGEST.test(name) && name.startsWith(prefix)) yield name;
        }
      }
    },

    async sweepTemporary(idleMs, atStart) {
      let removed = 0;
      const now = Date.now();
      for (const dir of await listDir(tmpRoot)) {
        const own = join(tmpRoot, dir) === tmpDir;
        for (const name of await listDir(join(tmpRoot, dir))) {
          const file = join(tmpRoot, dir, name);
          const info = await stat(file).catch(() => undefined);
          if (!info) continue;
          if ((own && atStart) || now - info.mtimeMs >= idleMs) {
            await rm(file, { force: true, recursive: true });
            removed++;
          }
        }
        // An empty directory of another host: that replica is gone (or will recreate it).
        if (!own) await rmdir(join(tmpRoot, dir)).catch(() => undefined);
      }
      return removed;
    },
  };
}

function blobReader(file: FileHandle, sizeBytes: number): BlobReader {
  return {
    sizeBytes,
    async *chunks(chunkBytes, headroom = 0) {
      // The next chunk is read while the caller sends this one.
      const readAt = async (at: number): Promise<{ buffer: Buffer; filled: number }> => {
        // A fresh buffer per chunk: the caller hands it to the network and keeps it past our next read.
        const buffer = Buffer.allocUnsafe(headroom + chunkBytes);
        let filled = 0;
        while (filled < chunkBytes) {
          const { bytesRead } = await file.read(buffer, headroom + filled, chunkBytes - filled, at + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return { buffer, filled };
      };
      let position = 0;
      let next = handled(readAt(position));
      try {
        for (;;) {
          const { buffer, filled } = await next;
          if (filled === 0) return;
          position += filled;
          next = filled === chunkBytes ? handled(readAt(position)) : Promise.resolve({ buffer, filled: 0 });
          yield filled === chunkBytes ? buffer : buffer.subarray(0, headroom + filled);
        }
      } finally {
        // A caller that stops early must not close the file under a read still running.
        await next.catch(() => undefined);
      }
    },
    close: () => file.close(),
  };
}

/**
 * The same promise, marked as handled: it is awaited later, and a rejection in between must not
 * count as unhandled (which ends the process).
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Another replica's sweep may remove our staging directory while it is empty: make it again. */
async function createTemp(dir: string, name: string): Promise<FileHandle> {
  for (let attempt = 0; ; attempt++) {
    await mkdir(dir, { recursive: true });
    try {
      return await open(name, "wx", 0o644);
    } catch (err) {
      if (!isNotFound(err) || attempt >= 2) throw err;
    }
  }
}

async function writeAll(file: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.byteLength - offset, position + offset);
    offset += bytesWritten;
  }
}

/** Makes a rename durable: the new directory entry survives a power loss once this resolves. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

function isDiskFull(err: unknown): boolean {
  const code = typeof err === "object" && err !== null && "code" in err ? (err as { code: unknown }).code : undefined;
  return code === "ENOSPC" || code === "EDQUOT";
}

function isNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && "code" in err && (err as { code: unknown }).code === "ENOENT";
}
