import { describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { backoffDelay, isIdempotent, retryInterceptor, retryStream, unauthenticatedHintInterceptor } from "./call-policy.js";
import { resolveAddresses } from "./granary.js";

type Next = Parameters<ReturnType<typeof retryInterceptor>>[0];

function fakeRequest(method: string, stream = false) {
  return { stream, method: { name: method }, signal: new AbortController().signal, header: new Headers() } as unknown as Parameters<Next>[0];
}

describe("retries", () => {
  it("retries idempotent unary calls on UNAVAILABLE, and only those", async () => {
    let calls = 0;
    const flaky: Next = async () => {
      calls++;
      if (calls < 3) throw new ConnectError("restarting", Code.Unavailable);
      return { ok: true } as never;
    };
    const call = retryInterceptor({ initialDelayMs: 1 })(flaky);
    await expect(call(fakeRequest("GetFeatureGroup"))).resolves.toEqual({ ok: true });
    expect(calls).toBe(3);

    calls = 0;
    await expect(call(fakeRequest("FinalizeModelVersion"))).rejects.toThrow(/restarting/);
    expect(calls).toBe(1);
  });

  it("does not retry other codes, and gives up after the attempts", async () => {
    let calls = 0;
    const notFound: Next = async () => {
      calls++;
      throw new ConnectError("nope", Code.NotFound);
    };
    await expect(retryInterceptor({ initialDelayMs: 1 })(notFound)(fakeRequest("GetModel"))).rejects.toThrow(/nope/);
    expect(calls).toBe(1);
    calls = 0;
    const down: Next = async () => {
      calls++;
      throw new ConnectError("down", Code.Unavailable);
    };
    await expect(retryInterceptor({ attempts: 3, initialDelayMs: 1 })(down)(fakeRequest("ListModels"))).rejects.toThrow(/down/);
    expect(calls).toBe(3);
  });

  it("knows which calls are safe to repeat", () => {
    expect(isIdempotent("GetFeatureVectors")).toBe(true);
    expect(isIdempotent("CreateFeatureGroup")).toBe(true); // get-or-create
    expect(isIdempotent("SetAlias")).toBe(true);
    expect(isIdempotent("Insert")).toBe(false);
    expect(isIdempotent("CreateModelVersion")).toBe(false); // numbers a new version each time
  });

  it("backs off exponentially up to a ceiling", () => {
    const mid = () => 0.5;
    expect(backoffDelay(1, { initialDelayMs: 100 }, mid)).toBe(75);
    expect(backoffDelay(2, { initialDelayMs: 100 }, mid)).toBe(150);
    expect(backoffDelay(10, { initialDelayMs: 100, maxDelayMs: 1000 }, mid)).toBe(750);
  });

  it("re-opens a stream that fails before its first message, never after", async () => {
    let opens = 0;
    const items = await (async () => {
      const out: number[] = [];
      for await (const x of retryStream(
        async function* () {
          opens++;
          if (opens === 1) throw new ConnectError("reset", Code.Unavailable);
          yield 1;
          yield 2;
        },
        { initialDelayMs: 1 },
      ))
        out.push(x);
      return out;
    })();
    expect(items).toEqual([1, 2]);
    expect(opens).toBe(2);

    opens = 0;
    const midway = async () => {
      for await (const _ of retryStream(
        async function* () {
          opens++;
          yield 1;
          throw new ConnectError("reset", Code.Unavailable);
        },
        { initialDelayMs: 1 },
      )) {
        // consume
      }
    };
    await expect(midway()).rejects.toThrow(/reset/);
    expect(opens).toBe(1);
  });
});

describe("addresses", () => {
  it("takes explicit addresses, then the environment, then the host with default ports", () => {
    expect(resolveAddresses({ env: {} })).toEqual({
      metadata: "127.0.0.1:50051",
      online: "127.0.0.1:50052",
      offline: "127.0.0.1:50053",
      registry: "127.0.0.1:50054",
    });
    expect(resolveAddresses({ env: { GRANARY_ONLINE_ADDRESS: "online:9000" } }).online).toBe("online:9000");
    expect(resolveAddresses({ address: "granary.internal", env: { GRANARY_ONLINE_ADDRESS: "x:1" } }).online).toBe("granary.internal:50052");
    expect(resolveAddresses({ addresses: { registry: "r:1" }, env: {} }).registry).toBe("r:1");
  });

  it("refuses a single host:port, since each service has its own port", () => {
    expect(() => resolveAddresses({ address: "localhost:50051", env: {} })).toThrow(/names a port/);
  });

  it("keeps an https:// host's scheme on every service's address", () => {
    expect(resolveAddresses({ address: "https://granary.internal", env: {} }).online).toBe("https://granary.internal:50052");
  });
});

describe("UNAUTHENTICATED hint", () => {
  const hint = "no API key was found: it is read from GRANARY_API_KEY";

  it("adds where the key comes from to UNAUTHENTICATED errors, keeping the server's error as cause", async () => {
    const refused: Next = async () => {
      throw new ConnectError("no API key: send 'authorization: Bearer <key>'", Code.Unauthenticated);
    };
    const err = await unauthenticatedHintInterceptor(hint)(refused)(fakeRequest("GetProject")).then(
      () => new ConnectError("resolved"),
      (e: unknown) => ConnectError.from(e),
    );
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toBe(`no API key: send 'authorization: Bearer <key>' (${hint})`);
    expect((err.cause as ConnectError).rawMessage).toBe("no API key: send 'authorization: Bearer <key>'");
  });

  it("leaves other codes alone, and explains errors of streams too", async () => {
    const missing: Next = async () => {
      throw new ConnectError("nope", Code.NotFound);
    };
    await expect(unauthenticatedHintInterceptor(hint)(missing)(fakeRequest("GetProject"))).rejects.toThrow(/^\[not_found\] nope$/);
    const stream: Next = async () =>
      ({
        stream: true,
        message: (async function* () {
          yield 1;
          throw new ConnectError("revoked", Code.Unauthenticated);
        })(),
      }) as never;
    const res = (await unauthenticatedHintInterceptor(hint)(stream)(fakeRequest("Read", true))) as unknown as { message: AsyncIterable<number> };
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const n of res.message) seen.push(n);
      })(),
    ).rejects.toThrow(`revoked (${hint})`);
    expect(seen).toEqual([1]);
  });
});
