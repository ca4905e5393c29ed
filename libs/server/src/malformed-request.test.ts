import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { createServiceClient } from "@granary/service-clients";
import { type DatasetSplit, GetProjectRequestSchema, MetadataService } from "@granary/proto/metadata";
import { InsertRequestSchema, OfflineService } from "@granary/proto/offline";
import { createAccessControl, NO_LOOKUPS } from "@granary/auth";
import { createLogger } from "@granary/telemetry";
import { createServer, defineService, type GranaryServer } from "./index.js";

// Bytes that are not a protobuf message reach the server through a raw grpc-js client: each kind of
// call answers INVALID_ARGUMENT (grpc-js alone would say INTERNAL), and the server keeps serving.
// So does a well-formed message holding an enum number its type does not declare.
let server: GranaryServer;
let raw: grpc.Client;
const seen = { inserted: 0 };

// Field 1, length-delimited, 32 bytes announced and one sent.
const TRUNCATED = Buffer.from([0x0a, 0x20, 0x01]);
// Field number 0 does not exist.
const ILLEGAL_TAG = Buffer.from([0x00, 0x01]);
// An unknown field 15 made of 200 nested groups: protobuf-es stops at 100 levels.
const TOO_DEEP = Buffer.concat([Buffer.alloc(200, 0x7b), Buffer.alloc(200, 0x7c)]);

const identity = (b: Buffer): Buffer => b;
const VALID_INSERT = Buffer.from(
  toBinary(InsertRequestSchema, create(InsertRequestSchema, { message: { case: "chunk", value: { ipc: new Uint8Array([1]) } } })),
);

beforeAll(async () => {
  server = createServer({
    name: "malformed",
    config: { host: "127.0.0.1", port: 0, maxMessageBytes: 1 << 20, drainDelayMs: 0, shutdownGraceMs: 1000 },
    logger: createLogger({ level: "silent", service: "malformed" }),
    access: createAccessControl({ enabled: false, lookups: NO_LOOKUPS, service: "test", logger: createLogger({ level: "silent", service: "test" }) }),
    services: [
      defineService(MetadataService, {
        async getProject(req) {
          return { project: { name: req.name } };
        },
        async *watchChanges() {
          yield {};
        },
      }),
      defineService(OfflineService, {
        async insert(requests) {
          for await (const _ of requests) seen.inserted++;
          return {};
        },
        async *getTrainingData(requests) {
          for await (const _ of requests) yield {};
        },
        async *readTrainingDataset() {
          yield {};
        },
      }),
    ],
  });
  await server.start();
  server.setServing(true);
  raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  raw.close();
  await server.shutdown();
});

function unary(path: string, body: Buffer): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve) => {
    raw.makeUnaryRequest(path, identity, identity, body, (err: grpc.ServiceError | null) => resolve(err ?? undefined));
  });
}

function clientStream(path: string, bodies: Buffer[]): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve) => {
    const call = raw.makeClientStreamRequest(path, identity, identity, (err: grpc.ServiceError | null) => resolve(err ?? undefined));
    for (const body of bodies) call.write(body);
    call.end();
  });
}

function streamStatus(call: grpc.ClientReadableStream<Buffer>): Promise<grpc.StatusObject> {
  return new Promise((resolve) => {
    call.on("data", () => undefined);
    call.on("error", () => undefined);
    call.on("status", resolve);
  });
}

describe("requests that are not valid protobuf", () => {
  it.each([
    ["truncated", TRUNCATED],
    ["an illegal tag", ILLEGAL_TAG],
  ])("answer INVALID_ARGUMENT on a unary call (%s)", async (_name, body) => {
    const err = await unary("/granary.metadata.v1.MetadataService/GetProject", body);
    expect(grpc.status[err?.code ?? 0]).toBe("INVALID_ARGUMENT");
    expect(err?.details).toBe("the request is not a valid granary.metadata.v1.GetProjectRequest message");
  });

  it("answer INVALID_ARGUMENT when nested too deeply", async () => {
    const err = await unary("/granary.metadata.v1.MetadataService/GetProject", TOO_DEEP);
    expect(grpc.status[err?.code ?? 0]).toBe("INVALID_ARGUMENT");
    expect(err?.details).toBe("the request is not a valid granary.metadata.v1.GetProjectRequest message (nested too deeply)");
  });

  it("answer INVALID_ARGUMENT on a server-streaming call", async () => {
    const status = await streamStatus(raw.makeServerStreamRequest("/granary.metadata.v1.MetadataService/WatchChanges", identity, identity, TRUNCATED));
    expect(grpc.status[status.code]).toBe("INVALID_ARGUMENT");
    expect(status.details).toContain("not a valid granary.metadata.v1.WatchChangesRequest message");
  });

  it("answer INVALID_ARGUMENT on a client-streaming call, first message or later", async () => {
    for (const bodies of [[TRUNCATED], [VALID_INSERT, VALID_INSERT, ILLEGAL_TAG, VALID_INSERT]]) {
      const err = await clientStream("/granary.offline.v1.OfflineService/Insert", bodies);
      expect(grpc.status[err?.code ?? 0]).toBe("INVALID_ARGUMENT");
      expect(err?.details).toBe("the request is not a valid granary.offline.v1.InsertRequest message");
    }
  });

  it("answer INVALID_ARGUMENT on a bidirectional call", async () => {
    const call = raw.makeBidiStreamRequest("/granary.offline.v1.OfflineService/GetTrainingData", identity, identity);
    const status = streamStatus(call);
    call.write(TOO_DEEP);
    call.end();
    const { code, details } = await status;
    expect(grpc.status[code]).toBe("INVALID_ARGUMENT");
    expect(details).toContain("not a valid granary.offline.v1.GetTrainingDataRequest message");
  });

  it("refuse an enum number no value declares before the handler runs (split=99)", async () => {
    const client = createServiceClient(OfflineService, server.address);
    const read = async () => {
      for await (const _ of client.readTrainingDataset({ project: "p", featureView: { name: "v", version: 1 }, version: 1, split: 99 as DatasetSplit })) break;
    };
    const err = await read().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toBe("invalid request: split: 99 is not a value of granary.metadata.v1.DatasetSplit");
  });

  it("leave the server serving valid calls, raw and typed", async () => {
    const body = Buffer.from(toBinary(GetProjectRequestSchema, create(GetProjectRequestSchema, { name: "still_here" })));
    expect(await unary("/granary.metadata.v1.MetadataService/GetProject", body)).toBeUndefined();
    const before = seen.inserted;
    expect(await clientStream("/granary.offline.v1.OfflineService/Insert", [VALID_INSERT, VALID_INSERT])).toBeUndefined();
    expect(seen.inserted - before).toBe(2);
    const client = createServiceClient(MetadataService, server.address);
    expect((await client.getProject({ name: "typed" })).project?.name).toBe("typed");
  });
});
