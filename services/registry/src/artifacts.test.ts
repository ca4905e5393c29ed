import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { createTestDatabase, type TestDatabase } from "@granary/testing";
import { download, sha256, upload, uploadMessages } from "./testing/artifact-io.js";
import { failure } from "./testing/failure.js";
import { startTestRegistry, type TestRegistry } from "./testing/start-test-registry.js";

let db: TestDatabase;
let reg: TestRegistry;
const P = "fraud";
const MiB = 1024 * 1024;

beforeAll(async () => {
  db = await createTestDatabase("reg_artifacts");
  reg = await startTestRegistry(db.url);
});
afterAll(async () => {
  await reg.stop();
  await db.drop();
});

const blobFile = (digest: string, root = reg.blobRoot) => join(root, "sha256", digest.slice(0, 2), digest);
const temporaryFiles = (root = reg.blobRoot) =>
  existsSync(join(root, "tmp")) ? readdirSync(join(root, "tmp")).flatMap((host) => readdirSync(join(root, "tmp", host))) : [];
const blobFiles = (root = reg.blobRoot) =>
  existsSync(join(root, "sha256")) ? readdirSync(join(root, "sha256")).flatMap((p) => readdirSync(join(root, "sha256", p))) : [];

async function newVersion(model: string): Promise<number> {
  const { modelVersion } = await reg.client.createModelVersion({ modelVersion: { project: P, model } });
  return modelVersion!.version;
}

