import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Pool } from "pg";
import { hashApiKeySecret, hiddenProject, newApiKey, roleIn, type Principal } from "@granary/auth";
import { InvalidArgumentError, NotFoundError, PermissionDeniedError, UnauthenticatedError } from "@granary/errors";
import { ApiKeySchema, Role, type ApiKey, type CreateApiKeyRequest, type ListApiKeysRequest } from "@granary/proto/metadata";
import * as keys from "../store/api-keys-store.js";
import { resolveApiKey } from "./resolve-api-key.js";

/**
 * A new key; the token (`grn_<id>_<secret>`) is returned this once. Admins (and services) create
 * any key; a data owner creates keys scoped to projects it owns ("grants"), never admin keys.
 */
export async function createApiKey(pool: Pool, principal: Principal, req: CreateApiKeyRequest, now = Date.now()): Promise<{ apiKey: ApiKey; secret: string }> {
  req.scopes.forEach((scope, i) => {
    if (scope.role === Role.UNSPECIFIED) throw new InvalidArgumentError(`scopes[${i}].role must name a role`, { field: `scopes[${i}].role` });
  });
  if (req.expireTime && timestampMs(req.expireTime) <= now) throw new InvalidArgumentError("expire_time is in the past", { field: "expire_time" });
  if (!principal.admin) {
    if (req.admin) throw new PermissionDeniedError("only a cluster admin creates admin keys");
    if (req.scopes.length === 0) throw new PermissionDeniedError("a data owner creates keys scoped to the projects it owns; name at least one scope");
    for (const { project } of req.scopes) {
      const role = roleIn(principal, project);
      if (role === Role.UNSPECIFIED) throw hiddenProject(project);
      if (role < Role.DATA_OWNER)
        throw new PermissionDeniedError(`${principal.name} is not a data owner of project "${project}"; only data owners grant roles in it`);
    }
  }
  await assertProjectsExist(
    pool,
    principal,
    req.scopes.map((s) => s.project),
  );
  const { token, parts } = newApiKey();
  const apiKey = create(ApiKeySchema, {
    id: parts.id,
    user: req.user,
    admin: req.admin,
    scopes: req.scopes,
    expireTime: req.expireTime,
    createdBy: principal.name,
    description: req.description,
  });
  return { apiKey: await keys.insertApiKey(pool, apiKey, await hashApiKeySecret(parts.secret)), secret: token };
}

/** Admins see every key; others their own and the keys scoped to projects they own. */
export async function listApiKeys(pool: Pool, principal: Principal, req: ListApiKeysRequest): Promise<{ items: ApiKey[]; nextPageToken: string }> {
  return keys.listApiKeys(pool, {
    user: req.user,
    project: req.project,
    includeRevoked: req.includeRevoked,
    visibleTo: principal.admin ? undefined : { user: principal.name, projects: ownedProjects(principal) },
    pageSize: req.pageSize,
    pageToken: req.pageToken,
  });
}

/** Revokes a key the caller may revoke; any other key answers NOT_FOUND, as if it did not exist. */
export async function revokeApiKey(pool: Pool, principal: Principal, id: string): Promise<ApiKey> {
  return keys.revokeApiKey(pool, id, (key) => mayRevoke(principal, key));
}

export function mayRevoke(principal: Principal, key: ApiKey): boolean {
  if (principal.admin || key.user === principal.name) return true;
  return !key.admin && key.scopes.length > 0 && key.scopes.every((s) => roleIn(principal, s.project) >= Role.DATA_OWNER);
}

/**
 * With a secret: the key it stands for (services only: they resolve their callers' keys here).
 * Without: the caller's own key.
 */
export async function authenticateApiKey(pool: Pool, principal: Principal, secret: string): Promise<ApiKey> {
  if (secret !== "") {
    if (principal.kind !== "service") throw new PermissionDeniedError("only Granary's own services resolve other keys; leave secret empty for your own");
    return resolveApiKey(pool, secret);
  }
  if (principal.kind === "user" && principal.keyId) {
    const stored = await keys.findApiKey(pool, principal.keyId);
    if (!stored) throw new UnauthenticatedError("unknown API key", { reason: "API_KEY_UNKNOWN" });
    return stored.key;
  }
  return create(ApiKeySchema, {
    user: principal.name,
    admin: principal.admin,
    scopes: [...principal.roles].map(([project, role]) => ({ project, role })),
  });
}

function ownedProjects(principal: Principal): string[] {
  return [...principal.roles].filter(([, role]) => role >= Role.DATA_OWNER).map(([project]) => project);
}

async function assertProjectsExist(pool: Pool, principal: Principal, projects: readonly string[]): Promise<void> {
  if (projects.length === 0) return;
  const { rows } = await pool.query<{ name: string }>("SELECT name FROM projects WHERE name = ANY ($1::text[])", [[...new Set(projects)]]);
  const found = new Set(rows.map((r) => r.name));
  const missing = projects.find((p) => !found.has(p));
  if (missing === undefined) return;
  // Only an admin may learn that a project does not exist; anyone else gets the usual answer.
  throw principal.admin ? new NotFoundError(`project "${missing}" does not exist`) : hiddenProject(missing);
}
