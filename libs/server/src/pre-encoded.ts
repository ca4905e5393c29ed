import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";

const PRE_ENCODED = Symbol("granary.preEncoded");

/** A response already in protobuf wire format; the server sends its bytes as they are. */
export interface PreEncoded {
  readonly [PRE_ENCODED]: Uint8Array;
}

/**
 * Wraps bytes a handler encoded itself (a hot path that writes packed arrays straight from typed
 * memory) so the server skips protobuf-es serialisation. The bytes must be a valid encoding of the
 * method's response message; the return type lets the handler return it where a message is due.
 */
export function preEncoded<T extends DescMessage>(_schema: T, bytes: Uint8Array): MessageInitShape<T> {
  return { [PRE_ENCODED]: bytes } as unknown as MessageInitShape<T>;
}

export function preEncodedBytes(value: unknown): Uint8Array | undefined {
  return typeof value === "object" && value !== null && PRE_ENCODED in value ? (value as PreEncoded)[PRE_ENCODED] : undefined;
}
