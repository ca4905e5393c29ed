export { createServer, isLoopback, LIVENESS_HEALTH_NAME, type GranaryServer, type ServerOptions } from "./create-server.js";
export { defineService, type ServiceRegistration } from "./service-registration.js";
export { principalKey } from "./rpc-context.js";
export { IDENTIFIER_PATTERN, validateRequest } from "./request-validator.js";
export { runMain, type MainOptions, type RunningService } from "./run-main.js";
export { preEncoded, type PreEncoded } from "./pre-encoded.js";
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, configurePageTokenKey, decodePageToken, encodePageToken, pageOf, pageSizeOf } from "./page-token.js";
export { translateHandlerErrors } from "./translate-handler-errors.js";
export { createAuthenticator, createRemoteAccess, serviceKeyOf, type RemoteAccess } from "./service-access.js";
