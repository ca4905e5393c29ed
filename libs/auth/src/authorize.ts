import { NotFoundError, PermissionDeniedError } from "@granary/errors";
import { Role } from "@granary/proto/metadata";
import { fieldAt, type Permission } from "./permissions.js";
import { roleIn, roleName, type Principal } from "./principal.js";

/**
 * What the authorizer needs to know of the catalogue; each service answers from what it holds
 * (metadata from PostgreSQL, online and offline from their WatchChanges cache).
 */
export interface AccessLookups {
  /** Who created a feature group version (0: the latest); undefined when it does not exist. */
  groupCreator(project: string, group: string, version: number): string | undefined | Promise<string | undefined>;
  /** The projects a feature group is shared with (read-only). */
  sharedWith(project: string, group: string): ReadonlySet<string> | Promise<ReadonlySet<string>>;
}

/**
 * The one answer to "someone else's resource": as if it did not exist. Asking for a project you
 * have no role in gets NOT_FOUND with the same message whether or not the project exists, so
 * names do not leak across tenants. PERMISSION_DENIED is kept for what a caller can already see:
 * a project it has a role in but not a high enough one, or a method only services may call.
 */
export function hiddenProject(project: string): NotFoundError {
  return new NotFoundError(`project "${project}" does not exist or you have no role in it`);
}

/**
 * Throws unless the principal may make the call. `request` is the unary request, or the first
 * message of a client stream. Synchronous (no promise, no allocation) when the caller's role
 * decides; a promise only when a lookup is needed (a share, a group's creator).
 */
export function authorize(
  principal: Principal,
  permission: Permission | undefined,
  method: string,
  request: unknown,
  lookups: AccessLookups,
): void | Promise<void> {
  if (!permission) throw new PermissionDeniedError(`${method} is not in the permission table; it is refused to everyone`);
  if (principal.kind === "service" || principal.kind === "open") return;
  switch (permission.kind) {
    case "service":
      throw new PermissionDeniedError(`${method} is called only by Granary's own services`);
    case "admin":
      if (!principal.admin) throw new PermissionDeniedError(`${method} needs a cluster admin`);
      return;
    case "authenticated":
      return;
    case "project": {
      const project = stringAt(request, permission.project);
      if (project === "") {
        if (permission.emptyProject === "admin" && !principal.admin)
          throw new PermissionDeniedError(`${method} for every project needs a cluster admin; name a project`);
        return;
      }
      const role = roleIn(principal, project);
      if (role >= permission.role) return;
      if (role === Role.UNSPECIFIED) {
        const group = permission.group ? stringAt(request, permission.group) : "";
        if (permission.role !== Role.VIEWER || group === "") throw hiddenProject(project);
        return sharedWithCaller(principal, project, group, lookups).then((shared) => {
          if (!shared) throw hiddenProject(project);
        });
      }
      throw tooLow(principal, project, role, permission.role, method);
    }
    case "group-write": {
      const project = stringAt(request, permission.project);
      const role = roleIn(principal, project);
      if (role === Role.UNSPECIFIED) throw hiddenProject(project);
      if (role >= Role.DATA_OWNER) return;
      if (role < Role.DATA_SCIENTIST) throw tooLow(principal, project, role, Role.DATA_SCIENTIST, method);
      const group = stringAt(request, permission.group);
      const version = Number(fieldAt(request, permission.version) ?? 0);
      return Promise.resolve(lookups.groupCreator(project, group, version)).then((creator) => {
        // A group that does not exist: let the handler say so.
        if (creator === undefined || creator === principal.name) return;
        throw new PermissionDeniedError(
          `feature group "${group}" in project "${project}" was created by ${creator === "" ? "another user" : `"${creator}"`}; a data scientist writes only the groups it created (ask a data owner)`,
        );
      });
    }
  }
}

async function sharedWithCaller(principal: Principal, project: string, group: string, lookups: AccessLookups): Promise<boolean> {
  const shared = await lookups.sharedWith(project, group);
  for (const p of shared) if (roleIn(principal, p) >= Role.VIEWER) return true;
  return false;
}

function tooLow(principal: Principal, project: string, role: Role, needed: Role, method: string): PermissionDeniedError {
  return new PermissionDeniedError(
    `${principal.name} is a ${roleName(role)} in project "${project}"; ${method.slice(method.lastIndexOf("/") + 1)} needs a ${roleName(needed)}`,
  );
}

function stringAt(request: unknown, path: string): string {
  const value = fieldAt(request, path);
  return typeof value === "string" ? value : "";
}

/** Lookups for a server that holds no catalogue (tests, tools): nobody created anything, nothing is shared. */
export const NO_LOOKUPS: AccessLookups = Object.freeze({ groupCreator: () => undefined, sharedWith: () => new Set<string>() });
