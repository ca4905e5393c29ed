import { randomBytes } from "node:crypto";
import { newApiKey } from "@granary/auth";

/** Credentials for services started by a test: what Helm would take from a Secret. */
export interface TestKeys {
  /** An admin API key the metadata service creates at start (GRANARY_BOOTSTRAP_ADMIN_KEY). */
  readonly adminKey: string;
  /** The internal service key every service of the test shares (GRANARY_SERVICE_KEY). */
  readonly serviceKey: string;
  /** Spread into every service's env. */
  readonly env: Readonly<Record<string, string>>;
}

export function testKeys(): TestKeys {
  const adminKey = newApiKey().token;
  const serviceKey = `grs_${randomBytes(24).toString("base64url")}`;
  return { adminKey, serviceKey, env: { GRANARY_BOOTSTRAP_ADMIN_KEY: adminKey, GRANARY_SERVICE_KEY: serviceKey } };
}
