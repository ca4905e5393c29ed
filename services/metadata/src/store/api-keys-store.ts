import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool } from "pg";
import { NotFoundError } from "@granary/errors";
import { ApiKeySchema, ChangeKind, type ApiKey, type Role } from "@granary/proto/metadata";
import { decodePageToken, pageOf, pageSizeOf } from "@granary/server";
import { inCatalogueTransaction, type CatalogueTx } from "./catalogue-transaction.js";

/** A key as stored: the message (never with a secret) and the salted hash of its secret. */
export interface StoredApiKey {
  readonly key: ApiKey;
  readonly secretHash: string;
}

interface ApiKeyRow {
  id: string;
  user_name: string;
  admin: boolean;
  scopes: { project: string; role: number }[];
  secret_hash: string;
  description: string;
  expire_time: Date | null;
  create_time: Date;
  created_by: string;
  revoke_time: Date | null;
}

const COLUMNS = "id, user_name, admin, scopes, secret_hash, description, expire_time, create_time, created_by, revoke_time";

/**
 * Stores a new key and records it on the change feed (project "": keys are cluster-wide, so only
 * watchers of every project see them). `key.createTime` is set to the transaction's time.
 */
export async function insertApiKey(pool: Pool, key: ApiKey, secretHash: string): Promise<ApiKey> {
  return inCatalogueTransaction(pool, (tx) => insertApiKeyIn(tx, key, secretHash));
}

export async function insertApiKeyIn(tx: CatalogueTx, key: ApiKey, secretHash: string): Promise<ApiKey> {
  const stored = create(ApiKeySchema, { ...key, createTime: timestampFromDate(tx.now) });
  await tx.client.query(
    `INSERT INTO api_keys (id, user_name, admin, scopes, secret_hash, description, expire_time, create_time, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      stored.id,
      stored.user,
      stored.admin,
      JSON.stringify(stored.scopes.map((s) => ({ project: s.project, role: s.role }))),
      secretHash,
      stored.description,
      stored.expireTime ? timestampDate(stored.expireTime) : null,
      tx.now,
      stored.createdBy,
    ],
  );
  await tx.recordChange({ kind: ChangeKind.CREATED, project: "", resource: { case: "apiKey", value: stored } });
  return stored;
}

export async function findApiKey(pool: Pool, id: string): Promise<StoredApiKey | undefined> {
  const { rows } = await pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
  return rows[0] ? { key: keyOf(rows[0]), secretHash: rows[0].secret_hash } : undefined;
}

/** Whether an admin key exists that is neither revoked nor expired. */
export async function hasUsableAdminKey(tx: CatalogueTx): Promise<boolean> {
  const { rowCount } = await tx.client.query(
    "SELECT 1 FROM api_keys WHERE admin AND revoke_time IS NULL AND (expire_time IS NULL OR expire_time > now()) LIMIT 1",
  );
  return (rowCount ?? 0) > 0;
}

export interface ListApiKeysOptions {
  readonly user: string;
  readonly project: string;
  readonly includeRevoked: boolean;
  /** Undefined: every key. Otherwise the keys of this user and the keys scoped to these projects. */
  readonly visibleTo: { readonly user: string; readonly projects: readonly string[] } | undefined;
  readonly pageSize: number;
  readonly pageToken: string;
}

export async function listApiKeys(pool: Pool, o: ListApiKeysOptions): Promise<{ items: ApiKey[]; nextPageToken: string }> {
  const size = pageSizeOf(o.pageSize);
  const query = ["api_keys", o.user, o.project, o.includeRevoked, o.visibleTo?.user ?? null, o.visibleTo?.projects ?? null];
  const after = decodePageToken(o.pageToken, query);
  const { rows } = await pool.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM api_keys
     WHERE ($1 = '' OR user_name = $1)
       AND ($2 = '' OR scopes @> jsonb_build_array(jsonb_build_object('project', $2::text)))
       AND ($3 OR revoke_time IS NULL)
       AND ($4::text IS NULL OR user_name = $4
            OR EXISTS (SELECT 1 FROM jsonb_array_elements(scopes) s WHERE s->>'project' = ANY ($5::text[])))
       AND ($6::text IS NULL OR id > $6)
     ORDER BY id LIMIT $7`,
    [o.user, o.project, o.includeRevoked, o.visibleTo?.user ?? null, o.visibleTo?.projects ?? [], after?.[0] ?? null, size + 1],
  );
  const page = pageOf(rows, size, query, (r) => [r.id]);
  return { items: page.items.map(keyOf), nextPageToken: page.nextPageToken };
}

/**
 * Revokes a key, once: revoking a revoked key returns it unchanged. NOT_FOUND when it does not
 * exist or `mayRevoke` refuses it (someone else's key answers as if it did not exist).
 */
export async function revokeApiKey(pool: Pool, id: string, mayRevoke: (key: ApiKey) => boolean): Promise<ApiKey> {
  return inCatalogueTransaction(pool, async (tx) => {
    const { rows } = await tx.client.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1 FOR UPDATE`, [id]);
    const key = rows[0] ? keyOf(rows[0]) : undefined;
    if (!key || !mayRevoke(key)) throw new NotFoundError(`API key "${id}" does not exist`);
    if (key.revokeTime) return key;
    key.revokeTime = timestampFromDate(tx.now);
    await tx.client.query("UPDATE api_keys SET revoke_time = $2 WHERE id = $1", [id, tx.now]);
    await tx.recordChange({ kind: ChangeKind.UPDATED, project: "", resource: { case: "apiKey", value: key } });
    return key;
  });
}

function keyOf(row: ApiKeyRow): ApiKey {
  return create(ApiKeySchema, {
    id: row.id,
    user: row.user_name,
    admin: row.admin,
    scopes: row.scopes.map((s) => ({ project: s.project, role: s.role as Role })),
    expireTime: row.expire_time ? timestampFromDate(row.expire_time) : undefined,
    createTime: timestampFromDate(row.create_time),
    createdBy: row.created_by,
    revokeTime: row.revoke_time ? timestampFromDate(row.revoke_time) : undefined,
    description: row.description,
  });
}
