import type { Pool } from "pg";
import { createAccessControl, loadServiceKey, type AccessControl } from "@granary/auth";
import type { AuthConfig } from "@granary/config";
import type { Change } from "@granary/proto/metadata";
import { createAuthenticator } from "@granary/server";
import type { Logger } from "@granary/telemetry";
import type { ChangeFeed } from "../store/change-feed.js";
import { AuditSink } from "./audit-sink.js";
import { catalogueLookups } from "./catalogue-lookups.js";
import { followAccessChanges } from "./follow-access-changes.js";
import { localKeyResolver } from "./resolve-api-key.js";

const RECORD_AUDIT_EVENTS = "granary.metadata.v1.MetadataService/RecordAuditEvents";

export interface MetadataAccess {
  readonly access: AccessControl;
  /** A key or share changed through this replica: act now, before the feed reports it. */
  onChange(change: Change): void;
  close(): Promise<void>;
}

/**
 * Access control of the metadata service, which holds what the others ask it for: keys resolved
 * from PostgreSQL (cached by the Authenticator), roles from the keys, creators and shares from the
 * catalogue, audit events written to its own table.
 */
export async function createMetadataAccess(options: {
  readonly pool: Pool;
  readonly changes: ChangeFeed;
  readonly auth: AuthConfig;
  readonly logger: Logger;
  /** Driver errors → typed ones (a lost database is UNAVAILABLE). */
  readonly translate: (err: unknown) => unknown;
}): Promise<MetadataAccess> {
  const { pool, logger } = options;
  // API keys from PostgreSQL here (the other services ask AuthenticateApiKey); OIDC tokens when configured.
  const authenticator = createAuthenticator(options.auth, loadServiceKey(options.auth), localKeyResolver(pool, options.translate));
  const lookups = catalogueLookups(pool, options.translate);
  const sink = new AuditSink(pool, logger);
  const access = createAccessControl({
    enabled: options.auth.enabled,
    authenticator,
    lookups,
    service: "metadata",
    logger,
    // A batch forwarded by another service is not itself worth a row: its events are.
    auditSink: (event) => {
      if (event.method !== RECORD_AUDIT_EVENTS) sink.push(event);
    },
    requestsPerSecond: options.auth.requestsPerSecond,
  });
  const onChange = (change: Change): void => {
    if (change.resource.case === "apiKey") authenticator.evictKey(change.resource.value.id);
    else if (change.resource.case === "share") lookups.invalidateShares();
  };
  const follower = await followAccessChanges(pool, options.changes, {
    onChange,
    onGap() {
      authenticator.clear();
      lookups.invalidateShares();
    },
    logger,
  });
  return {
    access,
    onChange,
    async close() {
      await follower.stop();
      await sink.flush();
    },
  };
}
