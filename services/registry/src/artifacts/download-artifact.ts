import { createHash } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { DataLossError } from "@granary/errors";
import type { DownloadArtifactRequest, DownloadArtifactResponseSchema } from "@granary/proto/registry";
import { normalizeArtifactPath } from "../domain/artifact-path.js";
import { getArtifact } from "../store/artifacts-store.js";
import { versionLabel } from "../store/versions-store.js";
import type { ArtifactDeps } from "./artifact-deps.js";
import { CHUNK_HEADROOM, encodeChunk } from "./chunk-message.js";

/** 1 MiB: well under the 4 MiB most gRPC clients accept, large enough to keep per-message costs low. */
export const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;

/**
 * DownloadArtifact: the artifact (with its digest) first, then the content in chunks, hashed as
 * it is read. The digest is known only at the end, so the last chunk is held back until it
 * matches: a blob that rotted on disk ends the call with DATA_LOSS, and the client never holds all
 * of the content (a blob of one chunk sends none). A size that differs from the record fails
 * before any content.
 */
export async function* downloadArtifact(
  deps: Pick<ArtifactDeps, "pool" | "blobs">,
  req: DownloadArtifactRequest,
  chunkBytes = DOWNLOAD_CHUNK_BYTES,
): AsyncGenerator<MessageInitShape<typeof DownloadArtifactResponseSchema>> {
  const path = normalizeArtifactPath(req.path, "path");
  const artifact = await getArtifact(deps.pool, req.project, req.model, req.version, path);
  const what = `artifact "${path}" of ${versionLabel(req.project, req.model, req.version)}`;
  const blob = await deps.blobs.open(artifact.sha256);
  if (!blob) throw new DataLossError(`the content of ${what} is missing from the blob store`);
  try {
    if (BigInt(blob.sizeBytes) !== artifact.sizeBytes) {
      throw new DataLossError(`the content of ${what} is ${blob.sizeBytes} bytes on disk, not ${artifact.sizeBytes}: it was damaged`);
    }
    yield { message: { case: "artifact", value: artifact } };
    const hash = createHash("sha256");
    let held: Buffer | undefined;
    for await (const framed of blob.chunks(chunkBytes, CHUNK_HEADROOM)) {
      hash.update(framed.subarray(CHUNK_HEADROOM));
      if (held) yield encodeChunk(held);
      held = framed;
    }
    const actual = hash.digest("hex");
    if (actual !== artifact.sha256) {
      throw new DataLossError(`the content of ${what} no longer matches its sha256 (${artifact.sha256}): it was damaged on disk`);
    }
    if (held) yield encodeChunk(held);
  } finally {
    await blob.close();
  }
}
