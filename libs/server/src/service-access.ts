import type { Client } from "@connectrpc/connect";
import {
  AuditForwarder,
  Authenticator,
  createAccessControl,
  jwtResolver,
  loadServiceKey,
  remoteKeyResolver,
  type AccessControl,
  type AccessLookups,
  type KeyResolver,
} from "@granary/auth";
import type { AuthConfig } from "@granary/config";
import type { Change, MetadataService } from "@granary/proto/metadata";
import type { Logger } from "@granary/telemetry";

/** The internal service key of this process (loaded, or made on first start): see AuthConfig. */
export function serviceKeyOf(auth: AuthConfig): string {
  return loadServiceKey(auth);
}

/** The authenticator of one service: API keys through `resolveKey`, and OIDC tokens when configured. */
export function createAuthenticator(auth: AuthConfig, serviceKey: string, resolveKey: KeyResolver): Authenticator {
  return new Authenticator({ serviceKey, resolveKey, resolveJwt: auth.oidc ? jwtResolver(auth.oidc) : undefined });
}

export interface RemoteAccess {
  readonly access: AccessControl;
  /** Feed it every catalogue change: key changes evict cached identities within the watch's delay. */
  onChange(change: Change): void;
  /** Sends the audit events still queued. */
  close(): Promise<void>;
}

/**
 * Access control for online, offline and registry: API keys resolved by the metadata service and
 * cached here, roles and shares from the service's catalogue cache, audit events forwarded to
 * metadata.
 */
export function createRemoteAccess(options: {
  readonly auth: AuthConfig;
  readonly serviceKey: string;
  readonly service: string;
  /** A metadata client that calls with the service key. */
  readonly metadata: Client<typeof MetadataService>;
  readonly lookups: AccessLookups;
  readonly logger: Logger;
}): RemoteAccess {
  const authenticator = createAuthenticator(options.auth, options.serviceKey, remoteKeyResolver(options.metadata));
  const forwarder = new AuditForwarder(options.metadata, options.logger);
  const access = createAccessControl({
    enabled: options.auth.enabled,
    authenticator,
    lookups: options.lookups,
    service: options.service,
    logger: options.logger,
    auditSink: forwarder.push,
    requestsPerSecond: options.auth.requestsPerSecond,
  });
  return {
    access,
    onChange(change) {
      if (change.resource.case === "apiKey") authenticator.evictKey(change.resource.value.id);
    },
    close: () => forwarder.flush(),
  };
}
