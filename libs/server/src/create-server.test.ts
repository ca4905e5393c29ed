import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { createServiceClient } from "@granary/service-clients";
import { INTERNAL_MESSAGE, NotFoundError } from "@granary/errors";
import { ChangeKind, CreateProjectRequestSchema, MetadataService, ProjectSchema } from "@granary/proto/metadata";
import { createAccessControl, NO_LOOKUPS } from "@granary/auth";
import { createLogger, startTelemetry, type Telemetry } from "@granary/telemetry";
import { captureLogs, checkHealth, waitFor, watchHealth } from "@granary/testing";
import { createServer, defineService, LIVENESS_HEALTH_NAME, type GranaryServer } from "./index.js";

// A real grpc-js server on a loopback port, with handlers that misbehave on request.
let server: GranaryServer;
let client: Client<typeof MetadataService>;
let telemetry: Telemetry;
const logs = captureLogs();
const seen = { slowAborted: false, lastTraceId: "" };

beforeAll(async () => {
  telemetry = startTelemetry({ enabled: true, serviceName: "test", otlpEndpoint: undefined, tracesExporter: "none", metricsExporter: "none" });
  server = createServer({
    name: "test",
    config: { host: "127.0.0.1", port: 0, maxMessageBytes: 64 * 1024, drainDelayMs: 0, shutdownGraceMs: 2000 },
    logger: createLogger({ level: "debug", service: "test", destination: logs.destination }),
    access: createAccessControl({ enabled: false, lookups: NO_LOOKUPS, service: "test", logger: createLogger({ level: "silent", service: "test" }) }),
    services: [
      defineService(MetadataService, {
        async getProject(req, ctx) {
          if (req.name === "missing") throw new NotFoundError(`project "${req.name}" does not exist`);
          if (req.name === "detailed" || req.name === "overdetailed") {
            // A detail message of the service's own kind, standing in for a rejected insert's ValidationReport.
            const detail = {
              desc: ProjectSchema,
              value: create(ProjectSchema, { name: "why", description: "x".repeat(req.name === "detailed" ? 100 : 40_000) }),
            };
            throw new ConnectError("refused, with details", Code.FailedPrecondition, undefined, [detail]);
          }
          if (req.name === "boom") {
            throw new Error('duplicate key value violates unique constraint "projects_pkey": INSERT INTO projects VALUES ($1)');
          }
          if (req.name === "slow") {
            await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
            seen.slowAborted = true;
            ctx.signal.throwIfAborted();
          }
          return { project: { name: req.name, description: ctx.requestHeader.get("x-note") ?? "" } };
        },
        async createProject(req) {
          return { project: { name: req.name, description: req.description } };
        },
        async *watchChanges(req) {
          for (let i = 1; i <= 3; i++) {
            yield { change: { revision: req.fromRevision + BigInt(i), kind: ChangeKind.CREATED, project: req.project } };
          }
          throw new NotFoundError("no more changes after revision 3");
        },
      }),
    ],
  });
  await server.start();
  client = createServiceClient(MetadataService, server.address);
});

afterAll(async () => {
  await server.shutdown();
  await telemetry.shutdown();
});

async function expectCode(call: Promise<unknown>, code: Code): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  expect(Code[(err as ConnectError).code]).toBe(Code[code]);
  return err as ConnectError;
}

describe("createServer", () => {
  it("answers a call from a typed client", async () => {
    const res = await client.getProject({ name: "fraud" }, { headers: { "x-note": "hello" } });
    expect(res.project?.name).toBe("fraud");
    expect(res.project?.description).toBe("hello");
  });

  it("reports NOT_SERVING until the service says it is ready", async () => {
    expect(await checkHealth(server.address)).toBe("NOT_SERVING");
    // Liveness answers for the process alone: SERVING while the service is not ready yet.
    expect(await checkHealth(server.address, LIVENESS_HEALTH_NAME)).toBe("SERVING");
    expect(await checkHealth(server.address, "granary.metadata.v1.MetadataService")).toBe("NOT_SERVING");
    server.setServing(true);
    expect(await checkHealth(server.address)).toBe("SERVING");
    expect(await checkHealth(server.address, "granary.metadata.v1.MetadataService")).toBe("SERVING");
  });

  it("maps typed errors to their status with the message intact", async () => {
    const err = await expectCode(client.getProject({ name: "missing" }), Code.NotFound);
    expect(err.rawMessage).toBe('project "missing" does not exist');
  });

  it("turns an unexpected error into INTERNAL without stack or SQL, and logs the cause with the trace id", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const err = await expectCode(client.getProject({ name: "boom" }, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } }), Code.Internal);
    expect(err.rawMessage).toBe(INTERNAL_MESSAGE);
    expect(err.rawMessage).not.toMatch(/INSERT|projects_pkey|at .*\.ts/);
    const line = await waitFor(() => logs.lines().find((l) => l.msg === "rpc failed with an unexpected error"), { what: "error log" });
    expect(line?.trace_id).toBe(traceId);
    expect(JSON.stringify(line?.err)).toContain("projects_pkey");
  });

  it("rejects invalid requests before the handler, naming the field", async () => {
    const err = await expectCode(client.createProject({ name: "Bad; DROP TABLE" }), Code.InvalidArgument);
    expect(err.rawMessage).toContain("name must be an identifier");
  });

  it("answers UNIMPLEMENTED for a method without a handler", async () => {
    await expectCode(client.listProjects({}), Code.Unimplemented);
  });

  it("refuses a message over the size limit with RESOURCE_EXHAUSTED", async () => {
    await expectCode(client.createProject({ name: "big", description: "x".repeat(100 * 1024) }), Code.ResourceExhausted);
    // and keeps serving
    expect((await client.getProject({ name: "after" })).project?.name).toBe("after");
  });

  it("ends a slow call at its deadline and the handler sees the abort", async () => {
    seen.slowAborted = false;
    await expectCode(client.getProject({ name: "slow" }, { timeoutMs: 50 }), Code.DeadlineExceeded);
    await waitFor(() => seen.slowAborted, { what: "handler abort" });
  });

  it("streams responses, then the error that ended the stream", async () => {
    const revisions: bigint[] = [];
    const err = await (async () => {
      for await (const res of client.watchChanges({ project: "p", fromRevision: 10n })) revisions.push(res.change?.revision ?? 0n);
    })().catch((e: unknown) => e);
    expect(revisions).toEqual([11n, 12n, 13n]);
    expect(ConnectError.from(err).code).toBe(Code.NotFound);
  });

  it("serves a plain @grpc/grpc-js client", async () => {
    const raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
    const body = Buffer.from(toBinary(CreateProjectRequestSchema, create(CreateProjectRequestSchema, { name: "raw_client" })));
    const bytes = await new Promise<Buffer>((resolve, reject) =>
      raw.makeUnaryRequest(
        "/granary.metadata.v1.MetadataService/CreateProject",
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        (err: grpc.ServiceError | null, res?: Buffer) => (err ? reject(err) : resolve(res ?? Buffer.alloc(0))),
      ),
    );
    raw.close();
    expect(bytes.toString("latin1")).toContain("raw_client");
  });
});

