// No imports: the SDK (libs/client, via service-clients) takes this file alone through "@granary/telemetry/semconv".
/**
 * gRPC status codes by number as the RPC semantic conventions spell rpc.status_code
 * (https://opentelemetry.io/docs/specs/semconv/rpc/grpc/): names, not numbers.
 */
export const GRPC_STATUS_NAMES: readonly string[] = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** The codes that mark a gRPC server span as an error (the rest are the caller's mistakes). */
const SERVER_ERRORS = new Set([2, 4, 12, 13, 14, 15]);

export function isServerError(code: number): boolean {
  return SERVER_ERRORS.has(code);
}

/**
 * Bucket boundaries of rpc.*.call.duration, in seconds: the conventions' recommended boundaries
 * (0.005 … 10) with three below them, since an online lookup takes well under 5 ms and a p99 that
 * can only say "under 5 ms" says nothing.
 */
export const RPC_DURATION_BUCKETS_S: number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
