import { DataLossError, InvalidArgumentError } from "@granary/errors";
import type { Artifact, UploadArtifactRequest } from "@granary/proto/registry";
import { normalizeArtifactPath } from "../domain/artifact-path.js";
import { fieldError } from "../domain/field-error.js";
import { commitArtifact, touchUpload } from "../store/artifacts-store.js";
import type { ArtifactDeps } from "./artifact-deps.js";
import { collectQuietly } from "./collect-quietly.js";

const SHA256 = /^[0-9a-f]{64}$/;
const MAX_CONTENT_TYPE = 255;

/**
 * UploadArtifact: a header, then the content in chunks. The content streams to a temporary file
 * while it is hashed; only when it is complete, within the size limit and matching the header's
 * digest (when one is given) is it renamed under its digest and recorded, in one transaction. Any
 * failure before that leaves nothing behind.
 */
export async function uploadArtifact(deps: ArtifactDeps, requests: AsyncIterable<UploadArtifactRequest>, signal: AbortSignal): Promise<Artifact> {
  const iterator = requests[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done || first.value.message.case !== "header") {
    throw new InvalidArgumentError("the first message of UploadArtifact is the header (project, model, version, path)", { field: "header" });
  }
  const header = first.value.message.value;
  const path = normalizeArtifactPath(header.path);
  const expected = header.sha256.toLowerCase();
  if (expected !== "" && !SHA256.test(expected)) throw fieldError("header.sha256", "a sha256 is 64 hex digits");
  if (header.contentType.length > MAX_CONTENT_TYPE || /[\u0000-\u001f\u007f]/.test(header.contentType)) {
    throw fieldError("header.content_type", `at most ${MAX_CONTENT_TYPE} printable characters`);
  }
  const target = { project: header.project, model: header.model, version: header.version, path, contentType: header.contentType };
  await touchUpload(deps.pool, target);

  const staged = await deps.blobs.stage(
    chunksAfterHeader(iterator, () => touchUpload(deps.pool, target)),
    deps.maxArtifactBytes,
  );
  try {
    // A cancelled call may end the stream as if the client had finished: the content is cut short.
    signal.throwIfAborted();
    if (expected !== "" && staged.sha256 !== expected) {
      throw new DataLossError(`the content's sha256 is ${staged.sha256}, not ${expected} as the header says; nothing was stored`);
    }
    let committed: Awaited<ReturnType<typeof commitArtifact>>;
    try {
      committed = await commitArtifact(deps.pool, deps.blobs, target, staged);
    } catch (err) {
      // The blob may have been placed before the commit failed; keep it only if something uses it.
      await collectQuietly(deps, staged.sha256);
      throw err;
    }
    if (committed.replaced !== undefined) await collectQuietly(deps, committed.replaced);
    return committed.artifact;
  } finally {
    await deps.blobs.discard(staged);
  }
}

/** How often a streaming upload tells the sweep it is alive. */
const HEARTBEAT_MS = 60_000;

async function* chunksAfterHeader(iterator: AsyncIterator<UploadArtifactRequest>, heartbeat: () => Promise<void>): AsyncGenerator<Uint8Array> {
  let lastBeat = Date.now();
  for (;;) {
    if (Date.now() - lastBeat >= HEARTBEAT_MS) {
      lastBeat = Date.now();
      await heartbeat();
    }
    const next = await iterator.next();
    if (next.done) return;
    const message = next.value.message;
    if (message.case !== "chunk") {
      throw new InvalidArgumentError("only the first message of UploadArtifact is a header; the ones after it carry chunks", { field: "chunk" });
    }
    yield message.value;
  }
}
