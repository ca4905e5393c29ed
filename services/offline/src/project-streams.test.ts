import { describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { ProjectStreams, RETRY_AFTER_MS } from "./project-streams.js";

function refusal(fn: () => unknown): ConnectError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConnectError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("ProjectStreams", () => {
  it("admits up to the limit per project, refuses beyond it with a retry hint, and counts projects apart", () => {
    const streams = new ProjectStreams(2, 750);
    streams.acquire("a");
    streams.acquire("a");
    const err = refusal(() => streams.acquire("a"));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toContain("limit of 2");
    expect(err.rawMessage).toContain("retry in 750 ms");
    expect(err.metadata.get(RETRY_AFTER_MS)).toBe("750");
    expect(() => streams.acquire("b")).not.toThrow();
    expect([streams.open("a"), streams.open("b")]).toEqual([2, 1]);
  });

  it("frees a slot on release, once however often it is called", () => {
    const streams = new ProjectStreams(1);
    const release = streams.acquire("a");
    release();
    release();
    expect(streams.open("a")).toBe(0);
    const again = streams.acquire("a");
    expect(() => streams.acquire("a")).toThrow(ConnectError);
    again();
    expect(streams.open("a")).toBe(0);
  });

  it("frees a slot when the call's signal aborts (a cancelled stream), and not twice after release", () => {
    const streams = new ProjectStreams(2);
    const call = new AbortController();
    const release = streams.acquire("a", call.signal);
    streams.acquire("a");
    call.abort();
    expect(streams.open("a")).toBe(1);
    release();
    expect(streams.open("a")).toBe(1);
    const aborted = AbortSignal.abort();
    streams.acquire("a", aborted);
    expect(streams.open("a")).toBe(1);
  });

  it("releases in a generator's finally when the stream ends, fails or is abandoned", async () => {
    const streams = new ProjectStreams(1);
    async function* stream(fail: boolean) {
      const release = streams.acquire("a");
      try {
        yield 1;
        if (fail) throw new Error("boom");
        yield 2;
      } finally {
        release();
      }
    }
    for await (const _ of stream(false)) expect(streams.open("a")).toBe(1);
    expect(streams.open("a")).toBe(0);
    await expect(
      (async () => {
        for await (const _ of stream(true));
      })(),
    ).rejects.toThrow("boom");
    expect(streams.open("a")).toBe(0);
    const it = stream(false);
    await it.next();
    expect(streams.open("a")).toBe(1);
    await it.return(undefined);
    expect(streams.open("a")).toBe(0);
  });
});
