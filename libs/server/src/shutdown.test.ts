import { afterEach, describe, expect, it } from "@jest/globals";
import { connect } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createServiceClient } from "@granary/service-clients";
import { ChangeKind, MetadataService } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { createAccessControl, NO_LOOKUPS } from "@granary/auth";
import { createLogger } from "@granary/telemetry";
import { checkHealth } from "@granary/testing";
import { createServer, defineService, type GranaryServer } from "./index.js";

// Handlers that never end, not even when their signal aborts: the worst a shutdown can meet.
const forever = new Promise<never>(() => {});
let server: GranaryServer | undefined;

function startServer(drainDelayMs = 0): Promise<GranaryServer> {
  const started = createServer({
    name: "stubborn",
    config: { host: "127.0.0.1", port: 0, httpPort: 0, maxMessageBytes: 1 << 20, drainDelayMs, shutdownGraceMs: 300 },
    logger: createLogger({ level: "silent", service: "stubborn" }),
    access: createAccessControl({ enabled: false, lookups: NO_LOOKUPS, service: "test", logger: createLogger({ level: "silent", service: "test" }) }),
    services: [
      defineService(MetadataService, {
        async getProject(req) {
          // "quick": answers within the grace period; anything else never answers.
          if (req.name === "quick") {
            await new Promise((r) => setTimeout(r, 150));
            return { project: { name: "quick" } };
          }
          return forever;
        },
        async *watchChanges(req) {
          yield { change: { revision: req.fromRevision + 1n, kind: ChangeKind.CREATED, project: req.project } };
          await forever;
        },
      }),
      defineService(OfflineService, {
        async *getTrainingData(requests) {
          for await (const _ of requests) yield {};
        },
      }),
    ],
  });
  server = started;
  return started.start().then(() => started);
}

afterEach(async () => {
  await server?.shutdown();
  server = undefined;
});

async function failureOf(run: () => Promise<unknown>): Promise<ConnectError | undefined> {
  return run().then(
    () => undefined,
    (err: unknown) => ConnectError.from(err),
  );
}

describe("calls still running when the shutdown grace period ends", () => {
  it("end with UNAVAILABLE telling the client to retry, for every kind of call", async () => {
    const s = await startServer();
    const metadata = createServiceClient(MetadataService, s.address);
    const offline = createServiceClient(OfflineService, s.address);
    let streamed = 0;
    let answered = 0;
    const watch = failureOf(async () => {
      for await (const _ of metadata.watchChanges({ project: "p", fromRevision: 1n })) streamed++;
    });
    const unary = failureOf(() => metadata.getProject({ name: "p" }));
    async function* requests() {
      yield { message: { case: "query" as const, value: { project: "p", featureView: { name: "v", version: 1 } } } };
      await forever;
    }
    const bidi = failureOf(async () => {
      for await (const _ of offline.getTrainingData(requests())) answered++;
    });
    // Every call is running before shutdown starts.
    while (streamed === 0 || answered === 0) await new Promise((r) => setTimeout(r, 10));

    await s.shutdown();
    for (const err of await Promise.all([watch, unary, bidi])) {
      expect(err && Code[err.code]).toBe("Unavailable");
      expect(err?.rawMessage).toBe("server is shutting down; retry");
    }
  });
});

describe("the HTTP port (Connect, gRPC-Web) at shutdown", () => {
  it("ends calls still running at the grace period with UNAVAILABLE, for every kind of call", async () => {
    const s = await startServer();
    const h1 = createConnectTransport({ baseUrl: `http://${s.httpAddress!}`, httpVersion: "1.1" });
    const h2 = createConnectTransport({ baseUrl: `http://${s.httpAddress!}`, httpVersion: "2" });
    const web = createGrpcWebTransport({ baseUrl: `http://${s.httpAddress!}`, httpVersion: "1.1" });
    let streamed = 0;
    let answered = 0;
    const watch = failureOf(async () => {
      for await (const _ of createClient(MetadataService, h1).watchChanges({ project: "p", fromRevision: 1n })) streamed++;
    });
    const unary = failureOf(() => createClient(MetadataService, h1).getProject({ name: "p" }));
    const unaryWeb = failureOf(() => createClient(MetadataService, web).getProject({ name: "p" }));
    async function* requests() {
      yield { message: { case: "query" as const, value: { project: "p", featureView: { name: "v", version: 1 } } } };
      await forever;
    }
    const bidi = failureOf(async () => {
      for await (const _ of createClient(OfflineService, h2).getTrainingData(requests())) answered++;
    });
    while (streamed === 0 || answered === 0) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));

    const started = performance.now();
    await s.shutdown();
    // The grace period (300 ms) and the flush (500 ms), not the handlers that never end.
    expect(performance.now() - started).toBeLessThan(3000);
    for (const err of await Promise.all([watch, unary, unaryWeb, bidi])) {
      expect(err && Code[err.code]).toBe("Unavailable");
      expect(err?.rawMessage).toBe("server is shutting down; retry");
    }
  });

  it("lets a call that ends within the grace period answer, and refuses new connections", async () => {
    const s = await startServer();
    const client = createClient(MetadataService, createConnectTransport({ baseUrl: `http://${s.httpAddress!}`, httpVersion: "1.1" }));
    const quick = client.getProject({ name: "quick" });
    await new Promise((r) => setTimeout(r, 30));
    const stopping = s.shutdown();
    expect((await quick).project?.name).toBe("quick");
    await stopping;
    const [host, port] = s.httpAddress!.split(":");
    const refused = await new Promise<string>((resolve) => {
      const socket = connect({ host: host!, port: Number(port) }, () => {
        socket.destroy();
        resolve("connected");
      });
      socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
    });
    expect(refused).toBe("ECONNREFUSED");
  });
});

describe("beginShutdown", () => {
  it("takes the server out of SERVING at once, and shutdown waits only what is left of the drain delay", async () => {
    const s = await startServer(400);
    s.setServing(true);
    s.beginShutdown();
    expect(await checkHealth(s.address)).toBe("NOT_SERVING");
    expect(s.drainSignal.aborted).toBe(true);
    // Still answering during the drain delay: load balancers are only being told to move away.
    await new Promise((r) => setTimeout(r, 400));
    const started = performance.now();
    await s.shutdown();
    expect(performance.now() - started).toBeLessThan(400);
  });
});
