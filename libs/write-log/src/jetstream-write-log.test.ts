import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { DataLossError, UnavailableError } from "@granary/errors";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { JetStreamWriteLog, type JetStreamWriteLogOptions } from "./jetstream-write-log.js";
import { TEST_NATS_URL, probeNats } from "./testing/nats-probe.js";
import { collect, sampleBatch, until } from "./testing/rows.js";
import { TcpProxy } from "./testing/tcp-proxy.js";
import { describeWriteLogContract } from "./write-log.contract.js";
import type { AppendResult } from "./write-log.js";

// The machine's NATS (JetStream on 127.0.0.1:4222): CI requires it; elsewhere without it these
// tests report why they did not run. Each test has its own streams and subjects, and deletes them;
// no test ever stops the server.
const probe = await probeNats(TEST_NATS_URL);
const required = Boolean(process.env["CI"]);
if (!probe.ok && !required) console.warn(`not run: the JetStream write-log tests need NATS with JetStream at ${TEST_NATS_URL} (${probe.reason})`);
const skip = !probe.ok && !required;
const describeIfNats = skip ? describe.skip : describe;

if (!probe.ok && required) {
  it("NATS with JetStream is reachable (CI=true requires it)", () => {
    throw new Error(`CI=true needs NATS with JetStream at ${TEST_NATS_URL}: ${probe.reason}`);
  });
}

/** Stream names and subject prefixes no other test (or deployment) uses. */
function isolated(): Pick<JetStreamWriteLogOptions, "stream" | "deadStream" | "subjectPrefix" | "deadSubjectPrefix"> {
  const id = randomBytes(5).toString("hex");
  return { stream: `TEST_WL_${id}`, deadStream: `TEST_WL_${id}_DEAD`, subjectPrefix: `test-wl-${id}`, deadSubjectPrefix: `test-wl-${id}-dead` };
}

describeWriteLogContract(
  "JetStream",
  async () => {
    const names = isolated();
    const log = await JetStreamWriteLog.connect({ url: TEST_NATS_URL, ...names, requestTimeoutMs: 3000 });
    const peers: JetStreamWriteLog[] = [];
    return {
      log,
      prefix: log.subjects.prefix,
      appendRaw: (message) => log.appendRaw(message),
      // Another connection, as another replica or service instance has.
      peer: async () => {
        const peer = await JetStreamWriteLog.connect({ url: TEST_NATS_URL, ...names, createStreams: false });
        peers.push(peer);
        return peer;
      },
      cleanup: async () => {
        await Promise.all(peers.map((p) => p.close()));
        const admin = await JetStreamWriteLog.connect({ url: TEST_NATS_URL, ...names, createStreams: false });
        await admin.destroy();
        await Promise.all([admin.close(), log.close()]);
      },
    };
  },
  { skip },
);

describeIfNats("JetStreamWriteLog against a NATS outage", () => {
  const cleanups: (() => Promise<void>)[] = [];
  let proxy: TcpProxy;
  beforeAll(async () => {
    const url = new URL(TEST_NATS_URL.replace(/^nats:/, "http:"));
    proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 4222) });
    cleanups.push(() => proxy.close());
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("fails appends fast with UNAVAILABLE naming NATS and the URL, and the follower resumes with nothing lost or repeated", async () => {
    const names = isolated();
    const direct = await JetStreamWriteLog.connect({ url: TEST_NATS_URL, ...names });
    cleanups.push(async () => {
      await direct.destroy();
      await direct.close();
    });
    const viaProxy = await JetStreamWriteLog.connect({ url: proxy.url, ...names, requestTimeoutMs: 1500, createStreams: false });
    cleanups.push(() => viaProxy.close());

    const acknowledged = new Map<string, AppendResult>();
    const append = async (log: JetStreamWriteLog, msgId: string) => acknowledged.set(msgId, await log.append(sampleBatch("shop", "orders", 2, { msgId })));
    const { entries, follower } = collect(viaProxy);
    for (let i = 0; i < 3; i++) await append(viaProxy, `before-${i}`);
    await until("the follower at 3", () => follower.position === 3n);

    await proxy.cut();
    const failed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const msgId = `during-${i}`;
      const err = await viaProxy.append(sampleBatch("shop", "orders", 2, { msgId })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as UnavailableError).code).toBe(Code.Unavailable);
      expect((err as Error).message).toContain(`NATS at ${proxy.url}`);
      failed.push(msgId);
    }
    await expect(viaProxy.lastSequence()).rejects.toBeInstanceOf(UnavailableError);
    // Other writers reach NATS meanwhile: the follower has these to catch up on.
    for (let i = 0; i < 3; i++) await append(direct, `elsewhere-${i}`);

    await proxy.restore();
    // A caller retries what failed with the same msgId: stored once even if a failed append got through.
    for (const msgId of failed) {
      await until(`retry of ${msgId}`, async () => {
        try {
          await append(viaProxy, msgId);
          return true;
        } catch (err) {
          if (err instanceof UnavailableError) return false;
          throw err;
        }
      });
    }
    for (let i = 0; i < 2; i++) await append(viaProxy, `after-${i}`);

    const last = await direct.lastSequence();
    await until("the follower caught up", () => follower.position === last);
    await follower.stop();
    expect(entries.map((e) => e.sequence)).toEqual(Array.from({ length: Number(last) }, (_, i) => BigInt(i + 1)));
    const ids = entries.map((e) => e.msgId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(acknowledged.keys()));
    for (const [msgId, result] of acknowledged) expect(entries.find((e) => e.sequence === result.sequence)?.msgId).toBe(msgId);
  }, 60_000);

  it("says NATS and the URL when it cannot connect at start", async () => {
    const closed = await TcpProxy.start({ host: "127.0.0.1", port: 4222 });
    const url = closed.url;
    await closed.cut();
    const err = await JetStreamWriteLog.connect({ url, connectTimeoutMs: 1000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain(`NATS at ${url} is unreachable`);
  });
});

describeIfNats("JetStreamWriteLog retention", () => {
  it("ends a follower with DATA_LOSS when the log no longer holds what it must deliver next", async () => {
    const names = isolated();
    const log = await JetStreamWriteLog.connect({ url: TEST_NATS_URL, ...names });
    try {
      for (let i = 0; i < 3; i++) await log.append(sampleBatch("shop", "orders", 1));
      const nc = await connect({ servers: TEST_NATS_URL });
      await (await jetstreamManager(nc)).streams.purge(names.stream!, { keep: 1 });
      await nc.close();
      const follower = log.follow(1n, () => {});
      await expect(follower.done).rejects.toBeInstanceOf(DataLossError);
      // From where the log still starts, following works.
      const { entries, follower: ok } = collect(log, 2n);
      await until("entry 3", () => entries.length === 1);
      await ok.stop();
    } finally {
      await log.destroy();
      await log.close();
    }
  });

  it("has a new identity once its stream is deleted and made again", async () => {
    const names = isolated();
    const first = await JetStreamWriteLog.connect({ url: TEST_NATS_URL, ...names });
    const before = await first.identity();
    await first.destroy();
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = await JetStreamWriteLog.connect({ url: TEST_NATS_URL, ...names });
    try {
      expect(await again.identity()).not.toBe(before);
    } finally {
      await again.destroy();
      await again.close();
    }
  });
});
