import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, type AuditEvent } from "@granary/proto/metadata";
import { authorize, type AccessLookups } from "./authorize.js";
import type { Authenticator } from "./authenticator.js";
import { fieldAt, isMutation, PERMISSIONS, type Permission } from "./permissions.js";
import { OPEN_PRINCIPAL, type Principal } from "./principal.js";
import { RateLimiter } from "./rate-limiter.js";

/** What the server asks of every call, before its handler runs and after it ends. */
export interface AccessControl {
  /** False when authentication is off (GRANARY_AUTH=off): every caller acts as an admin. */
  readonly enabled: boolean;
  /** Who is calling, from the `authorization` metadata value; throws UnauthenticatedError. */
  authenticate(authorization: string | undefined): Principal | Promise<Principal>;
  /** What `method` ("pkg.Service/Method") needs; undefined means it is refused to all. */
  permission(method: string): Permission | undefined;
  /** Throws unless allowed; `request` is the unary request or a client stream's first message. */
  authorize(principal: Principal, method: string, permission: Permission | undefined, request: unknown): void | Promise<void>;
  /** Records the outcome of a call that changes something (structured log line and audit sink). */
  audit(principal: Principal, method: string, permission: Permission | undefined, request: unknown, code: Code | 0): void;
}

export interface AuditLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface AccessControlOptions {
  /** Authentication and authorization on (the default), or off (loopback only; see createServer). */
  readonly enabled: boolean;
  /** Required when enabled. */
  readonly authenticator?: Authenticator;
  readonly lookups: AccessLookups;
  /** The service recording audit events ("metadata", "online", ...). */
  readonly service: string;
  readonly logger: AuditLogger;
  /** Receives every audit event (metadata stores them; the others forward them to metadata). */
  readonly auditSink?: (event: AuditEvent) => void;
  /** Requests per second per user identity; 0 turns the limit off. Services are never limited. */
  readonly requestsPerSecond?: number;
  readonly permissions?: Readonly<Record<string, Permission>>;
}

/** The access control of one service: authentication, the permission table, limits, audit. */
export function createAccessControl(options: AccessControlOptions): AccessControl {
  const permissions = options.permissions ?? PERMISSIONS;
  const limiter = options.requestsPerSecond ? new RateLimiter(options.requestsPerSecond) : undefined;
  const { authenticator } = options;
  const mutations = new Map<string, boolean>();
  if (options.enabled && !authenticator) throw new Error("access control: an authenticator is required when authentication is on");
  return {
    enabled: options.enabled,
    authenticate(authorization) {
      if (!options.enabled || !authenticator) return OPEN_PRINCIPAL;
      const principal = authenticator.authenticate(authorization);
      return limiter ? (principal instanceof Promise ? principal.then(limit) : limit(principal)) : principal;
    },
    permission: (method) => permissions[method],
    authorize: (principal, method, permission, request) => authorize(principal, permission, method, request, options.lookups),
    audit(principal, method, permission, request, code) {
      let mutation = mutations.get(method);
      if (mutation === undefined) mutations.set(method, (mutation = isMutation(method)));
      if (!mutation) return;
      const event = create(AuditEventSchema, {
        time: timestampNow(),
        actor: principal.kind === "service" ? `service:${options.service}` : principal.name,
        project: projectOf(permission, request),
        method,
        resource: resourceOf(permission, request),
        service: options.service,
        code: codeName(code),
        keyId: principal.keyId ?? "",
      });
      options.logger.info(
        { audit: { actor: event.actor, project: event.project, method, resource: event.resource, code: event.code, key_id: event.keyId } },
        "audit",
      );
      options.auditSink?.(event);
    },
  };

  function limit(principal: Principal): Principal {
    if (principal.kind !== "user" || !limiter) return principal;
    const waitMs = limiter.take(principal.keyId ?? principal.name);
    if (waitMs > 0) {
      throw new ConnectError(
        `${principal.name} is over its limit of ${options.requestsPerSecond} requests per second; retry in ${waitMs} ms`,
        Code.ResourceExhausted,
        {
          "retry-after-ms": String(waitMs),
        },
      );
    }
    return principal;
  }
}

function projectOf(permission: Permission | undefined, request: unknown): string {
  if (!permission || !("project" in permission)) return "";
  const value = fieldAt(request, permission.project);
  return typeof value === "string" ? value : "";
}

function resourceOf(permission: Permission | undefined, request: unknown): string {
  if (permission?.kind === "group-write") {
    const group = fieldAt(request, permission.group);
    const version = fieldAt(request, permission.version);
    if (typeof group !== "string" || group === "") return "";
    // A delete that erases (GDPR) says so in its audit entry: the rows leave every version.
    const erase = fieldAt(request, permission.group.replace(/featureGroup(\.name)?$/, "erase")) === true;
    return `feature_group/${group}${version ? `/v${String(version)}` : ""}${erase ? " (erase)" : ""}`;
  }
  const name = fieldAt(request, "name") ?? fieldAt(request, "model");
  return typeof name === "string" ? name : "";
}

/** "PERMISSION_DENIED" for Code.PermissionDenied: the names gRPC uses on the wire and in docs. */
function codeName(code: Code | 0): string {
  if (code === 0) return "OK";
  return (Code[code] ?? String(code)).replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}
