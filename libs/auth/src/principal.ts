import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Role, type ApiKey } from "@granary/proto/metadata";

/**
 * Who is calling, decided once per call from its credentials:
 * - `user`: an API key's holder, with a role per project (and maybe cluster admin);
 * - `service`: one of Granary's own services, with the internal service key;
 * - `open`: authentication is off (loopback only, said loudly at start); acts as an admin.
 */
export interface Principal {
  readonly kind: "user" | "service" | "open";
  /** The user name, `service`, or `anonymous` when authentication is off. */
  readonly name: string;
  readonly admin: boolean;
  readonly roles: ReadonlyMap<string, Role>;
  /** The API key behind a user principal (audit entries name it). */
  readonly keyId?: string;
  /** When the key expires (ms since the epoch); undefined: never. */
  readonly expiresAtMs?: number;
}

export const SERVICE_PRINCIPAL: Principal = Object.freeze({ kind: "service", name: "service", admin: true, roles: new Map() });
/** Nobody: no role anywhere. What a handler sees if it ever runs outside the server pipeline. */
export const NOBODY: Principal = Object.freeze({ kind: "user", name: "nobody", admin: false, roles: new Map() });
export const OPEN_PRINCIPAL: Principal = Object.freeze({ kind: "open", name: "anonymous", admin: true, roles: new Map() });

/** The principal an API key stands for. */
export function principalOfKey(key: ApiKey): Principal {
  const roles = new Map<string, Role>();
  for (const scope of key.scopes) {
    if (scope.role > (roles.get(scope.project) ?? Role.UNSPECIFIED)) roles.set(scope.project, scope.role);
  }
  return Object.freeze({
    kind: "user",
    name: key.user,
    admin: key.admin,
    roles,
    keyId: key.id,
    expiresAtMs: key.expireTime ? timestampMs(key.expireTime) : undefined,
  });
}

/** The caller's role in a project: admins, services and the open principal own every project. */
export function roleIn(principal: Principal, project: string): Role {
  if (principal.admin) return Role.DATA_OWNER;
  return principal.roles.get(project) ?? Role.UNSPECIFIED;
}

/** The projects a principal may read; undefined means every project. */
export function readableProjects(principal: Principal): ReadonlySet<string> | undefined {
  return principal.admin ? undefined : new Set(principal.roles.keys());
}

export function roleName(role: Role): string {
  switch (role) {
    case Role.VIEWER:
      return "viewer";
    case Role.DATA_SCIENTIST:
      return "data scientist";
    case Role.DATA_OWNER:
      return "data owner";
    default:
      return "no role";
  }
}