describe("upload and download", () => {
  it("moves a 50 MB artifact in chunks, both ways, with matching digests", async () => {
    const content = randomBytes(50 * 1000 * 1000);
    const digest = sha256(content);
    const version = await newVersion("big");
    const artifact = await upload(
      reg.client,
      { project: P, model: "big", version, path: "model/weights.bin", sha256: digest, contentType: "application/octet-stream" },
      content,
    );
    expect(artifact).toMatchObject({ path: "model/weights.bin", sha256: digest, sizeBytes: 50_000_000n, contentType: "application/octet-stream" });
    expect(sha256(readFileSync(blobFile(digest)))).toBe(digest);
    expect(temporaryFiles()).toEqual([]);
    await reg.client.finalizeModelVersion({ project: P, model: "big", version });

    const got = await download(reg.client, { project: P, model: "big", version, path: "model/weights.bin" });
    expect(got.error).toBeUndefined();
    expect(got.artifact?.sha256).toBe(digest);
    expect(got.chunkSizes.length).toBeGreaterThan(40);
    expect(Math.max(...got.chunkSizes)).toBeLessThanOrEqual(MiB);
    expect(got.content.byteLength).toBe(content.byteLength);
    expect(sha256(got.content)).toBe(digest);
    const listed = await reg.client.listArtifacts({ project: P, model: "big", version });
    expect(listed.artifacts.map((a) => [a.path, a.sha256])).toEqual([["model/weights.bin", digest]]);
  }, 60_000);

  it("accepts an upload without a digest, of any chunking, and an empty file", async () => {
    const version = await newVersion("small");
    const content = randomBytes(100_000);
    const a = await upload(reg.client, { project: P, model: "small", version, path: "model.pkl" }, content, 777);
    expect(a.sha256).toBe(sha256(content));
    const empty = await upload(reg.client, { project: P, model: "small", version, path: "empty.txt" }, new Uint8Array(0));
    expect(empty).toMatchObject({ sizeBytes: 0n, sha256: sha256(new Uint8Array(0)) });
    const got = await download(reg.client, { project: P, model: "small", version, path: "empty.txt" });
    expect(got.error).toBeUndefined();
    expect(got.content.byteLength).toBe(0);
  });

  it("fails DATA_LOSS on a digest mismatch and stores nothing", async () => {
    const version = await newVersion("mismatch");
    const content = randomBytes(3 * MiB);
    const before = blobFiles().length;
    const err = await failure(upload(reg.client, { project: P, model: "mismatch", version, path: "m.bin", sha256: sha256(Buffer.from("other")) }, content));
    expect(Code[err.code]).toBe("DataLoss");
    expect(err.rawMessage).toContain("nothing was stored");
    expect((await reg.client.listArtifacts({ project: P, model: "mismatch", version })).artifacts).toEqual([]);
    expect(blobFiles().length).toBe(before);
    expect(existsSync(blobFile(sha256(content)))).toBe(false);
    expect(temporaryFiles()).toEqual([]);
  });

  it("refuses content past the size limit with RESOURCE_EXHAUSTED and removes the temporary file", async () => {
    const small = await startTestRegistry(db.url, { GRANARY_REGISTRY_MAX_ARTIFACT_MB: "1" });
    try {
      const { modelVersion } = await small.client.createModelVersion({ modelVersion: { project: P, model: "limited" } });
      const err = await failure(
        upload(small.client, { project: P, model: "limited", version: modelVersion!.version, path: "big.bin" }, randomBytes(MiB + 1), 256 * 1024),
      );
      expect(Code[err.code]).toBe("ResourceExhausted");
      expect(err.rawMessage).toContain("GRANARY_REGISTRY_MAX_ARTIFACT_MB");
      expect(temporaryFiles(small.blobRoot)).toEqual([]);
      expect(blobFiles(small.blobRoot)).toEqual([]);
      await upload(small.client, { project: P, model: "limited", version: modelVersion!.version, path: "fits.bin" }, randomBytes(MiB));
    } finally {
      await small.stop();
    }
  });

  it("refuses artifacts for a READY version, an unknown version, and a stream without a header first", async () => {
    const version = await newVersion("sealed");
    await reg.client.finalizeModelVersion({ project: P, model: "sealed", version });
    const sealed = await failure(upload(reg.client, { project: P, model: "sealed", version, path: "late.bin" }, randomBytes(10)));
    expect(Code[sealed.code]).toBe("FailedPrecondition");
    expect(sealed.rawMessage).toContain("is READY; artifacts are immutable");
    const unknown = await failure(upload(reg.client, { project: P, model: "sealed", version: 99, path: "x.bin" }, randomBytes(10)));
    expect(Code[unknown.code]).toBe("NotFound");
    async function* headless() {
      yield { message: { case: "chunk" as const, value: new Uint8Array(4) } };
    }
    const noHeader = await failure(reg.client.uploadArtifact(headless()));
    expect(Code[noHeader.code]).toBe("InvalidArgument");
    expect(noHeader.rawMessage).toContain("header");
    const open = await newVersion("sealed");
    async function* twoHeaders() {
      yield* uploadMessages({ project: P, model: "sealed", version: open, path: "x" }, new Uint8Array(0));
      yield { message: { case: "header" as const, value: { project: P, model: "sealed", version: 1, path: "y" } } };
    }
    expect(Code[(await failure(reg.client.uploadArtifact(twoHeaders()))).code]).toBe("InvalidArgument");
  });

  it.each(["../escape.bin", "/etc/passwd", "model\\..\\x", "%2e%2e/x", "a//b", "C:/x", "model/%2e%2e%2f%2e%2e%2fx"])(
    "refuses the path %j before reading any content",
    async (path) => {
      const version = await newVersion("confined");
      const err = await failure(upload(reg.client, { project: P, model: "confined", version, path }, randomBytes(10)));
      expect(Code[err.code]).toBe("InvalidArgument");
      expect(err.rawMessage).toMatch(/^header\.path: /);
      const dl = await download(reg.client, { project: P, model: "confined", version, path });
      expect(Code[ConnectError.from(dl.error).code]).toBe("InvalidArgument");
    },
  );
});

