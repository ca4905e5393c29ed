import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Role, type ApiKey } from "@granary/proto/metadata";
import { UsageError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { formatTable, toJson } from "../output.js";
import { parseTimestampMicros } from "../value-parsing.js";

const ROLES: Record<string, Role> = { viewer: Role.VIEWER, data_scientist: Role.DATA_SCIENTIST, data_owner: Role.DATA_OWNER };
const ROLE_NAMES = new Map<Role, string>(Object.entries(ROLES).map(([name, role]) => [role, name]));

/** `project:role`, as `--scope fraud:data_scientist`. */
export function parseScope(text: string): { project: string; role: Role } {
  const m = /^([a-z][a-z0-9_]{0,62}):([a-z_]+)$/.exec(text.trim());
  const role = m ? ROLES[m[2]!] : undefined;
  if (!m || role === undefined) throw new UsageError(`--scope "${text}" is not project:role (role: ${Object.keys(ROLES).join(", ")})`);
  return { project: m[1]!, role };
}

/** An ISO-8601 time in the future; without a zone it is UTC, as everywhere on the command line. */
export function parseExpiry(text: string, now = new Date()): Date {
  const micros = /^\d+$/.test(text) ? undefined : parseTimestampMicros(text.trim());
  if (micros === undefined) throw new UsageError(`--expires "${text}" is not an ISO-8601 time (2026-12-31 or 2026-12-31T18:00:00Z)`);
  const date = new Date(Number(micros / 1000n));
  if (date.getTime() <= now.getTime()) throw new UsageError(`--expires ${date.toISOString()} is in the past`);
  return date;
}

export interface CreateKeyOptions {
  readonly user: string;
  readonly admin?: boolean;
  readonly scope: string[];
  readonly expires?: string;
  readonly description?: string;
}

/** `granary keys create --user <name> [--admin] [--scope project:role]… [--expires ISO]`: prints the secret, once. */
export async function createKeyCommand(ctx: CommandContext, options: CreateKeyOptions): Promise<void> {
  const scopes = options.scope.map(parseScope);
  const expireTime = options.expires === undefined ? undefined : timestampFromDate(parseExpiry(options.expires));
  if (!options.admin && scopes.length === 0) throw new UsageError("a key needs --scope project:role (repeatable) or --admin");
  const { metadata, unary } = ctx.granary.services;
  const res = await metadata.createApiKey(
    { user: options.user, admin: options.admin === true, scopes, expireTime, description: options.description ?? "" },
    unary(ctx.signal),
  );
  const key = res.apiKey!;
  if (ctx.json) {
    ctx.output.out(toJson({ ...keyJson(key), secret: res.secret }));
  } else {
    ctx.output.out(res.secret);
    ctx.output.err(
      `API key ${key.id} for ${key.user} (${describeAccess(key)}): the secret above is shown this once; give it as --api-key, GRANARY_API_KEY or a file named by GRANARY_API_KEY_FILE`,
    );
  }
}

export interface ListKeysOptions {
  readonly user?: string;
  readonly includeRevoked?: boolean;
}

/** `granary keys list [--user name] [--include-revoked]`: the keys the caller may see, never their secrets. */
export async function listKeysCommand(ctx: CommandContext, options: ListKeysOptions): Promise<void> {
  const { metadata, unary } = ctx.granary.services;
  const keys: ApiKey[] = [];
  let pageToken = "";
  do {
    const res = await metadata.listApiKeys({ user: options.user ?? "", includeRevoked: options.includeRevoked === true, pageToken }, unary(ctx.signal));
    keys.push(...res.apiKeys);
    pageToken = res.nextPageToken;
  } while (pageToken !== "");
  if (ctx.json) {
    ctx.output.out(toJson(keys.map(keyJson)));
  } else if (keys.length === 0) {
    ctx.output.out("no API keys");
  } else {
    const rows = keys.map((k) => [
      k.id,
      k.user,
      describeAccess(k),
      time(k.expireTime) ?? "never",
      time(k.createTime) ?? "",
      k.createdBy,
      time(k.revokeTime) ?? "",
    ]);
    ctx.output.out(formatTable(["id", "user", "access", "expires", "created", "created by", "revoked"], rows));
  }
}

/** `granary keys revoke <id>`: refused on every service within a second. */
export async function revokeKeyCommand(ctx: CommandContext, id: string): Promise<void> {
  const { metadata, unary } = ctx.granary.services;
  const key = (await metadata.revokeApiKey({ id }, unary(ctx.signal))).apiKey!;
  ctx.output.out(ctx.json ? toJson(keyJson(key)) : `API key ${key.id} of ${key.user} revoked`);
}

function describeAccess(key: ApiKey): string {
  const scopes = key.scopes.map((s) => `${s.project}:${ROLE_NAMES.get(s.role) ?? "unspecified"}`);
  return [...(key.admin ? ["admin"] : []), ...scopes].join(" ");
}

function time(ts: ApiKey["createTime"]): string | undefined {
  return ts
    ? timestampDate(ts)
        .toISOString()
        .replace(/\.\d+Z$/, "Z")
    : undefined;
}

function keyJson(key: ApiKey) {
  return {
    id: key.id,
    user: key.user,
    admin: key.admin,
    scopes: key.scopes.map((s) => ({ project: s.project, role: ROLE_NAMES.get(s.role) ?? "unspecified" })),
    expires: key.expireTime ? timestampDate(key.expireTime) : null,
    created: key.createTime ? timestampDate(key.createTime) : null,
    created_by: key.createdBy,
    revoked: key.revokeTime ? timestampDate(key.revokeTime) : null,
    description: key.description,
  };
}
