import { describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { type GranaryError, ResourceExhaustedError, UnavailableError } from "@granary/errors";
import { errorToWire } from "./ipc-errors.js";
import type { ToPrimary, ToWorker } from "./messages.js";
import { PrimaryCalls, type PrimaryChannel } from "./primary-calls.js";

/** A channel whose primary answers with `answer`, through a structured clone as IPC would. */
function fakeChannel(answer: (call: Extract<ToPrimary, { granary: "call" }>) => ToWorker | undefined) {
  let listener: ((message: ToWorker) => void) | undefined;
  let connected = true;
  const channel: PrimaryChannel = {
    send(message) {
      if (!connected) throw new Error("channel closed");
      if (message.granary !== "call") return;
      const reply = answer(message);
      if (reply) setImmediate(() => listener?.(structuredClone(reply)));
    },
    onMessage: (l) => (listener = l),
  };
  return { channel, disconnect: () => (connected = false) };
}

describe("a worker's calls to its primary", () => {
  it("resolve with the primary's value, Buffers and bigints intact", async () => {
    const { channel } = fakeChannel((call) => ({ granary: "reply", id: call.id, value: { args: call.args } }));
    const calls = new PrimaryCalls(channel);
    const value = await calls.call<{ args: unknown[] }>("purgeExpired", 7n, 12n, 10);
    expect(value.args).toEqual([7n, 12n, 10]);
  });

  it("reject with the primary's error rebuilt as the same class", async () => {
    const { channel } = fakeChannel((call) => ({ granary: "reply", id: call.id, error: errorToWire(new ResourceExhaustedError("disk full")) }));
    const err = await new PrimaryCalls(channel).call("upsert", [], "flushed").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceExhaustedError);
    expect((err as GranaryError).code).toBe(Code.ResourceExhausted);
  });

  it("fail with UNAVAILABLE once the channel closes, those waiting and those after", async () => {
    const { channel, disconnect } = fakeChannel(() => undefined);
    const calls = new PrimaryCalls(channel);
    const waiting = calls.call("upsert", [], "flushed").catch((e: unknown) => e);
    calls.close();
    expect(await waiting).toBeInstanceOf(UnavailableError);
    expect(await calls.call("delete", [], "flushed").catch((e: unknown) => e)).toBeInstanceOf(UnavailableError);
    disconnect();
    const unsent = await new PrimaryCalls(channel).call("delete", [], "flushed").catch((e: unknown) => e);
    expect(unsent).toBeInstanceOf(UnavailableError);
  });
});
