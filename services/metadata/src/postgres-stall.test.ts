import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer, connect, type Server, type Socket } from "node:net";
import { once } from "node:events";
import { Code, ConnectError } from "@connectrpc/connect";
import { createTestDatabase, type TestDatabase } from "@granary/testing";
import { startTestMetadata, type TestMetadata } from "./testing/start-test-metadata.js";

/**
 * A TCP proxy in front of PostgreSQL that can stop forwarding without closing anything: the service
 * sees connections that are open and silent, as behind a dead network path. Flows open while it is
 * stalled stay silent for good, as after a path that came back with its connection state lost; only
 * connections opened after resume() are forwarded again.
 */
interface StallingProxy {
  readonly port: number;
  stall(): void;
  resume(): void;
  close(): Promise<void>;
}

async function startStallingProxy(target: { host: string; port: number }): Promise<StallingProxy> {
  let stalled = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((down) => {
    const up = connect(target.port, target.host);
    sockets.add(down).add(up);
    const pair = { silent: stalled };
    down.on("data", (bytes) => pair.silent || up.write(bytes));
    up.on("data", (bytes) => pair.silent || down.write(bytes));
    const closeBoth = (): void => {
      down.destroy();
      up.destroy();
      sockets.delete(down);
      sockets.delete(up);
    };
    down.on("close", closeBoth).on("error", closeBoth);
    up.on("close", closeBoth).on("error", closeBoth);
    pairs.add(pair);
  });
  const pairs = new Set<{ silent: boolean }>();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as { port: number }).port,
    stall() {
      stalled = true;
      for (const pair of pairs) pair.silent = true;
    },
    resume() {
      stalled = false;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let db: TestDatabase;
let proxy: StallingProxy;
let md: TestMetadata;

beforeAll(async () => {
  db = await createTestDatabase("stall");
  const url = new URL(db.url);
  proxy = await startStallingProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  md = await startTestMetadata(url.toString(), { GRANARY_METADATA_DB_POOL_SIZE: "4" });
  await md.client.createProject({ name: "stall" });
}, 60_000);

afterAll(async () => {
  // The silent connections go first: the change feed's LISTEN connection is still among them, and
  // stopping the service sends UNLISTEN on it with no timeout (services/metadata change-feed.ts).
  await proxy?.close();
  await md?.stop();
  await db?.drop();
}, 60_000);

async function outcome(call: Promise<unknown>): Promise<{ code: string; ms: number }> {
  const started = Date.now();
  const code = await call.then(
    () => "OK",
    (err: unknown) => Code[ConnectError.from(err).code] ?? "?",
  );
  return { code, ms: Date.now() - started };
}

describe("PostgreSQL stops answering (a stalled connection, not a refused one)", () => {
  it("ends calls at their deadline with DEADLINE_EXCEEDED, gives the stalled connections up, and answers again", async () => {
    // Concurrent calls open all the pool's connections, so every one of them is stalled below.
    const warm = await Promise.all(Array.from({ length: 8 }, () => md.client.listProjects({})));
    expect(warm[0]?.projects.map((p) => p.name)).toContain("stall");
    proxy.stall();

    // More calls than the pool has connections: every one of them meets the stall.
    const stalled = await Promise.all(Array.from({ length: 6 }, () => outcome(md.client.listProjects({}, { timeoutMs: 1500 }))));
    for (const call of stalled) {
      expect(call.code).toBe("DeadlineExceeded");
      expect(call.ms).toBeLessThan(3000);
    }

    // Only new connections get through: the service must have abandoned the stalled ones, not left
    // the pool full of queries that will never return.
    proxy.resume();
    const after = await outcome(md.client.listProjects({}, { timeoutMs: 4000 }));
    expect(after.code).toBe("OK");
    expect((await md.client.getProject({ name: "stall" }, { timeoutMs: 4000 })).project?.name).toBe("stall");
  }, 60_000);
});
