import { chmodSync, closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join, basename } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { Pool } from "pg";
import { hashApiKeySecret, newApiKey, parseApiKey, verifyApiKeySecret } from "@granary/auth";
import { ApiKeySchema } from "@granary/proto/metadata";
import { findApiKey, hasUsableAdminKey, insertApiKeyIn } from "../store/api-keys-store.js";
import { inCatalogueTransaction } from "../store/catalogue-transaction.js";

export interface BootstrapAdminOptions {
  /** GRANARY_BOOTSTRAP_ADMIN_KEY: a full token, already checked by the config. */
  readonly bootstrapKey: string | undefined;
  /** Where a key made on first start is written (mode 0600). */
  readonly adminKeyFile: string;
  readonly logger: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

const ADMIN_USER = "admin";

/**
 * Makes sure someone can administer a new cluster. With GRANARY_BOOTSTRAP_ADMIN_KEY (Helm: from
 * a Secret) that key exists; otherwise, when no usable admin key exists, one is made and its token
 * written to the admin key file — the embedded default, where `npm start` must work without a
 * manual step. The token itself is never logged.
 */
export async function bootstrapAdmin(pool: Pool, options: BootstrapAdminOptions): Promise<void> {
  const { logger } = options;
  if (options.bootstrapKey) {
    const parts = parseApiKey(options.bootstrapKey);
    if (!parts) throw new Error("GRANARY_BOOTSTRAP_ADMIN_KEY is not a Granary API key");
    const existing = await findApiKey(pool, parts.id);
    if (existing) {
      if (!(await verifyApiKeySecret(parts.secret, existing.secretHash))) {
        logger.warn({ key_id: parts.id }, "GRANARY_BOOTSTRAP_ADMIN_KEY names an existing key with another secret; leaving the stored key as it is");
      }
      return;
    }
    const hash = await hashApiKeySecret(parts.secret);
    await inCatalogueTransaction(pool, async (tx) => {
      // Two replicas starting at once: the second finds the first one's key.
      const { rowCount } = await tx.client.query("SELECT 1 FROM api_keys WHERE id = $1", [parts.id]);
      if (!rowCount) await insertApiKeyIn(tx, adminKey(parts.id, "bootstrap admin key (GRANARY_BOOTSTRAP_ADMIN_KEY)"), hash);
    });
    logger.info({ key_id: parts.id }, "bootstrap admin key from GRANARY_BOOTSTRAP_ADMIN_KEY stored");
    return;
  }
  const { token, parts } = newApiKey();
  const hash = await hashApiKeySecret(parts.secret);
  const created = await inCatalogueTransaction(pool, async (tx) => {
    if (await hasUsableAdminKey(tx)) return false;
    await insertApiKeyIn(tx, adminKey(parts.id, "admin key made on first start"), hash);
    return true;
  });
  if (!created) return;
  writeSecretFile(options.adminKeyFile, token);
  logger.info(
    { file: options.adminKeyFile, key_id: parts.id },
    "no admin key existed: made one; its token is in this file (mode 0600); the SDK and CLI read it",
  );
}

function adminKey(id: string, description: string) {
  return create(ApiKeySchema, { id, user: ADMIN_USER, admin: true, createdBy: "granary", description });
}

/** Writes a secret whole or not at all: a temporary file of mode 0600, renamed over the target. */
function writeSecretFile(path: string, value: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, `${value}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(temp, 0o600); // whatever the umask
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
