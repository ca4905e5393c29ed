import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create, toBinary } from "@bufbuild/protobuf";
import { createServiceClient } from "@granary/service-clients";
import {
  ChangeKind,
  GetProjectResponseSchema,
  MetadataService,
  ProjectSchema,
  WatchChangesResponseSchema,
  type GetProjectResponse,
} from "@granary/proto/metadata";
import { createAccessControl, NO_LOOKUPS } from "@granary/auth";
import { createLogger } from "@granary/telemetry";
import { createInProcessClient, createServer, defineService, preEncoded, type GranaryServer } from "./index.js";
import { preEncodedBytes, takePreEncodedBytes } from "./pre-encoded.js";

// A handler returning bytes it encoded itself answers the same on the grpc-js server (which sends
// the bytes) and in-process (where connect serialises the message's fields).
const project = create(GetProjectResponseSchema, { project: { name: "fraud", description: "cards", etag: "7" } });
// Responses of GetProject "pooled-<n>" are encoded into one shared buffer, handed back by the
// `sent` hook: what each caller receives shows whether grpc-js copied it before the next reuse.
const pool: Uint8Array[] = [];
let pooledSent = 0;
const pooledResponse = (name: string) => {
  const bytes = toBinary(GetProjectResponseSchema, create(GetProjectResponseSchema, { project: { name, description: name.repeat(50) } }));
  const buffer = pool.pop() ?? new Uint8Array(64 * 1024);
  buffer.set(bytes);
  return preEncoded(GetProjectResponseSchema, buffer.subarray(0, bytes.length), () => {
    pooledSent++;
    // Scribbled over at once: a response not yet copied would arrive corrupt.
    buffer.fill(0x55);
    pool.push(buffer);
  });
};
const handlers = defineService(MetadataService, {
  getProject: (req) =>
    req.name.startsWith("pooled") ? pooledResponse(req.name) : preEncoded(GetProjectResponseSchema, toBinary(GetProjectResponseSchema, project)),
  async *watchChanges(req) {
    for (let i = 1n; i <= 2n; i++) {
      const change = create(WatchChangesResponseSchema, { change: { revision: req.fromRevision + i, kind: ChangeKind.CREATED, project: req.project } });
      yield preEncoded(WatchChangesResponseSchema, toBinary(WatchChangesResponseSchema, change));
    }
  },
});

let server: GranaryServer;
beforeAll(async () => {
  const silent = createLogger({ level: "silent", service: "test" });
  server = createServer({
    name: "pre-encoded",
    config: { host: "127.0.0.1", port: 0, maxMessageBytes: 1 << 20, drainDelayMs: 0, shutdownGraceMs: 1000 },
    logger: silent,
    access: createAccessControl({ enabled: false, lookups: NO_LOOKUPS, service: "test", logger: silent }),
    services: [handlers],
  });
  await server.start();
});
afterAll(() => server.shutdown());

describe("a pre-encoded response", () => {
  it("is answered alike over grpc-js and in-process", async () => {
    const clients = [createServiceClient(MetadataService, server.address), createInProcessClient(MetadataService, handlers.impl)];
    for (const client of clients) {
      expect((await client.getProject({ name: "fraud" })).project).toEqual(project.project);
      const revisions: bigint[] = [];
      for await (const res of client.watchChanges({ project: "fraud", fromRevision: 5n })) revisions.push(res.change!.revision);
      expect(revisions).toEqual([6n, 7n]);
    }
  });

  it("reads its fields from the bytes, and stops sending them once a field is set", () => {
    const init = preEncoded(GetProjectResponseSchema, toBinary(GetProjectResponseSchema, project)) as GetProjectResponse;
    expect(preEncodedBytes(init)).toBeDefined();
    expect(init.project?.description).toBe("cards");
    expect(create(GetProjectResponseSchema, init)).toEqual(project);
    expect(preEncodedBytes(init)).toBeDefined();
    // A change is what gets serialised, never the stale bytes.
    init.project = create(ProjectSchema, { name: "churn" });
    expect(preEncodedBytes(init)).toBeUndefined();
    expect(create(GetProjectResponseSchema, init).project?.name).toBe("churn");
  });

  it("hands its bytes back only after grpc-js has copied them, and never in-process", async () => {
    const client = createServiceClient(MetadataService, server.address);
    const names = Array.from({ length: 64 }, (_, i) => `pooled_${i}`);
    const answers = await Promise.all(names.map((name) => client.getProject({ name })));
    expect(answers.map((a) => [a.project?.name, a.project?.description])).toEqual(names.map((n) => [n, n.repeat(50)]));
    expect(pooledSent).toBe(64);
    // The pool never grew past the calls in flight together, and buffers were reused.
    expect(pool.length).toBeLessThan(64);

    const inProcess = createInProcessClient(MetadataService, handlers.impl);
    const sentBefore = pooledSent;
    expect((await inProcess.getProject({ name: "pooled_x" })).project?.name).toBe("pooled_x");
    expect(pooledSent).toBe(sentBefore);
  });

  it("refuses to read its fields once sent, since its bytes may be reused", async () => {
    const init = preEncoded(GetProjectResponseSchema, toBinary(GetProjectResponseSchema, project), () => {}) as GetProjectResponse;
    expect(takePreEncodedBytes(init)).toBeDefined();
    await Promise.resolve();
    expect(() => init.project).toThrow(/sent and its bytes reused/);
    expect(preEncodedBytes(init)).toBeUndefined();
  });

  it("leaves unset message fields unset", () => {
    const empty = create(GetProjectResponseSchema, preEncoded(GetProjectResponseSchema, new Uint8Array()));
    expect(empty.project).toBeUndefined();
    expect(toBinary(GetProjectResponseSchema, empty)).toEqual(new Uint8Array());
  });
});
