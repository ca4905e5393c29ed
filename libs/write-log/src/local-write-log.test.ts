import { afterEach, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalWriteLog } from "./local-write-log.js";
import { collect, sampleBatch, until } from "./testing/rows.js";
import { describeWriteLogContract } from "./write-log.contract.js";

describeWriteLogContract("local (LMDB)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "granary-write-log-"));
  const log = new LocalWriteLog({ path: dir, mapSizeBytes: 256 * 1024 * 1024, durability: "committed" });
  return {
    log,
    prefix: log.subjects.prefix,
    appendRaw: (message) => log.appendRaw(message),
    // One process holds the file; its replicas share the handle.
    peer: async () => log,
    cleanup: async () => {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("LocalWriteLog", () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), "granary-write-log-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("keeps messages, sequences, msgIds and consumer positions across a reopen of the file", async () => {
    const path = fresh();
    const first = new LocalWriteLog({ path });
    await first.append(sampleBatch("shop", "orders", 1, { msgId: "a" }));
    await first.append(sampleBatch("shop", "orders", 1, { msgId: "b" }));
    const consumer = await first.consumer({ name: "offline" });
    await (await consumer.fetch({ maxMessages: 1, maxWaitMs: 100 })).ack();
    await first.close();

    const second = new LocalWriteLog({ path });
    expect(await second.lastSequence()).toBe(2n);
    expect(await second.append(sampleBatch("shop", "orders", 1, { msgId: "a" }))).toMatchObject({ sequence: 1n, duplicate: true });
    expect(await second.append(sampleBatch("shop", "orders", 1, { msgId: "c" }))).toMatchObject({ sequence: 3n, duplicate: false });
    const again = await second.consumer({ name: "offline" });
    expect((await again.fetch({ maxMessages: 5, maxWaitMs: 100 })).entries.map((e) => e.msgId)).toEqual(["b", "c"]);
    const { entries, follower } = collect(second, 1n);
    await until("entries 2 and 3", () => entries.length === 2);
    await follower.stop();
    await second.close();
  });

  it("stores a msgId again once the duplicate window has passed", async () => {
    const log = new LocalWriteLog({ path: fresh(), duplicateWindowMs: 50 });
    await log.append(sampleBatch("shop", "orders", 1, { msgId: "a" }));
    await new Promise((r) => setTimeout(r, 120));
    expect(await log.append(sampleBatch("shop", "orders", 1, { msgId: "a" }))).toMatchObject({ sequence: 2n, duplicate: false });
    await log.close();
  });
});
