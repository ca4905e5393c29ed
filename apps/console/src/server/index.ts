export { startConsoleServer, DEFAULT_DIST_DIR, type ConsoleServer, type ConsoleServerOptions } from "./console-server.js";
export { type ServiceName, type Upstreams, type ProxyLogger } from "./api-proxy.js";
export { loadConsoleConfig, type ConsoleConfig } from "./config.js";
