import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { createHash } from "node:crypto";
import { ResourceExhaustedError } from "@granary/errors";
import type { BlobStore } from "./blob-store.js";

/**
 * What every BlobStore adapter must do. Run it from each adapter's test with a factory (a fresh,
 * empty store each time); a new adapter passes it unchanged.
 */
export function describeBlobStoreContract(name: string, make: () => Promise<{ store: BlobStore; cleanup(): Promise<void> }>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await make());
    });
    afterEach(async () => {
      await cleanup();
    });

    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    async function* pieces(b: Buffer, size = 1000): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < b.length; at += size) yield b.subarray(at, at + size);
    }
    const read = async (digest: string, chunkBytes = 4096, headroom = 0): Promise<Buffer | undefined> => {
      const reader = await store.open(digest);
      if (!reader) return undefined;
      const parts: Buffer[] = [];
      try {
        for await (const chunk of reader.chunks(chunkBytes, headroom)) parts.push(chunk.subarray(headroom));
      } finally {
        await reader.close();
      }
      return Buffer.concat(parts);
    };
    const all = async () => {
      const out: string[] = [];
      for await (const d of store.digests()) out.push(d);
      return out.sort();
    };
    const content = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7) % 251));

    it("stages with the content's sha256 and size, and serves it under that digest once placed", async () => {
      const staged = await store.stage(pieces(content), 1 << 20);
      expect(staged).toMatchObject({ sha256: sha(content), sizeBytes: content.length });
      expect(await store.open(staged.sha256)).toBeUndefined();
      await store.place(staged);
      expect(await read(staged.sha256)).toEqual(content);
      expect((await store.open(staged.sha256))?.sizeBytes).toBe(content.length);
      expect(await all()).toEqual([sha(content)]);
    });

    it("hands out chunks of the asked size, each after the caller's headroom", async () => {
      const staged = await store.stage(pieces(content, 333), 1 << 20);
      await store.place(staged);
      const reader = (await store.open(staged.sha256))!;
      const sizes: number[] = [];
      try {
        for await (const chunk of reader.chunks(4096, 5)) sizes.push(chunk.length - 5);
      } finally {
        await reader.close();
      }
      expect(sizes).toEqual([4096, 4096, 10_000 - 8192]);
      expect(await read(staged.sha256, 4096, 5)).toEqual(content);
    });

    it("refuses content past the limit with RESOURCE_EXHAUSTED and keeps nothing of it", async () => {
      await expect(store.stage(pieces(content), 5000)).rejects.toBeInstanceOf(ResourceExhaustedError);
      expect(await all()).toEqual([]);
      expect(await store.sweepTemporary(0, true)).toBe(0);
    });

    it("discards staged content, and placing the same content twice keeps one blob", async () => {
      const dropped = await store.stage(pieces(content), 1 << 20);
      await store.discard(dropped);
      await store.discard(dropped);
      expect(await all()).toEqual([]);
      await store.place(await store.stage(pieces(content), 1 << 20));
      await store.place(await store.stage(pieces(content, 77), 1 << 20));
      expect(await all()).toEqual([sha(content)]);
      expect(await read(sha(content))).toEqual(content);
    });

    it("removes a blob (twice is fine) and stores the empty blob", async () => {
      const staged = await store.stage(pieces(content), 1 << 20);
      await store.place(staged);
      await store.remove(staged.sha256);
      await store.remove(staged.sha256);
      expect(await store.open(staged.sha256)).toBeUndefined();
      const empty = await store.stage(pieces(Buffer.alloc(0)), 1 << 20);
      expect(empty).toMatchObject({ sha256: sha(Buffer.alloc(0)), sizeBytes: 0 });
      await store.place(empty);
      expect(await read(empty.sha256)).toEqual(Buffer.alloc(0));
    });

    it("sweeps at start the temporary files an upload left behind, never placed blobs", async () => {
      await store.place(await store.stage(pieces(content), 1 << 20));
      await store.stage(pieces(Buffer.from("left behind by a crash")), 1 << 20);
      expect(await store.sweepTemporary(60_000, true)).toBe(1);
      expect(await store.sweepTemporary(60_000, true)).toBe(0);
      expect(await all()).toEqual([sha(content)]);
    });

    it("a failing upload leaves nothing behind", async () => {
      async function* broken(): AsyncGenerator<Uint8Array> {
        yield content.subarray(0, 100);
        throw new Error("the client went away");
      }
      await expect(store.stage(broken(), 1 << 20)).rejects.toThrow("the client went away");
      expect(await store.sweepTemporary(0, true)).toBe(0);
      expect(await all()).toEqual([]);
    });
  });
}