describe("shutdown", () => {
  it("reports NOT_SERVING to watchers as soon as draining starts, then stops", async () => {
    const drainee = createServer({
      name: "drain",
      config: { host: "127.0.0.1", port: 0, maxMessageBytes: 1 << 20, drainDelayMs: 300, shutdownGraceMs: 500 },
      logger: createLogger({ level: "silent", service: "drain" }),
      access: createAccessControl({ enabled: false, lookups: NO_LOOKUPS, service: "test", logger: createLogger({ level: "silent", service: "test" }) }),
      services: [defineService(MetadataService, {})],
    });
    await drainee.start();
    drainee.setServing(true);
    const watch = watchHealth(drainee.address);
    await waitFor(() => watch.statuses.includes("SERVING"), { what: "SERVING" });
    const stopped = drainee.shutdown();
    await waitFor(() => watch.statuses.at(-1) === "NOT_SERVING", { what: "NOT_SERVING on watch" });
    expect(await checkHealth(drainee.address)).toBe("NOT_SERVING");
    expect(await checkHealth(drainee.address, LIVENESS_HEALTH_NAME)).toBe("SERVING");
    expect(drainee.drainSignal.aborted).toBe(true);
    watch.close();
    await stopped;
    await expect(checkHealth(drainee.address, "", 500)).rejects.toThrow();
  });
});

describe("authentication off", () => {
  const open = () => createAccessControl({ enabled: false, lookups: NO_LOOKUPS, service: "test", logger: createLogger({ level: "silent", service: "test" }) });

  it("is refused unless the server binds a loopback address", async () => {
    const exposed = createServer({
      name: "exposed",
      config: { host: "0.0.0.0", port: 0, maxMessageBytes: 1 << 20, drainDelayMs: 0, shutdownGraceMs: 500 },
      logger: createLogger({ level: "silent", service: "exposed" }),
      access: open(),
      services: [defineService(MetadataService, {})],
    });
    await expect(exposed.start()).rejects.toThrow(/authentication is off .* only on a loopback address/);
  });

  it("says so loudly when it starts on loopback", async () => {
    const local = captureLogs();
    const server = createServer({
      name: "local",
      config: { host: "127.0.0.1", port: 0, maxMessageBytes: 1 << 20, drainDelayMs: 0, shutdownGraceMs: 500 },
      logger: createLogger({ level: "info", service: "local", destination: local.destination }),
      access: open(),
      services: [defineService(MetadataService, {})],
    });
    await server.start();
    await server.shutdown();
    expect(local.lines().some((l) => l.level === "warn" && /AUTHENTICATION IS OFF/.test(String(l.msg)))).toBe(true);
  });
});

describe("error details", () => {
  it("sends a handler's error details as the standard google.rpc.Status, which connect-es reads back", async () => {
    const err = await client.getProject({ name: "detailed" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.FailedPrecondition);
    expect(err?.rawMessage).toBe("refused, with details");
    const [detail] = err!.findDetails(ProjectSchema);
    expect(detail?.name).toBe("why");
    expect(detail?.description).toHaveLength(100);
  });

  it("leaves out details too large for the trailers and says so, instead of losing the whole status", async () => {
    const err = await client.getProject({ name: "overdetailed" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.FailedPrecondition);
    expect(err?.rawMessage).toMatch(/^refused, with details \(its error details, \d+ bytes, were too large to send\)$/);
    expect(err!.findDetails(ProjectSchema)).toHaveLength(0);
  });
});
