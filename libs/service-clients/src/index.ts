export { bearerInterceptor, createServiceClient, createServiceTransport, serviceUrl, type TransportOptions } from "./create-service-client.js";
export { traceInterceptor } from "./trace-interceptor.js";
export { callUpstream, translateUpstreamError, type UpstreamPolicy } from "./upstream-error.js";
