/**
 * The store's own records (keys that begin with 0x00, before every row key), as a listener sees
 * them inside a write transaction: what it writes there commits or rolls back with the rows.
 */
export interface StoreRecords {
  get(key: Buffer): Buffer | undefined;
  put(key: Buffer, value: Buffer): void;
  remove(key: Buffer): void;
}

/**
 * Hears every row change of the LMDB store inside the write transaction that makes it (derived
 * state kept beside the rows, such as the nearest-neighbour indexes, stays consistent with them).
 */
export interface RowChangeListener {
  /** A row was put (`value`) or removed (undefined), inside the write transaction. */
  changed(key: Buffer, value: Buffer | undefined, records: StoreRecords): void;
  /** The transaction's last change was heard; still inside it. */
  settle(): void;
  /** The transaction failed after `changed` was heard for these keys: what was derived from them may be ahead of the rows. */
  failed(keys: readonly Buffer[]): void;
}

/** The first key of the store's own records under a name (kept apart from row keys, which begin with 0x01). */
export function recordKey(name: string, ...parts: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from(`\x00${name}\x00`, "latin1"), ...parts]);
}
