import { EnvReader, type Env } from "@granary/config";
import type { Upstreams } from "./api-proxy.js";

export interface ConsoleConfig {
  readonly host: string;
  readonly port: number;
  readonly upstreams: Upstreams;
}

/**
 * The standalone console's settings; every bad key is reported at once. The upstream defaults are
 * the services' default HTTP (Connect) ports: each gRPC port + 1000 (@granary/config).
 */
export function loadConsoleConfig(env: Env = process.env): ConsoleConfig {
  const r = new EnvReader(env);
  const url = (key: string, fallback: string): string => r.optionalUrl(key, ["http:", "https:"]) ?? fallback;
  const config: ConsoleConfig = {
    host: r.string("GRANARY_CONSOLE_HOST", "127.0.0.1"),
    port: r.port("GRANARY_CONSOLE_PORT", 51050),
    upstreams: {
      metadata: url("GRANARY_METADATA_HTTP_URL", "http://127.0.0.1:52051"),
      online: url("GRANARY_ONLINE_HTTP_URL", "http://127.0.0.1:52052"),
      offline: url("GRANARY_OFFLINE_HTTP_URL", "http://127.0.0.1:52053"),
      registry: url("GRANARY_REGISTRY_HTTP_URL", "http://127.0.0.1:52054"),
    },
  };
  r.finish();
  return config;
}
