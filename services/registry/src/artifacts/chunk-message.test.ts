import { describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { fromBinary } from "@bufbuild/protobuf";
import { DownloadArtifactResponseSchema } from "@granary/proto/registry";
import { CHUNK_HEADROOM, encodeChunk } from "./chunk-message.js";

// The bytes encodeChunk hands the server, the way the server will send them.
function wireBytes(message: unknown): Uint8Array {
  const symbol = Object.getOwnPropertySymbols(message).find((s) => s.description === "granary.preEncoded")!;
  return (message as Record<symbol, Uint8Array>)[symbol]!;
}

describe("chunks framed in place", () => {
  it.each([0, 1, 127, 128, 16_383, 16_384, 1024 * 1024, 2 ** 21 + 3])("decode as DownloadArtifactResponse{chunk} of %d bytes", (n) => {
    const content = randomBytes(n);
    const buffer = Buffer.concat([Buffer.alloc(CHUNK_HEADROOM, 0xee), content]);
    const decoded = fromBinary(DownloadArtifactResponseSchema, wireBytes(encodeChunk(buffer)));
    expect(decoded.message.case).toBe("chunk");
    expect(Buffer.from(decoded.message.value as Uint8Array).equals(content)).toBe(true);
  });
});
