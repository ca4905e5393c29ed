import { createHash } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { Artifact, RegistryService, UploadArtifactHeader, UploadArtifactRequestSchema } from "@granary/proto/registry";

export const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

type HeaderInit = Partial<Omit<UploadArtifactHeader, "$typeName">> & { project: string; model: string; version: number; path: string };

/** The messages of an upload: the header, then `content` in chunks of `chunkBytes`. */
export async function* uploadMessages(
  header: HeaderInit,
  content: Uint8Array,
  chunkBytes = 1024 * 1024,
): AsyncGenerator<MessageInitShape<typeof UploadArtifactRequestSchema>> {
  yield { message: { case: "header", value: header } };
  for (let offset = 0; offset < content.byteLength; offset += chunkBytes) {
    yield { message: { case: "chunk", value: content.subarray(offset, Math.min(offset + chunkBytes, content.byteLength)) } };
  }
}

export async function upload(client: Client<typeof RegistryService>, header: HeaderInit, content: Uint8Array, chunkBytes?: number): Promise<Artifact> {
  const { artifact } = await client.uploadArtifact(uploadMessages(header, content, chunkBytes));
  return artifact!;
}

export interface Downloaded {
  artifact: Artifact | undefined;
  chunkSizes: number[];
  content: Buffer;
  /** The error the stream ended with, if any. */
  error: unknown;
}

/** Reads a whole download, keeping what arrived before an error. */
export async function download(
  client: Client<typeof RegistryService>,
  req: { project: string; model: string; version: number; path: string },
): Promise<Downloaded> {
  const out: Downloaded = { artifact: undefined, chunkSizes: [], content: Buffer.alloc(0), error: undefined };
  const parts: Uint8Array[] = [];
  try {
    for await (const res of client.downloadArtifact(req)) {
      if (res.message.case === "artifact") out.artifact = res.message.value;
      else if (res.message.case === "chunk") {
        parts.push(res.message.value);
        out.chunkSizes.push(res.message.value.byteLength);
      }
    }
  } catch (err) {
    out.error = err;
  }
  out.content = Buffer.concat(parts);
  return out;
}
