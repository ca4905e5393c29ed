import { EnvReader, readClientTls, type ClientTlsConfig, type Env } from "@granary/config";
import type { Upstreams } from "./api-proxy.js";

export interface ConsoleConfig {
  readonly host: string;
  readonly port: number;
  readonly upstreams: Upstreams;
  /** GRANARY_TLS_CA (trust), GRANARY_TLS_CERT + GRANARY_TLS_KEY (client certificate, for mTLS services). */
  readonly tls: ClientTlsConfig | undefined;
}

/**
 * The standalone console's settings; every bad key is reported at once. The upstream defaults are
 * the services' default HTTP (Connect) ports: DEFAULT_HTTP_PORTS in @granary/config.
 */
export function loadConsoleConfig(env: Env = process.env): ConsoleConfig {
  const r = new EnvReader(env);
  const url = (key: string, fallback: string): string => r.optionalUrl(key, ["http:", "https:"]) ?? fallback;
  const config: ConsoleConfig = {
    host: r.string("GRANARY_CONSOLE_HOST", "127.0.0.1"),
    port: r.port("GRANARY_CONSOLE_PORT", 51050),
    upstreams: {
      metadata: url("GRANARY_METADATA_HTTP_URL", "http://127.0.0.1:51051"),
      online: url("GRANARY_ONLINE_HTTP_URL", "http://127.0.0.1:51052"),
      offline: url("GRANARY_OFFLINE_HTTP_URL", "http://127.0.0.1:51053"),
      registry: url("GRANARY_REGISTRY_HTTP_URL", "http://127.0.0.1:51054"),
    },
    tls: readClientTls(r),
  };
  r.finish();
  return config;
}
