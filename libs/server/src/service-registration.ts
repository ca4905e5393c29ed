import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";

/**
 * A service and the handlers that implement it. Handlers have connect-es signatures (so the same
 * object also runs in-process with createRouterTransport); a method left out answers UNIMPLEMENTED.
 */
export interface ServiceRegistration {
  readonly service: DescService;
  readonly impl: Partial<Record<string, unknown>>;
}

export function defineService<T extends DescService>(service: T, impl: Partial<ServiceImpl<T>>): ServiceRegistration {
  return { service, impl: impl as Partial<Record<string, unknown>> };
}
