/** Content staged by an upload: a temporary file, its digest and size, not yet under its name. */
export interface StagedBlob {
  readonly sha256: string;
  readonly sizeBytes: number;
  /** Where the content waits; opaque to callers. */
  readonly tempName: string;
}

/** A stored blob opened for reading. */
export interface BlobReader {
  readonly sizeBytes: number;
  /**
   * The content in chunks of `chunkBytes` (the last may be shorter). Each buffer starts with
   * `headroom` bytes that are the caller's (to frame the chunk without copying it); the content
   * follows.
   */
  chunks(chunkBytes: number, headroom?: number): AsyncIterable<Buffer>;
  close(): Promise<void>;
}

/**
 * Content-addressed storage of artifact bytes, by lower-case hex sha256. Users' names never reach
 * it: the registry's tables map (model, version, path) to a digest. Which blobs are still wanted
 * is the tables' business; the store only keeps, lists and removes them.
 */
export interface BlobStore {
  /**
   * Writes `content` to a temporary file while hashing it. Past `maxBytes` it stops reading, removes
   * the file and throws RESOURCE_EXHAUSTED. Any failure removes the file.
   */
  stage(content: AsyncIterable<Uint8Array>, maxBytes: number): Promise<StagedBlob>;
  /**
   * Moves staged content under its digest; durable (file and directory entry synced) when it
   * resolves. A copy already there is replaced: the new one was just verified, the old one may
   * have rotted, and readers holding it open keep reading it.
   */
  place(staged: StagedBlob): Promise<void>;
  /** Removes staged content that will not be placed; nothing happens when it is already gone. */
  discard(staged: StagedBlob): Promise<void>;
  /** The blob, or undefined when no file has that digest. */
  open(sha256: string): Promise<BlobReader | undefined>;
  remove(sha256: string): Promise<void>;
  /** Every digest stored. */
  digests(): AsyncIterable<string>;
  /**
   * Removes temporary files that no upload is writing: at start, every one this host left behind
   * (its uploads died with it); those of other hosts sharing the root once idle for `idleMs`.
   */
  sweepTemporary(idleMs: number, atStart: boolean): Promise<number>;
}
