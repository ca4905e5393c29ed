import { describe, expect, it } from "@jest/globals";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { NotFoundError, UnavailableError } from "@granary/errors";
import type { RegistryService } from "@granary/proto/registry";
import { ModelResolver } from "./model-resolver.js";

/** A registry whose alias "production" points where the test says; calls are counted and may be held. */
function fakeRegistry() {
  const state = { version: 1, calls: 0, down: false, hold: undefined as Promise<void> | undefined };
  const client = {
    async getModelVersion(req: { selector: { case: string; value: unknown } }) {
      state.calls++;
      const version = state.version;
      const down = state.down;
      if (state.hold) await state.hold;
      if (down) throw new ConnectError("connection refused", Code.Unavailable);
      if (req.selector.case === "alias" && version === 0) throw new ConnectError("no alias production", Code.NotFound);
      return { modelVersion: { version, featureView: { name: "churn", version }, trainingDatasetVersion: version } };
    },
  } as unknown as Client<typeof RegistryService>;
  return { state, client };
}

const clock = () => {
  const c = { t: 1_000_000, now: () => c.t };
  return c;
};
const alias = { alias: "production" };
const flush = () => new Promise((r) => setImmediate(r));

describe("ModelResolver", () => {
  it("follows an alias moved while idle on the first call after it", async () => {
    const { state, client } = fakeRegistry();
    const c = clock();
    const resolver = new ModelResolver(client, { now: c.now });
    expect((await resolver.resolve("p", "m", alias)).version).toBe(1);
    c.t += 5000; // idle
    state.version = 2; // the alias moves
    expect((await resolver.resolve("p", "m", alias)).featureView).toEqual({ name: "churn", version: 2 });
  });

  it("answers busy traffic from the cache, refreshing it in the background, and never serves a mapping older than the bound", async () => {
    const { state, client } = fakeRegistry();
    const c = clock();
    const resolver = new ModelResolver(client, { now: c.now, freshMs: 1000 });
    await resolver.resolve("p", "m", alias);
    c.t += 100;
    await resolver.resolve("p", "m", alias);
    expect(state.calls).toBe(1);
    state.version = 2;
    c.t += 500; // past refresh-ahead: answered from the cache, refreshed behind
    expect((await resolver.resolve("p", "m", alias)).version).toBe(1);
    await flush();
    expect(state.calls).toBe(2);
    c.t += 100;
    expect((await resolver.resolve("p", "m", alias)).version).toBe(2);
  });

  it("lets concurrent calls share one registry call", async () => {
    const { state, client } = fakeRegistry();
    const resolver = new ModelResolver(client, { now: clock().now });
    let release!: () => void;
    state.hold = new Promise((r) => (release = r));
    const calls = [1, 2, 3].map(() => resolver.resolve("p", "m", alias));
    release();
    expect((await Promise.all(calls)).map((m) => m.version)).toEqual([1, 1, 1]);
    expect(state.calls).toBe(1);
  });

  it("does not answer from a registry call that started before the bound", async () => {
    const { state, client } = fakeRegistry();
    const c = clock();
    const resolver = new ModelResolver(client, { now: c.now, freshMs: 1000 });
    let release!: () => void;
    state.hold = new Promise((r) => (release = r));
    const first = resolver.resolve("p", "m", alias); // a registry call that hangs
    c.t += 2000;
    state.hold = undefined;
    state.version = 2;
    expect((await resolver.resolve("p", "m", alias)).version).toBe(2);
    release();
    expect((await first).version).toBe(1);
    // the older answer, arriving last, does not replace the newer one
    expect((await resolver.resolve("p", "m", alias)).version).toBe(2);
  });

  it("keeps serving the last mapping while the registry is unreachable, up to maxStaleMs", async () => {
    const { state, client } = fakeRegistry();
    const c = clock();
    const resolver = new ModelResolver(client, { now: c.now, maxStaleMs: 30_000 });
    await resolver.resolve("p", "m", alias);
    state.down = true;
    c.t += 10_000;
    expect((await resolver.resolve("p", "m", alias)).version).toBe(1);
    c.t += 25_000;
    await expect(resolver.resolve("p", "m", alias)).rejects.toBeInstanceOf(UnavailableError);
  });

  it("stops serving an alias the registry no longer has", async () => {
    const { state, client } = fakeRegistry();
    const c = clock();
    const resolver = new ModelResolver(client, { now: c.now });
    await resolver.resolve("p", "m", alias);
    state.version = 0;
    c.t += 2000;
    await expect(resolver.resolve("p", "m", alias)).rejects.toBeInstanceOf(NotFoundError);
    state.version = 3;
    expect((await resolver.resolve("p", "m", alias)).version).toBe(3);
  });
});
