import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@granary/errors";

/**
 * What `requestDeserialize` hands grpc-js for bytes that are not a valid message. grpc-js decodes
 * before any handler runs and answers a throwing deserializer with INTERNAL "Error deserializing
 * request", so the failure travels as a value instead and the call pipeline turns it into
 * INVALID_ARGUMENT, logged and audited like any other refusal.
 */
class UndecodableRequest {
  constructor(readonly error: InvalidArgumentError) {}
}

/**
 * A request deserializer that never throws: the decoded message, or an UndecodableRequest. Decodes
 * straight from grpc-js's buffer, as before, so the online hot path copies nothing more.
 */
export function requestDecoder(schema: DescMessage): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      return fromBinary(schema, bytes);
    } catch (err) {
      return new UndecodableRequest(undecodable(schema, err));
    }
  };
}

/** The decoded request, or INVALID_ARGUMENT when its bytes were not a valid message. */
export function decodedRequest(message: unknown): MessageShape<DescMessage> {
  if (message instanceof UndecodableRequest) throw message.error;
  return message as MessageShape<DescMessage>;
}

function undecodable(schema: DescMessage, err: unknown): InvalidArgumentError {
  // protobuf-es stops at 100 levels of nesting; say so, since the bytes themselves may be fine.
  const tooDeep = err instanceof Error && err.message.includes("maximum recursion depth");
  const reason = tooDeep ? " (nested too deeply)" : "";
  return new InvalidArgumentError(`the request is not a valid ${schema.typeName} message${reason}`, { cause: err });
}
