import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { GranaryError } from "@granary/errors";
import { NamedColumnSchema } from "@granary/proto/types";
import { FORMAT, HEADER } from "./log-message.js";
import { collect, sampleBatch, sampleRows, until } from "./testing/rows.js";
import type { AppendResult, RawLogMessage, WriteLog } from "./write-log.js";

export interface ContractLog {
  readonly log: WriteLog;
  /** The log's subject prefix (tests use their own). */
  readonly prefix: string;
  /** Stores a message as given, as a producer outside Granary may publish it. */
  appendRaw(message: RawLogMessage): Promise<AppendResult>;
  /** A second handle on the same log, as a second replica has (may be the same object). */
  peer(): Promise<WriteLog>;
  cleanup(): Promise<void>;
}

/** The code a promise rejects with (a GranaryError's), or fails the test when it resolves. */
async function codeOf(promise: Promise<unknown>): Promise<Code> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof GranaryError) return err.code;
    throw err;
  }
  throw new Error("expected a rejection");
}

/**
 * What every WriteLog adapter must do. Run it from each adapter's test with a factory that makes a
 * fresh, empty log (its own stream or file); a new adapter passes it unchanged.
 */
export function describeWriteLogContract(name: string, make: () => Promise<ContractLog>, options: { skip?: boolean } = {}): void {
  (options.skip ? describe.skip : describe)(`WriteLog contract: ${name}`, () => {
    let t: ContractLog;
    let log: WriteLog;
    beforeEach(async () => {
      t = await make();
      log = t.log;
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it("has an identity every client of the log shares, the same across calls", async () => {
      const id = await log.identity();
      expect(id.length).toBeGreaterThan(0);
      expect(await log.identity()).toBe(id);
      expect(await (await t.peer()).identity()).toBe(id);
    });

    it("appends in order and follows from the start, each batch decoded as appended", async () => {
      expect(await log.lastSequence()).toBe(0n);
      const a = await log.append(sampleBatch("shop", "orders", 3, { msgId: "a" }));
      const b = await log.append(sampleBatch("shop", "users", 2, { kind: "delete", origin: "insert", version: 7 }));
      const c = await log.append(sampleBatch("bank", "cards", 1, { origin: "external" }));
      expect([a, c].map((r) => [r.sequence, r.duplicate])).toEqual([
        [1n, false],
        [3n, false],
      ]);
      expect(a.msgId).toBe("a");
      expect(b.msgId).not.toBe("");
      expect(await log.lastSequence()).toBe(3n);

      const { entries, follower } = collect(log);
      await until("three entries", () => entries.length === 3);
      await follower.stop();
      expect(entries.map((e) => [e.sequence, e.project, e.group, e.version, e.kind, e.origin])).toEqual([
        [1n, "shop", "orders", 1, "upsert", "write-rows"],
        [2n, "shop", "users", 7, "delete", "insert"],
        [3n, "bank", "cards", 1, "upsert", "external"],
      ]);
      expect(entries[0]!.msgId).toBe("a");
      expect(entries[1]!.msgId).toBe(b.msgId);
      expect(entries[0]!.rows).toEqual(sampleRows(3));
      expect(entries[0]!.raw.subject).toMatch(/\.shop\.orders\.v1$/);
      expect(entries[1]!.raw.headers[HEADER.format]).toBe(FORMAT);
      expect(follower.position).toBe(3n);
    });

    it("stores a batch once when its msgId comes again, returning the first sequence", async () => {
      const first = await log.append(sampleBatch("shop", "orders", 2, { msgId: "req-1" }));
      const again = await log.append(sampleBatch("shop", "orders", 2, { msgId: "req-1" }));
      const other = await log.append(sampleBatch("shop", "orders", 2, { msgId: "req-2" }));
      expect(again).toEqual({ sequence: first.sequence, duplicate: true, msgId: "req-1" });
      expect(other).toMatchObject({ sequence: first.sequence + 1n, duplicate: false });
      // Through another handle too, as when a retry lands on another instance of the service.
      const peer = await t.peer();
      expect(await peer.append(sampleBatch("shop", "orders", 2, { msgId: "req-1" }))).toMatchObject({ sequence: first.sequence, duplicate: true });
      expect(await log.lastSequence()).toBe(2n);

      const { entries, follower } = collect(log);
      await until("two entries", () => entries.length === 2);
      await follower.stop();
      expect(entries.map((e) => e.msgId)).toEqual(["req-1", "req-2"]);
    });

    it("follows from a sequence: what comes after it, then new batches as they arrive, until stopped", async () => {
      for (let i = 0; i < 5; i++) await log.append(sampleBatch("shop", "orders", 1, { msgId: `m${i}` }));
      const { entries, follower } = collect(log, 3n);
      await until("entries 4 and 5", () => entries.length === 2);
      expect(entries.map((e) => e.sequence)).toEqual([4n, 5n]);

      await log.append(sampleBatch("shop", "orders", 1, { msgId: "m5" }));
      await (await t.peer()).append(sampleBatch("shop", "orders", 1, { msgId: "m6" }));
      await until("entries 6 and 7", () => entries.length === 4);
      expect(entries.map((e) => [e.sequence, e.msgId])).toEqual([
        [4n, "m3"],
        [5n, "m4"],
        [6n, "m5"],
        [7n, "m6"],
      ]);
      expect(follower.position).toBe(7n);
      await follower.stop();
      await expect(follower.done).resolves.toBeUndefined();
    });

    it("follows one project's subjects only", async () => {
      await log.append(sampleBatch("shop", "orders", 1));
      await log.append(sampleBatch("bank", "cards", 1));
      await log.append(sampleBatch("shop", "users", 1));
      const { entries, follower } = collect(log, 0n, { project: "shop" });
      await until("the shop entries", () => entries.length === 2);
      await log.append(sampleBatch("bank", "cards", 1));
      await log.append(sampleBatch("shop", "orders", 1));
      await until("the next shop entry", () => entries.length === 3);
      await follower.stop();
      expect(entries.map((e) => [e.sequence, e.group])).toEqual([
        [1n, "orders"],
        [3n, "users"],
        [5n, "orders"],
      ]);
    });

    it("refuses names that are not catalogue identifiers (so never a subject token), storing nothing", async () => {
      for (const bad of [
        { project: "Shop" },
        { project: "shop.eu" },
        { project: "*" },
        { group: "orders>" },
        { group: "my orders" },
        { group: "" },
        { version: 0 },
        { version: 1.5 },
      ]) {
        expect(await codeOf(log.append({ ...sampleBatch("shop", "orders", 1), ...bad }))).toBe(Code.InvalidArgument);
      }
      expect(await codeOf(log.append(sampleBatch("shop", "orders", 0)))).toBe(Code.InvalidArgument);
      expect(await log.lastSequence()).toBe(0n);
    });

    it("refuses a batch larger than one message may be (RESOURCE_EXHAUSTED), storing nothing", async () => {
      const rows = sampleRows(1);
      rows.columns.push(create(NamedColumnSchema, { name: "blob", data: { values: { case: "strings", value: { values: ["x".repeat(2 * 1024 * 1024)] } } } }));
      expect(await codeOf(log.append({ ...sampleBatch("shop", "orders"), rows }))).toBe(Code.ResourceExhausted);
      expect(await log.lastSequence()).toBe(0n);
    });

    it("sends an undecodable message to the dead letters once, with its reason, and following goes on", async () => {
      await log.append(sampleBatch("shop", "orders", 2, { msgId: "good-1" }));
      const poison = await t.appendRaw({
        subject: `${t.prefix}.shop.orders.v1`,
        headers: { [HEADER.msgId]: "poison-1", [HEADER.format]: FORMAT, [HEADER.kind]: "upsert" },
        data: new Uint8Array([0xff, 0xff, 0xff, 0x01]),
      });
      await log.append(sampleBatch("shop", "orders", 1, { msgId: "good-2" }));

      // Two replicas meet the same poison message: one dead letter.
      const one = collect(log);
      const two = collect(await t.peer());
      await until("both followers past the poison", () => one.entries.length === 2 && two.entries.length === 2);
      await Promise.all([one.follower.stop(), two.follower.stop()]);
      expect(one.entries.map((e) => e.msgId)).toEqual(["good-1", "good-2"]);
      expect(one.dead).toEqual([{ sequence: poison.sequence, reason: expect.stringContaining("payload is not") }]);
      expect(two.dead.map((d) => d.sequence)).toEqual([poison.sequence]);
      expect(one.follower.position).toBe(3n);

      const letters = await log.listDeadLetters("shop", 10);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        project: "shop",
        subject: `${t.prefix}.shop.orders.v1`,
        originalSequence: poison.sequence,
        reason: expect.stringContaining(`payload is not a ${FORMAT} protobuf`),
        headers: { [HEADER.msgId]: "poison-1", [HEADER.kind]: "upsert" },
      });
      expect([...letters[0]!.data]).toEqual([0xff, 0xff, 0xff, 0x01]);
      expect(letters[0]!.time).toBeInstanceOf(Date);
      expect(await log.listDeadLetters("bank", 10)).toEqual([]);
    });

    it("files what a consumer refuses under its project's dead letters, listing the latest first-to-last", async () => {
      for (const [project, reason] of [
        ["shop", "rule r1: amount < 0"],
        ["bank", "rule r9"],
        ["shop", "rule r2: missing\nkey"],
        ["shop", "rule r3"],
      ] as const) {
        const message = { subject: `${t.prefix}.${project}.orders.v1`, headers: { [HEADER.kind]: "upsert" }, data: new Uint8Array([1]) };
        await log.deadLetter(message, reason);
      }
      // The same message and reason again (a redelivery) is filed once.
      await log.deadLetter({ subject: `${t.prefix}.shop.orders.v1`, headers: { [HEADER.kind]: "upsert" }, data: new Uint8Array([1]) }, "rule r3");
      const latest = await log.listDeadLetters("shop", 2);
      expect(latest.map((l) => l.reason)).toEqual(["rule r2: missing key", "rule r3"]);
      expect(latest[0]!.sequence < latest[1]!.sequence).toBe(true);
      expect(latest[0]!.originalSequence).toBeUndefined();
      expect((await log.listDeadLetters("shop", 10)).map((l) => l.reason)).toHaveLength(3);
      expect((await log.listDeadLetters("bank", 10)).map((l) => l.reason)).toEqual(["rule r9"]);
    });

    it("a durable consumer delivers each message until it is acknowledged, and remembers that by name", async () => {
      for (let i = 0; i < 5; i++) await log.append(sampleBatch("shop", "orders", 1, { msgId: `m${i}` }));
      await log.append(sampleBatch("bank", "cards", 1));
      const consumer = await log.consumer({ name: "offline", project: "shop" });
      const first = await consumer.fetch({ maxMessages: 3, maxWaitMs: 2000 });
      expect(first.entries.map((e) => e.msgId)).toEqual(["m0", "m1", "m2"]);
      await first.ack();
      const second = await consumer.fetch({ maxMessages: 3, maxWaitMs: 300 });
      expect(second.entries.map((e) => e.msgId)).toEqual(["m3", "m4"]);
      await second.nak();
      const again = await consumer.fetch({ maxMessages: 2, maxWaitMs: 5000 });
      expect(again.entries.map((e) => e.msgId).sort()).toEqual(["m3", "m4"]);
      await again.ack();
      expect((await consumer.fetch({ maxMessages: 3, maxWaitMs: 200 })).entries).toEqual([]);
      await consumer.close();

      const reopened = await log.consumer({ name: "offline", project: "shop" });
      expect((await reopened.fetch({ maxMessages: 3, maxWaitMs: 200 })).entries).toEqual([]);
      // A fetch waits for maxMessages until maxWaitMs: an append during the wait is in it.
      const waiting = reopened.fetch({ maxMessages: 1, maxWaitMs: 10_000 });
      await log.append(sampleBatch("shop", "orders", 1, { msgId: "m5" }));
      const late = await waiting;
      expect(late.entries.map((e) => [e.msgId, e.sequence])).toEqual([["m5", 7n]]);
      await late.ack();
      await reopened.close();
    });

    it("a durable consumer delivers again what was fetched but not acknowledged when it closed", async () => {
      await log.append(sampleBatch("shop", "orders", 1, { msgId: "m0" }));
      await log.append(sampleBatch("shop", "orders", 1, { msgId: "m1" }));
      const consumer = await log.consumer({ name: "offline" });
      expect((await consumer.fetch({ maxMessages: 10, maxWaitMs: 500 })).entries).toHaveLength(2);
      await consumer.close();
      const next = await log.consumer({ name: "offline" });
      const batch = await next.fetch({ maxMessages: 2, maxWaitMs: 10_000 });
      expect(batch.entries.map((e) => e.msgId).sort()).toEqual(["m0", "m1"]);
      await batch.ack();
      await next.close();
    });

    it("a durable consumer files undecodable messages under the dead letters and acknowledges them with the batch", async () => {
      await t.appendRaw({
        subject: `${t.prefix}.shop.orders.v1`,
        headers: { [HEADER.format]: "text/csv", [HEADER.kind]: "upsert" },
        data: new Uint8Array([1]),
      });
      await log.append(sampleBatch("shop", "orders", 1, { msgId: "good" }));
      const consumer = await log.consumer({ name: "offline" });
      const batch = await consumer.fetch({ maxMessages: 2, maxWaitMs: 5000 });
      expect(batch.entries.map((e) => e.msgId)).toEqual(["good"]);
      await batch.ack();
      expect((await consumer.fetch({ maxMessages: 2, maxWaitMs: 200 })).entries).toEqual([]);
      await consumer.close();
      expect((await log.listDeadLetters("shop", 5)).map((l) => l.reason)).toEqual([expect.stringContaining(`header ${HEADER.format} is "text/csv"`)]);
    });

    it("ends a follower with the handler's error", async () => {
      await log.append(sampleBatch("shop", "orders", 1));
      const follower = log.follow(0n, () => {
        throw new Error("disk on fire");
      });
      await expect(follower.done).rejects.toThrow("disk on fire");
      expect(follower.position).toBe(0n);
    });

    it("after close, every call fails with UNAVAILABLE", async () => {
      await log.close();
      expect(await codeOf(log.append(sampleBatch("shop", "orders", 1)))).toBe(Code.Unavailable);
      expect(await codeOf(log.lastSequence())).toBe(Code.Unavailable);
    });
  });
}
