import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServiceClient } from "@granary/service-clients";
import { OfflineService } from "@granary/proto/offline";
import { createAccessControl, NO_LOOKUPS } from "@granary/auth";
import { createLogger } from "@granary/telemetry";
import { createServer, defineService, type GranaryServer } from "./index.js";

// A bidirectional call that answers only after reading every request: the server must not end the
// call when the request stream ends.
let server: GranaryServer;

beforeAll(async () => {
  server = createServer({
    name: "bidi",
    config: { host: "127.0.0.1", port: 0, maxMessageBytes: 1 << 20, drainDelayMs: 0, shutdownGraceMs: 1000 },
    logger: createLogger({ level: "silent", service: "bidi" }),
    access: createAccessControl({ enabled: false, lookups: NO_LOOKUPS, service: "test", logger: createLogger({ level: "silent", service: "test" }) }),
    services: [
      defineService(OfflineService, {
        async *getTrainingData(requests) {
          const chunks: Uint8Array[] = [];
          for await (const req of requests) if (req.message.case === "spineChunk") chunks.push(req.message.value.ipc);
          await new Promise((r) => setTimeout(r, 20));
          for (const c of chunks) yield { chunk: { ipc: c } };
        },
      }),
    ],
  });
  await server.start();
});
afterAll(() => server.shutdown());

describe("bidirectional streams", () => {
  it("keep writing responses after the client has sent its last request", async () => {
    const client = createServiceClient(OfflineService, server.address);
    async function* requests() {
      yield { message: { case: "query" as const, value: { project: "p", featureView: { name: "v", version: 1 } } } };
      for (let i = 1; i <= 3; i++) yield { message: { case: "spineChunk" as const, value: { ipc: new Uint8Array([i]) } } };
    }
    const got: number[] = [];
    for await (const res of client.getTrainingData(requests(), { timeoutMs: 5000 })) got.push(res.chunk?.ipc[0] ?? -1);
    expect(got).toEqual([1, 2, 3]);
  });
});