describe("content-addressed storage", () => {
  it("stores equal content once, and removes it when the last version using it goes", async () => {
    const content = randomBytes(2 * MiB);
    const digest = sha256(content);
    const v1 = await newVersion("shared");
    const v2 = await newVersion("shared");
    await upload(reg.client, { project: P, model: "shared", version: v1, path: "a.bin" }, content);
    await upload(reg.client, { project: P, model: "shared", version: v2, path: "b/a.bin" }, content);
    expect(blobFiles().filter((f) => f === digest)).toHaveLength(1);
    await reg.client.deleteModelVersion({ project: P, model: "shared", version: v1 });
    expect(existsSync(blobFile(digest))).toBe(true);
    const got = await download(reg.client, { project: P, model: "shared", version: v2, path: "b/a.bin" });
    expect(sha256(got.content)).toBe(digest);
    await reg.client.deleteModelVersion({ project: P, model: "shared", version: v2 });
    expect(existsSync(blobFile(digest))).toBe(false);
  });

  it("replaces a path uploaded again while UPLOADING and collects the old content", async () => {
    const version = await newVersion("redo");
    const first = randomBytes(1000);
    const second = randomBytes(2000);
    await upload(reg.client, { project: P, model: "redo", version, path: "model.bin" }, first);
    const replaced = await upload(reg.client, { project: P, model: "redo", version, path: "model.bin" }, second);
    expect(replaced.sha256).toBe(sha256(second));
    expect(existsSync(blobFile(sha256(first)))).toBe(false);
    expect((await reg.client.listArtifacts({ project: P, model: "redo", version })).artifacts).toHaveLength(1);
  });
});

describe("damaged blobs", () => {
  it("ends a download with DATA_LOSS when a stored byte flipped, before the last chunk", async () => {
    const content = randomBytes(3 * MiB + 5);
    const digest = sha256(content);
    const version = await newVersion("rotten");
    await upload(reg.client, { project: P, model: "rotten", version, path: "weights.bin" }, content);
    const damaged = Buffer.from(content);
    damaged[2 * MiB + 17] = damaged[2 * MiB + 17]! ^ 0x01;
    writeFileSync(blobFile(digest), damaged);

    const got = await download(reg.client, { project: P, model: "rotten", version, path: "weights.bin" });
    expect(got.artifact?.sha256).toBe(digest);
    expect(got.error).toBeInstanceOf(ConnectError);
    expect(Code[(got.error as ConnectError).code]).toBe("DataLoss");
    expect((got.error as ConnectError).rawMessage).toContain("no longer matches");
    expect(got.content.byteLength).toBeLessThan(content.byteLength);

    // Uploading the same content again heals the blob.
    const again = await newVersion("rotten");
    await upload(reg.client, { project: P, model: "rotten", version: again, path: "weights.bin" }, content);
    const healed = await download(reg.client, { project: P, model: "rotten", version, path: "weights.bin" });
    expect(healed.error).toBeUndefined();
    expect(sha256(healed.content)).toBe(digest);
  });

  it("sends nothing of a one-chunk blob that no longer matches, and DATA_LOSS for a missing or truncated one", async () => {
    const content = randomBytes(4096);
    const digest = sha256(content);
    const version = await newVersion("tiny");
    await upload(reg.client, { project: P, model: "tiny", version, path: "t.bin" }, content);
    const flipped = Buffer.from(content);
    flipped[0] = flipped[0]! ^ 0x80;
    writeFileSync(blobFile(digest), flipped);
    const got = await download(reg.client, { project: P, model: "tiny", version, path: "t.bin" });
    expect(Code[ConnectError.from(got.error).code]).toBe("DataLoss");
    expect(got.chunkSizes).toEqual([]);

    writeFileSync(blobFile(digest), content.subarray(0, 100));
    const truncated = await download(reg.client, { project: P, model: "tiny", version, path: "t.bin" });
    expect(Code[ConnectError.from(truncated.error).code]).toBe("DataLoss");
    expect(truncated.artifact).toBeUndefined();

    rmSync(blobFile(digest));
    const missing = await download(reg.client, { project: P, model: "tiny", version, path: "t.bin" });
    expect(Code[ConnectError.from(missing.error).code]).toBe("DataLoss");
    expect(ConnectError.from(missing.error).rawMessage).toContain("missing");
    const unknown = await download(reg.client, { project: P, model: "tiny", version, path: "nope.bin" });
    expect(Code[ConnectError.from(unknown.error).code]).toBe("NotFound");
  });
});
