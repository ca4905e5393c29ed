import { fromBinary, type DescMessage, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type CallOptions, type Transport } from "@connectrpc/connect";

/** A unary call's response: field `field` as bytes, every other field parsed by protobuf-es. */
export interface RawFieldResponse<O extends DescMessage> {
  /** The response without the raw field. */
  readonly message: MessageShape<O>;
  /** The raw field's payload (a message's bytes); undefined when the response did not have it. */
  readonly raw: Uint8Array | undefined;
}

/**
 * Calls a unary method through a connect transport (the interceptors, TLS, deadline, retries and
 * error mapping of every other call) and leaves one field of its response as bytes, for a caller
 * that reads it faster than protobuf-es (the feature vectors, into typed arrays).
 *
 * The method is called with google.protobuf.Empty as its output type: protobuf-es then keeps
 * every field of the response as an unknown field whose data is a view of the received bytes (no
 * copy). The fields other than `field` are written back and parsed with the real output type.
 */
export async function callWithRawField<I extends DescMessage, O extends DescMessage>(
  transport: Transport,
  method: DescMethodUnary<I, O>,
  input: MessageInitShape<I>,
  options: CallOptions,
  field: number,
): Promise<RawFieldResponse<O>> {
  const res = await transport.unary(emptyOutput(method), options.signal, options.timeoutMs, options.headers, input, options.contextValues);
  options.onHeader?.(res.header);
  options.onTrailer?.(res.trailer);
  const parts: Uint8Array[] = [];
  const rest = new BinaryWriter();
  for (const u of res.message.$unknown ?? []) {
    if (u.no !== field) rest.tag(u.no, u.wireType).raw(u.data);
    else if (u.wireType !== WireType.LengthDelimited) throw parseError(method, `field ${field} has wire type ${u.wireType}, expected a message`);
    else parts.push(new BinaryReader(u.data).bytes());
  }
  let message: MessageShape<O>;
  try {
    message = fromBinary(method.output, rest.finish());
  } catch (err) {
    throw parseError(method, err instanceof Error ? err.message : String(err));
  }
  // A message field sent more than once is the merge of its occurrences: their concatenation.
  return { message, raw: parts.length === 0 ? undefined : concat(parts) };
}

const emptyOutputs = new WeakMap<object, DescMethodUnary<DescMessage, typeof EmptySchema>>();

/** The method with google.protobuf.Empty as its output; name, service and path are unchanged. */
function emptyOutput<I extends DescMessage>(method: DescMethodUnary<I, DescMessage>): DescMethodUnary<I, typeof EmptySchema> {
  let lean = emptyOutputs.get(method);
  if (!lean) emptyOutputs.set(method, (lean = { ...method, output: EmptySchema } as DescMethodUnary<DescMessage, typeof EmptySchema>));
  return lean as DescMethodUnary<I, typeof EmptySchema>;
}

function parseError(method: DescMethodUnary<DescMessage, DescMessage>, why: string): ConnectError {
  // INTERNAL, as connect reports a response it cannot parse.
  return new ConnectError(`parse binary: ${method.output.typeName}: ${why}`, Code.Internal);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
