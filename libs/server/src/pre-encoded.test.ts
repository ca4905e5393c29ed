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
import { preEncodedBytes } from "./pre-encoded.js";

// A handler returning bytes it encoded itself answers the same on the grpc-js server (which sends
// the bytes) and in-process (where connect serialises the message's fields).
const project = create(GetProjectResponseSchema, { project: { name: "fraud", description: "cards", etag: "7" } });
const handlers = defineService(MetadataService, {
  getProject: () => preEncoded(GetProjectResponseSchema, toBinary(GetProjectResponseSchema, project)),
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

  it("leaves unset message fields unset", () => {
    const empty = create(GetProjectResponseSchema, preEncoded(GetProjectResponseSchema, new Uint8Array()));
    expect(empty.project).toBeUndefined();
    expect(toBinary(GetProjectResponseSchema, empty)).toEqual(new Uint8Array());
  });
});
