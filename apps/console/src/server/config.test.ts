import { describe, expect, it } from "@jest/globals";
import { loadConsoleConfig } from "./config.js";

describe("loadConsoleConfig", () => {
  it("defaults to loopback, port 51050 and the services' default HTTP ports", () => {
    expect(loadConsoleConfig({})).toEqual({
      host: "127.0.0.1",
      port: 51050,
      upstreams: {
        metadata: "http://127.0.0.1:51051",
        online: "http://127.0.0.1:51052",
        offline: "http://127.0.0.1:51053",
        registry: "http://127.0.0.1:51054",
      },
    });
  });

  it("reads every variable", () => {
    const config = loadConsoleConfig({
      GRANARY_CONSOLE_HOST: "0.0.0.0",
      GRANARY_CONSOLE_PORT: "8080",
      GRANARY_METADATA_HTTP_URL: "https://metadata:51051",
      GRANARY_ONLINE_HTTP_URL: "http://online:51052",
      GRANARY_OFFLINE_HTTP_URL: "http://offline:51053",
      GRANARY_REGISTRY_HTTP_URL: "http://registry:51054",
    });
    expect(config.host).toBe("0.0.0.0");
    expect(config.port).toBe(8080);
    expect(config.upstreams.metadata).toBe("https://metadata:51051");
    expect(config.upstreams.registry).toBe("http://registry:51054");
  });

  it("names every bad key at once", () => {
    expect(() => loadConsoleConfig({ GRANARY_CONSOLE_PORT: "http", GRANARY_ONLINE_HTTP_URL: "grpc://online:1" })).toThrow(
      /GRANARY_CONSOLE_PORT[\s\S]*GRANARY_ONLINE_HTTP_URL|GRANARY_ONLINE_HTTP_URL[\s\S]*GRANARY_CONSOLE_PORT/,
    );
  });
});
