import type { MessageInitShape } from "@bufbuild/protobuf";
import { DownloadArtifactResponseSchema } from "@granary/proto/registry";
import { preEncoded } from "@granary/server";

/** Room a chunk's buffer keeps in front of its content for the framing `encodeChunk` writes. */
export const CHUNK_HEADROOM = 6;

// DownloadArtifactResponse.chunk is field 2, length-delimited: tag (2 << 3) | 2.
const CHUNK_TAG = 0x12;

/**
 * A DownloadArtifactResponse{chunk} in wire format, framed in place: the tag and length go into the
 * headroom in front of the content, so the content is never copied to be encoded (protobuf-es
 * would copy it twice, into a growing buffer and out of it).
 */
export function encodeChunk(buffer: Buffer, headroom = CHUNK_HEADROOM): MessageInitShape<typeof DownloadArtifactResponseSchema> {
  const length = buffer.byteLength - headroom;
  const varint: number[] = [];
  for (let v = length; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      varint.push(v);
      break;
    }
    varint.push((v % 128) | 0x80);
  }
  const start = headroom - 1 - varint.length;
  if (start < 0) throw new Error(`a chunk of ${length} bytes needs more than ${headroom} bytes of headroom`);
  buffer[start] = CHUNK_TAG;
  varint.forEach((b, i) => (buffer[start + 1 + i] = b));
  return preEncoded(DownloadArtifactResponseSchema, buffer.subarray(start));
}
