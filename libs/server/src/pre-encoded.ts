import { fromBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";

const PRE_ENCODED = Symbol("granary.preEncoded");
const BYTES = Symbol("granary.bytes");
const DECODED = Symbol("granary.decoded");
const SENT = Symbol("granary.sent");
/** What the fields of a response read once it was sent and its pooled bytes handed back. */
const SPENT: Record<string, unknown> = new Proxy(
  {},
  {
    get() {
      throw new Error("this response was sent and its bytes reused; read its fields before sending it");
    },
    set() {
      throw new Error("this response was sent and its bytes reused; set its fields before sending it");
    },
  },
);

/** A response whose protobuf wire format is already at hand; the grpc-js adapter sends it as it is. */
export interface PreEncoded {
  readonly [PRE_ENCODED]: Uint8Array | undefined;
}

interface LazyInit {
  [PRE_ENCODED]: Uint8Array | undefined;
  readonly [BYTES]: Uint8Array;
  [DECODED]: Record<string, unknown> | undefined;
  [SENT]: (() => void) | undefined;
}

/**
 * A response of `schema` made from bytes a handler encoded itself (a hot path that writes packed
 * arrays straight from typed memory, a chunk framed in place), returned where a message is due.
 * The grpc-js adapter reads no field: it sends the bytes as they are, never boxing a value. To
 * everything else it is an ordinary message initializer: its fields are decoded from the bytes
 * the first time one is read, so connect's createRouterTransport (whose `create(schema, init)`
 * reads them) serves the same handler unchanged, and a test sees what the wire carries. Setting
 * a field drops the bytes, so a change is never lost behind them. The fields are accessors on a
 * prototype: read them, or pass the value to `create(schema, value)`; a spread copies none.
 *
 * The bytes must be a valid encoding of `schema`. `sent`, when given, is called once the grpc-js
 * adapter has copied them into its frame: the handler may then reuse their memory (the online
 * lookup path encodes into pooled buffers). A response that never reaches that point (another
 * transport reads its fields, the call was cancelled first) never calls it and keeps its bytes.
 */
export function preEncoded<T extends DescMessage>(schema: T, bytes: Uint8Array, sent?: () => void): MessageInitShape<T> {
  const init = new (lazyInitClassOf(schema))(bytes);
  if (sent) init[SENT] = sent;
  return init as unknown as MessageInitShape<T>;
}

/** The bytes of a value made by `preEncoded` (and not changed since); undefined for any other value. */
export function preEncodedBytes(value: unknown): Uint8Array | undefined {
  return typeof value === "object" && value !== null ? (value as Partial<PreEncoded>)[PRE_ENCODED] : undefined;
}

/**
 * Takes the bytes of a pre-encoded value to send them now: the caller copies them before anything
 * else runs (grpc-js frames a message synchronously), then their `sent` hook runs, at most once.
 */
export function takePreEncodedBytes(value: unknown): Uint8Array | undefined {
  const bytes = preEncodedBytes(value);
  if (!bytes) return undefined;
  const init = value as LazyInit;
  const sent = init[SENT];
  if (sent) {
    init[SENT] = undefined;
    // The bytes stay readable here until the caller, still in this synchronous turn, has copied them;
    // after that their memory is the handler's again, and reading a field would read someone else's.
    queueMicrotask(() => {
      init[PRE_ENCODED] = undefined;
      init[DECODED] ??= SPENT;
      sent();
    });
  }
  return bytes;
}

// One class per schema, its fields accessors on the prototype: making a response costs one small
// object (own accessors per call would cost ~0.5 µs each time on the online hot path).
const lazyInitClasses = new WeakMap<DescMessage, new (bytes: Uint8Array) => LazyInit>();

function lazyInitClassOf(schema: DescMessage): new (bytes: Uint8Array) => LazyInit {
  let LazyInitClass = lazyInitClasses.get(schema);
  if (LazyInitClass) return LazyInitClass;
  // Symbols only on the instance, so no field name can collide with them.
  LazyInitClass = class implements LazyInit {
    [PRE_ENCODED]: Uint8Array | undefined;
    readonly [BYTES]: Uint8Array;
    [DECODED]: Record<string, unknown> | undefined = undefined;
    [SENT]: (() => void) | undefined = undefined;
    constructor(bytes: Uint8Array) {
      this[PRE_ENCODED] = bytes;
      this[BYTES] = bytes;
    }
  };
  const decoded = (init: LazyInit) => (init[DECODED] ??= fromBinary(schema, init[BYTES]) as Record<string, unknown>);
  for (const { localName } of schema.members) {
    Object.defineProperty(LazyInitClass.prototype, localName, {
      enumerable: true,
      get(this: LazyInit) {
        return decoded(this)[localName];
      },
      set(this: LazyInit, value: unknown) {
        decoded(this)[localName] = value;
        this[PRE_ENCODED] = undefined;
        // The bytes may be reused once dropped; they were decoded above, so nothing reads them again.
        this[SENT] = undefined;
      },
    });
  }
  lazyInitClasses.set(schema, LazyInitClass);
  return LazyInitClass;
}
