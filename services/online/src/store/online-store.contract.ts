import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { DataTypeSchema, ScalarType } from "@granary/proto/types";
import { KeyEncoder } from "./key-codec.js";
import type { OnlineStore } from "./online-store.js";
import { RowEncoder, eventMicrosOf } from "./row-codec.js";

const INT64 = create(DataTypeSchema, { scalar: ScalarType.INT64 });
const DOUBLE = create(DataTypeSchema, { scalar: ScalarType.DOUBLE });

/**
 * What every OnlineStore adapter must do. Run it from each adapter's test with a factory; a new
 * adapter passes it unchanged.
 */
export function describeOnlineStoreContract(name: string, make: () => Promise<{ store: OnlineStore; cleanup(): Promise<void> }>): void {
  describe(`OnlineStore contract: ${name}`, () => {
    let store: OnlineStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await make());
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    const keys = new KeyEncoder();
    const rows = new RowEncoder([INT64, DOUBLE]);
    const key = (group: bigint, id: bigint) => keys.begin(group).add(INT64, id).finish();
    const row = (group: bigint, id: bigint, t: bigint, amount: number) => ({ key: key(group, id), value: rows.encode(t, [id, amount]), eventMicros: t });

    it("keeps the newest row per key, whatever order writes arrive in", async () => {
      expect(await store.upsert([row(1n, 7n, 200n, 2.0)], "committed")).toEqual({ written: 1, ignored: 0 });
      expect(await store.upsert([row(1n, 7n, 100n, 1.0)], "committed")).toEqual({ written: 0, ignored: 1 });
      expect(eventMicrosOf(store.get(key(1n, 7n))!)).toBe(200n);
      expect(await store.upsert([row(1n, 7n, 200n, 3.0), row(1n, 8n, 50n, 4.0)], "flushed")).toEqual({ written: 2, ignored: 0 });
      expect(store.get(key(1n, 7n))!.readDoubleLE(11 + 1 + 8)).toBe(3.0);
    });

    it("keeps the newest row per key in batches of many rows in key order, new keys or not", async () => {
      expect(await store.upsert([row(1n, 10n, 100n, 1), row(1n, 12n, 100n, 1)], "committed")).toEqual({ written: 2, ignored: 0 });
      // A stored key inside the batch's range, at its first or its last key.
      expect(await store.upsert([row(1n, 9n, 1n, 2), row(1n, 11n, 50n, 2), row(1n, 12n, 50n, 2)], "committed")).toEqual({ written: 2, ignored: 1 });
      expect(await store.upsert([row(1n, 10n, 5n, 3), row(1n, 13n, 5n, 3)], "committed")).toEqual({ written: 1, ignored: 1 });
      expect(await store.upsert([row(1n, 1n, 5n, 3), row(1n, 9n, 0n, 3)], "committed")).toEqual({ written: 1, ignored: 1 });
      // A key twice in one batch: the older one never replaces the newer.
      expect(await store.upsert([row(1n, 20n, 5n, 4), row(1n, 20n, 3n, 5)], "committed")).toEqual({ written: 1, ignored: 1 });
      expect(eventMicrosOf(store.get(key(1n, 10n))!)).toBe(100n);
      expect(eventMicrosOf(store.get(key(1n, 12n))!)).toBe(100n);
      expect(eventMicrosOf(store.get(key(1n, 9n))!)).toBe(1n);
      expect(eventMicrosOf(store.get(key(1n, 20n))!)).toBe(5n);
      expect(store.get(key(1n, 20n))!.readDoubleLE(11 + 1 + 8)).toBe(4);
    });

    it("keeps groups apart and deletes by key", async () => {
      await store.upsert([row(1n, 7n, 1n, 1), row(2n, 7n, 1n, 2)], "committed");
      expect(await store.delete([key(1n, 7n), key(1n, 99n)], "committed")).toBe(1);
      expect(store.get(key(1n, 7n))).toBeUndefined();
      expect(store.get(key(2n, 7n))).toBeDefined();
    });

    it("records the applied write-log sequence with the rows, only forward, and keeps it apart from rows", async () => {
      expect(store.appliedSequence()).toBe(0n);
      await store.upsert([row(5n, 1n, 10n, 1)], "committed", 41n);
      expect(store.appliedSequence()).toBe(41n);
      expect(await store.delete([key(5n, 1n)], "committed", 42n)).toBe(1);
      expect(store.appliedSequence()).toBe(42n);
      await store.recordApplied(43n, "flushed");
      expect(store.appliedSequence()).toBe(43n);
      // A batch met again after a crash never moves the position back.
      await store.upsert([row(5n, 2n, 10n, 1)], "committed", 40n);
      expect(store.appliedSequence()).toBe(43n);
      // A write without a log position leaves it alone, and purges of any group never touch it.
      await store.upsert([row(5n, 3n, 10n, 1)], "committed");
      expect(store.appliedSequence()).toBe(43n);
      expect(await store.purgeExpired(0n, 2n ** 62n, 100)).toBe(0);
      expect(store.appliedSequence()).toBe(43n);
      expect(store.logIdentity()).toBeUndefined();
      await store.setLogIdentity("jetstream:GRANARY@2026-12-07T00:00:00Z");
      expect(store.logIdentity()).toBe("jetstream:GRANARY@2026-12-07T00:00:00Z");
      expect(await store.purgeExpired(0n, 2n ** 62n, 100)).toBe(0);
    });

    it("applies several batches in order as one transaction with the last one's log sequence", async () => {
      await store.upsert([row(6n, 1n, 10n, 1)], "committed", 50n);
      const applied = await store.apply(
        [
          { kind: "upsert", rows: [row(6n, 2n, 10n, 2), row(6n, 1n, 5n, 9)] },
          { kind: "delete", keys: [key(6n, 2n), key(6n, 99n)] },
          { kind: "upsert", rows: [row(6n, 2n, 20n, 3)] },
        ],
        53n,
      );
      expect(applied).toEqual([
        { written: 1, ignored: 1, deleted: 0 },
        { written: 0, ignored: 0, deleted: 1 },
        { written: 1, ignored: 0, deleted: 0 },
      ]);
      expect(store.appliedSequence()).toBe(53n);
      // The delete came before the last upsert: the key is back, with the newest row.
      expect(eventMicrosOf(store.get(key(6n, 2n))!)).toBe(20n);
      expect(eventMicrosOf(store.get(key(6n, 1n))!)).toBe(10n);
    });

    it("purges rows older than a bound, only in the group asked", async () => {
      await store.upsert([row(3n, 1n, 10n, 1), row(3n, 2n, 20n, 1), row(3n, 3n, 30n, 1), row(4n, 1n, 10n, 1)], "committed");
      expect(await store.purgeExpired(3n, 25n, 100)).toBe(2);
      expect(store.get(key(3n, 1n))).toBeUndefined();
      expect(store.get(key(3n, 3n))).toBeDefined();
      expect(store.get(key(4n, 1n))).toBeDefined();
    });
  });
}
