import { describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { INTERNAL_MESSAGE, NotFoundError } from "@granary/errors";
import { ChangeKind, MetadataService, Role, type AuditEvent } from "@granary/proto/metadata";
import { RegistryService } from "@granary/proto/registry";
import { currentCallDeadline } from "./call-deadline.js";
import { createInProcessClient, principalKey } from "./index.js";

// The in-process tier: handlers behind connect's router transport, through the server's pipeline.
const KEYS = {
  tok_admin: { user: "ada", admin: true },
  tok_viewer: { user: "vera", scopes: [{ project: "fraud", role: Role.VIEWER }] },
  tok_scientist: { user: "sam", scopes: [{ project: "fraud", role: Role.DATA_SCIENTIST }] },
};

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(err)}`);
  return err;
}

const audited: AuditEvent[] = [];
const seen = { deadlineMs: undefined as number | undefined, chunks: 0 };

function metadata(apiKey?: string) {
  return createInProcessClient(
    MetadataService,
    {
      getProject(req, ctx) {
        if (req.name === "missing") throw new NotFoundError(`project "${req.name}" does not exist`);
        if (req.name === "boom") throw new Error("SELECT * FROM projects: connection reset");
        seen.deadlineMs = currentCallDeadline()?.deadlineMs;
        return { project: { name: req.name, description: `for ${ctx.values.get(principalKey).name}` } };
      },
      createProject: (req) => ({ project: { name: req.name } }),
      recordModel: () => ({}),
      async *watchChanges(req) {
        for (let i = 1; i <= 2; i++) yield { change: { revision: req.fromRevision + BigInt(i), kind: ChangeKind.CREATED, project: req.project } };
        throw new NotFoundError("no more changes");
      },
    },
    { keys: KEYS, apiKey, audit: (e) => audited.push(e) },
  );
}

describe("an in-process client", () => {
  it("reaches the handlers with the caller's principal and the call's deadline", async () => {
    const before = Date.now();
    const res = await metadata("tok_viewer").getProject({ name: "fraud" }, { timeoutMs: 5000 });
    expect(res.project?.description).toBe("for vera");
    expect(seen.deadlineMs).toBeGreaterThanOrEqual(before + 5000);
  });

  it("authenticates and authorizes as the server does", async () => {
    expect(Code[(await failure(metadata().getProject({ name: "fraud" }))).code]).toBe("Unauthenticated");
    expect(Code[(await failure(metadata("tok_unknown").getProject({ name: "fraud" }))).code]).toBe("Unauthenticated");
    // A project the caller has no role in is hidden; an admin-only or service-only method is refused.
    const hidden = await failure(metadata("tok_viewer").getProject({ name: "churn" }));
    expect([Code[hidden.code], hidden.rawMessage]).toEqual(["NotFound", 'project "churn" does not exist or you have no role in it']);
    expect(Code[(await failure(metadata("tok_viewer").createProject({ name: "churn" }))).code]).toBe("PermissionDenied");
    expect(Code[(await failure(metadata("tok_admin").recordModel({ project: "fraud", model: "m", registryId: "1" }))).code]).toBe("PermissionDenied");
  });

  it("validates requests before the handler runs", async () => {
    const bad = await failure(metadata("tok_admin").getProject({ name: "Not An Identifier" }));
    expect(Code[bad.code]).toBe("InvalidArgument");
    expect(bad.rawMessage).toContain("name must be an identifier");
  });

  it("maps errors in one place: typed ones keep their code, anything else is INTERNAL", async () => {
    const missing = await failure(metadata("tok_admin").getProject({ name: "missing" }));
    expect([Code[missing.code], missing.rawMessage]).toEqual(["NotFound", 'project "missing" does not exist']);
    const boom = await failure(metadata("tok_admin").getProject({ name: "boom" }));
    expect([Code[boom.code], boom.rawMessage]).toEqual(["Internal", INTERNAL_MESSAGE]);
  });

  it("audits calls that change something, with their outcome", async () => {
    audited.length = 0;
    await metadata("tok_admin").createProject({ name: "churn" });
    await failure(metadata("tok_viewer").createProject({ name: "churn" }));
    expect(audited.map((e) => [e.actor, e.method, e.code])).toEqual([
      ["ada", "granary.metadata.v1.MetadataService/CreateProject", "OK"],
      ["vera", "granary.metadata.v1.MetadataService/CreateProject", "PERMISSION_DENIED"],
    ]);
  });

  it("streams responses and maps an error in the middle of a stream", async () => {
    const revisions: bigint[] = [];
    const err = await failure(
      (async () => {
        for await (const res of metadata("tok_viewer").watchChanges({ project: "fraud", fromRevision: 10n })) revisions.push(res.change!.revision);
      })(),
    );
    expect(revisions).toEqual([11n, 12n]);
    expect([Code[err.code], err.rawMessage]).toEqual(["NotFound", "no more changes"]);
    expect(Code[(await failure(metadata("tok_viewer").watchChanges({ project: "churn" })[Symbol.asyncIterator]().next())).code]).toBe("NotFound");
  });

  it("authorizes a client stream on its first message and validates every one", async () => {
    const registry = (apiKey: string) =>
      createInProcessClient(
        RegistryService,
        {
          async uploadArtifact(requests) {
            for await (const r of requests) if (r.message.case === "chunk") seen.chunks++;
            return { artifact: { path: "model.bin" } };
          },
        },
        { keys: KEYS, apiKey },
      );
    async function* upload(path: string) {
      yield { message: { case: "header" as const, value: { project: "fraud", model: "m", version: 1, path } } };
      yield { message: { case: "chunk" as const, value: new Uint8Array([1, 2, 3]) } };
    }
    expect((await registry("tok_scientist").uploadArtifact(upload("model.bin"))).artifact?.path).toBe("model.bin");
    expect(seen.chunks).toBe(1);
    expect(Code[(await failure(registry("tok_viewer").uploadArtifact(upload("model.bin")))).code]).toBe("PermissionDenied");
    expect(seen.chunks).toBe(1);
  });
});
