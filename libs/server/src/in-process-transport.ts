import { randomBytes } from "node:crypto";
import { create, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import {
  Code,
  createClient,
  createRouterTransport,
  type Client,
  type Interceptor,
  type ServiceImpl,
  type StreamResponse,
  type Transport,
} from "@connectrpc/connect";
import { Authenticator, createAccessControl, NO_LOOKUPS, type AccessControl, type AccessLookups, type Principal } from "@granary/auth";
import { UnauthenticatedError } from "@granary/errors";
import { ApiKeySchema, type AuditEvent } from "@granary/proto/metadata";
import { createLogger, type Logger } from "@granary/telemetry";
import { connectPipeline } from "./connect-pipeline.js";
import { defineService, type ServiceRegistration } from "./service-registration.js";

export interface InProcessOptions {
  /**
   * The API keys callers may present: bearer token → the key the metadata service would resolve it
   * to (user, admin, scopes: a role per project). With keys (or a serviceKey), authentication is on
   * as in production: the principal comes from the token through @granary/auth's Authenticator,
   * and a call without a known token is UNAUTHENTICATED. Without, authentication is off (every
   * caller an admin, as GRANARY_AUTH=off); the permission table still refuses methods it lacks.
   */
  readonly keys?: Readonly<Record<string, MessageInitShape<typeof ApiKeySchema>>>;
  /** The internal service key: a call bearing it is one of Granary's own services. */
  readonly serviceKey?: string;
  /** Shares and groups' creators, as the service's catalogue answers them; default none. */
  readonly lookups?: AccessLookups;
  /** Receives every audit event (calls that change something). */
  readonly audit?: (event: AuditEvent) => void;
  /** The access control itself, instead of keys / serviceKey / lookups / audit. */
  readonly access?: AccessControl;
  /** Sent as `authorization: Bearer <apiKey>` on every call that sets no authorization header itself. */
  readonly apiKey?: string;
  /** Where failed calls are logged as the server logs them; default silent. */
  readonly logger?: Logger;
}

/**
 * A client of handlers running in this process, with no port: connect's createRouterTransport
 * behind the steps of the server's call pipeline that decide what a handler sees and what a
 * caller gets back (call-guard.ts, shared with the grpc-js adapter): the principal from the
 * `authorization` header, put where handlers read it (`principalKey`); the permission table and
 * the authorizer; protovalidate with the enum and time checks; the call's deadline in the async
 * context (stores bound their queries by it); audit; and the one error mapping (typed errors keep
 * their code, anything else is INTERNAL with a generic message).
 *
 * Left out, being the grpc-js server's: the trace span and rpc.server.call.duration, grpc-js
 * (de)serialisation (connect's own decodes, so undecodable bytes are not the server's
 * INVALID_ARGUMENT), the message-size limit, shutdown (drain, ending calls in flight), the cap on
 * status message length, health and reflection. A `preEncoded` response is decoded into its
 * fields here, where grpc-js sends its bytes: what a test sees is what goes on the wire.
 */
export function createInProcessClient<T extends DescService>(service: T, impl: Partial<ServiceImpl<T>>, options: InProcessOptions = {}): Client<T> {
  return createClient(service, createInProcessTransport([defineService(service, impl)], options));
}

/** The transport under createInProcessClient, for several services behind one transport. */
export function createInProcessTransport(services: readonly ServiceRegistration[], options: InProcessOptions = {}): Transport {
  const access = options.access ?? accessOf(options);
  const logger = options.logger ?? silent();
  const bearer: Interceptor = (next) => (req) => {
    if (options.apiKey !== undefined && !req.header.has("authorization")) req.header.set("authorization", `Bearer ${options.apiKey}`);
    return next(req);
  };
  return createRouterTransport(
    (router) => {
      for (const { service, impl } of services) router.service(service, impl as Partial<ServiceImpl<DescService>>);
    },
    { router: { interceptors: [connectPipeline({ access, logger })] }, transport: { interceptors: [bearer] } },
  );
}

function accessOf(options: InProcessOptions): AccessControl {
  const keys = options.keys ?? {};
  const enabled = options.keys !== undefined || options.serviceKey !== undefined;
  const authenticator = new Authenticator({
    serviceKey: options.serviceKey ?? randomBytes(24).toString("base64url"),
    resolveKey: async (token) => {
      const key = keys[token];
      if (!key) throw new UnauthenticatedError("unknown API key", { reason: "API_KEY_UNKNOWN" });
      return create(ApiKeySchema, { id: `key-of-${key.user ?? "nobody"}`, ...key });
    },
  });
  return createAccessControl({
    enabled,
    authenticator,
    lookups: options.lookups ?? NO_LOOKUPS,
    service: "in-process",
    logger: silent(),
    auditSink: options.audit,
  });
}

function asMessage(message: unknown): MessageShape<DescMessage> {
  return message as MessageShape<DescMessage>;
}

function silent(): Logger {
  return createLogger({ level: "silent", service: "in-process" });
}
