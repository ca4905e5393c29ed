import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, decodeBinaryHeader, type CallOptions, type Transport } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ValidationReportSchema } from "@granary/proto/metadata";
import { FeatureVectorsSchema, GetFeatureVectorsRequestSchema, GetFeatureVectorsResponseSchema, OnlineService } from "@granary/proto/online";
import { apiKeyInterceptor } from "./call-policy.js";
import { createGrpcJsTransport } from "./grpc-js-transport.js";
import { callWithRawField } from "./raw-field-call.js";
import { validationReportOf } from "./validation-report.js";

// The grpc-js transport against a grpc-js server, side by side with connect-node's gRPC transport
// (what the SDK used before): the same results and the same ConnectErrors.
const report = create(ValidationReportSchema, { id: "r1", project: "p", success: false, ingested: false });
const vectors = create(FeatureVectorsSchema, { rowCount: 2 });
const seen: { project: string; authorization: unknown; traceparent: unknown; peer: string }[] = [];

function statusOf(err: ConnectError): Partial<grpc.StatusObject> {
  const trailer = setTrailerStatus(new Headers(), err);
  const metadata = new grpc.Metadata();
  const details = trailer.get("grpc-status-details-bin");
  if (details) metadata.set("grpc-status-details-bin", Buffer.from(decodeBinaryHeader(details)));
  return { code: err.code as number, details: err.rawMessage, metadata };
}

const server = new grpc.Server();
server.register<Buffer, Buffer>(
  `/${OnlineService.typeName}/GetFeatureVectors`,
  (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
    const req = fromBinary(GetFeatureVectorsRequestSchema, call.request);
    seen.push({
      project: req.project,
      authorization: call.metadata.get("authorization")[0],
      traceparent: call.metadata.get("traceparent")[0],
      peer: call.getPeer(),
    });
    const trailer = new grpc.Metadata();
    trailer.set("x-served-by", "test");
    const ok = () => callback(null, Buffer.from(toBinary(GetFeatureVectorsResponseSchema, create(GetFeatureVectorsResponseSchema, { vectors }))), trailer);
    switch (req.project) {
      case "missing":
        return callback(statusOf(new ConnectError('feature view "v" does not exist in project "p" (100 % ✓)', Code.NotFound)));
      case "refused": {
        const err = new ConnectError("a FAIL rule broke", Code.FailedPrecondition);
        err.details = [{ desc: ValidationReportSchema, value: report }];
        return callback(statusOf(err));
      }
      case "slow":
        return void setTimeout(ok, 300);
      default:
        return ok();
    }
  },
  (b: Buffer) => b,
  (b: Buffer) => b,
  "unary",
);

let address = "";
const transports: { name: string; transport: Transport }[] = [];
let lean: ReturnType<typeof createGrpcJsTransport>;
let pooled: ReturnType<typeof createGrpcJsTransport>;

beforeAll(async () => {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  address = `127.0.0.1:${port}`;
  const interceptors = [apiKeyInterceptor("k1")];
  lean = createGrpcJsTransport(address, { interceptors, tls: undefined });
  pooled = createGrpcJsTransport(address, { interceptors, tls: undefined, connections: 2 });
  transports.push({ name: "grpc-js", transport: lean });
  transports.push({ name: "connect-node", transport: createGrpcTransport({ baseUrl: `http://${address}`, interceptors }) });
});

afterAll(async () => {
  lean.close();
  pooled.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

const call = (transport: Transport, project: string, options: CallOptions = {}) =>
  callWithRawField(transport, OnlineService.method.getFeatureVectors, { project }, options, 1);

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    return err as ConnectError;
  }
  throw new Error("the call succeeded");
}

const comparable = (e: ConnectError) => ({ code: e.code, rawMessage: e.rawMessage, details: e.details });

describe("createGrpcJsTransport", () => {
  it("calls through the interceptors, sends the headers and leaves field 1 as bytes", async () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let servedBy: string | null = null;
    const res = await call(lean, "headers", { headers: { traceparent }, timeoutMs: 5_000, onTrailer: (t) => (servedBy = t.get("x-served-by")) });
    expect(servedBy).toBe("test");
    expect(res.raw).toEqual(toBinary(FeatureVectorsSchema, vectors));
    expect(seen.filter((s) => s.project === "headers")).toEqual([{ project: "headers", authorization: "Bearer k1", traceparent, peer: expect.any(String) }]);
  });

  it("gives connect-node's ConnectError for an error status", async () => {
    const [a, b] = await Promise.all(transports.map(({ transport }) => failure(call(transport, "missing"))));
    expect(comparable(a!)).toEqual(comparable(b!));
    expect(a!.code).toBe(Code.NotFound);
    expect(a!.rawMessage).toBe('feature view "v" does not exist in project "p" (100 % ✓)');
  });

  it("keeps the error details (grpc-status-details-bin)", async () => {
    const [a, b] = await Promise.all(transports.map(({ transport }) => failure(call(transport, "refused"))));
    expect(comparable(a!)).toEqual(comparable(b!));
    expect(validationReportOf(a)).toEqual(report);
  });

  it("ends a call at its deadline with connect's DEADLINE_EXCEEDED", async () => {
    const [a, b] = await Promise.all(transports.map(({ transport }) => failure(call(transport, "slow", { timeoutMs: 30 }))));
    expect(comparable(a!)).toEqual(comparable(b!));
    expect(a!.code).toBe(Code.DeadlineExceeded);
  });

  it("cancels a call when its signal aborts, as connect does", async () => {
    const errors = await Promise.all(
      transports.map(({ transport }) => {
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 20);
        return failure(call(transport, "slow", { signal: controller.signal }));
      }),
    );
    expect(comparable(errors[0]!)).toEqual(comparable(errors[1]!));
    expect(errors[0]!.code).toBe(Code.Canceled);
    const already = await failure(call(lean, "p", { signal: AbortSignal.abort() }));
    expect(already.code).toBe(Code.Canceled);
  });

  it("spreads calls over its connections round-robin", async () => {
    // (Calls of other tests may still arrive: a cancelled call's request can reach the server late.)
    for (let i = 0; i < 4; i++) await call(pooled, "round-robin");
    const peers = seen.filter((s) => s.project === "round-robin").map((s) => s.peer);
    expect(new Set(peers).size).toBe(2);
    expect(peers[0]).toBe(peers[2]);
    expect(peers[1]).toBe(peers[3]);
  });

  it("serves unary calls only", async () => {
    await expect(lean.stream(OnlineService.method.writeRows as never, undefined, undefined, undefined, (async function* () {})())).rejects.toMatchObject({
      code: Code.Unimplemented,
    });
  });
});
