// What every handle of the SDK (Project, FeatureGroup, FeatureView, ModelRegistry) is built on,
// apart from Granary, which makes it: the handles import this, never granary.ts, so the SDK's
// imports run one way (granary.ts → project.ts → feature-group.ts …).
import type { CallOptions, Client, Transport } from "@connectrpc/connect";
import type { MetadataService } from "@granary/proto/metadata";
import type { OfflineService } from "@granary/proto/offline";
import type { OnlineService } from "@granary/proto/online";
import type { RegistryService } from "@granary/proto/registry";
import type { RetryOptions } from "./call-policy.js";

/** The typed gRPC clients of the four services, and the call options the SDK uses with them. */
export interface Services {
  readonly metadata: Client<typeof MetadataService>;
  readonly online: Client<typeof OnlineService>;
  readonly offline: Client<typeof OfflineService>;
  readonly registry: Client<typeof RegistryService>;
  /**
   * The transport of the vector lookups, whose responses the SDK reads itself (raw-field-call.ts):
   * grpc-js channels to the online service, with the interceptors of every other call (grpc-js-transport.ts).
   */
  readonly onlineTransport: Transport;
  /** Options of a unary call (its deadline), with an optional signal. */
  unary(signal?: AbortSignal): CallOptions;
  /** Options of a streaming call. */
  stream(signal?: AbortSignal): CallOptions;
  readonly retry: RetryOptions;
}
