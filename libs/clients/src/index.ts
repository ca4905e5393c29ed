export { bearerInterceptor, createServiceClient, createServiceTransport, type TransportOptions } from "./create-service-client.js";
export { traceInterceptor } from "./trace-interceptor.js";
