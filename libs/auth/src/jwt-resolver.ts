import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from "jose";
import { UnauthenticatedError } from "@granary/errors";
import { ApiKeySchema, Role, type ApiKey } from "@granary/proto/metadata";
import type { KeyResolver } from "./key-resolver.js";

/** OIDC / JWT bearer tokens verified against a JWKS file (optional; see docs/security.md). */
export interface JwtOptions {
  /** A JSON Web Key Set file: the identity provider's public keys (its jwks_uri, saved). */
  readonly jwksFile: string;
  /** Required `iss`; undefined: any. */
  readonly issuer?: string;
  /** Required `aud`; undefined: any. */
  readonly audience?: string;
  /** The claim that names the user (default `sub`). */
  readonly userClaim: string;
  /**
   * The claim that holds the roles: `{ "<project>": "viewer" | "data_scientist" | "data_owner" }`
   * or `["<project>:<role>", ...]`; `"admin": true` in it, or a `granary_admin: true` claim, makes a
   * cluster admin.
   */
  readonly rolesClaim: string;
}

const ROLE_NAMES: Record<string, Role> = { viewer: Role.VIEWER, data_scientist: Role.DATA_SCIENTIST, data_owner: Role.DATA_OWNER };

/**
 * Verifies a JWT's signature (keys from the JWKS file), `exp`, `nbf`, issuer and audience, and maps
 * its claims to the identity an API key would have: the user claim, roles per project, admin.
 */
export function jwtResolver(options: JwtOptions): KeyResolver {
  const jwks = createLocalJWKSet(JSON.parse(readFileSync(options.jwksFile, "utf8")) as JSONWebKeySet);
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, { issuer: options.issuer, audience: options.audience }));
    } catch (err) {
      const why =
        err instanceof errors.JWTExpired
          ? "the token expired"
          : err instanceof errors.JOSEError
            ? `the token was refused (${err.code})`
            : "the token is malformed";
      throw new UnauthenticatedError(`invalid bearer token: ${why}`);
    }
    return keyOfClaims(payload, options);
  };
}

/** The identity a verified JWT stands for, shaped as an API key (id `jwt:<jti or sub>`). */
export function keyOfClaims(payload: JWTPayload, options: Pick<JwtOptions, "userClaim" | "rolesClaim">): ApiKey {
  const user = payload[options.userClaim];
  if (typeof user !== "string" || user === "") throw new UnauthenticatedError(`invalid bearer token: no "${options.userClaim}" claim naming the user`);
  const claim = payload[options.rolesClaim];
  const scopes: { project: string; role: Role }[] = [];
  let admin = payload.granary_admin === true;
  const add = (project: string, role: unknown) => {
    const r = typeof role === "string" ? ROLE_NAMES[role] : undefined;
    if (r !== undefined && /^[a-z][a-z0-9_]{0,62}$/.test(project)) scopes.push({ project, role: r });
  };
  if (Array.isArray(claim)) {
    for (const item of claim) {
      if (typeof item !== "string") continue;
      const [project, role] = item.split(":");
      if (project !== undefined) add(project, role);
    }
  } else if (claim && typeof claim === "object") {
    for (const [project, role] of Object.entries(claim)) {
      if (project === "admin") admin ||= role === true;
      else add(project, role);
    }
  }
  return create(ApiKeySchema, {
    id: `jwt:${typeof payload.jti === "string" ? payload.jti : user}`,
    user,
    admin,
    scopes,
    expireTime: payload.exp !== undefined ? timestampFromMs(payload.exp * 1000) : undefined,
  });
}
