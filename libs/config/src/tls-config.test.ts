import { describe, expect, it } from "@jest/globals";
import { readClientTls, readServerConfig, readServiceAddress, serviceClientTls } from "./common-config.js";
import { type ConfigError, EnvReader, type Env } from "./env-reader.js";

function server(env: Env) {
  const r = new EnvReader(env);
  const config = readServerConfig(r, "online");
  r.finish();
  return config;
}

function problems(read: (r: EnvReader) => unknown, env: Env): readonly string[] {
  const r = new EnvReader(env);
  read(r);
  try {
    r.finish();
  } catch (err) {
    return (err as ConfigError).problems;
  }
  return [];
}

describe("server TLS settings", () => {
  it("are off without files, TLS with a certificate and key, mTLS with a CA too", () => {
    expect(server({}).tls).toBeUndefined();
    expect(server({ GRANARY_TLS_CERT: "/c.crt", GRANARY_TLS_KEY: "/c.key" }).tls).toEqual({
      certFile: "/c.crt",
      keyFile: "/c.key",
      caFile: undefined,
      requireClientCerts: false,
    });
    expect(server({ GRANARY_TLS_CERT: "/c.crt", GRANARY_TLS_KEY: "/c.key", GRANARY_TLS_CA: "/ca.crt" }).tls).toMatchObject({
      caFile: "/ca.crt",
      requireClientCerts: true,
    });
    // A CA trusted for dialling, without requiring client certificates (development certificates).
    expect(server({ GRANARY_TLS_CERT: "/c.crt", GRANARY_TLS_KEY: "/c.key", GRANARY_TLS_CA: "/ca.crt", GRANARY_TLS_CLIENT_CERTS: "off" }).tls).toMatchObject({
      caFile: "/ca.crt",
      requireClientCerts: false,
    });
    expect(
      problems((r) => readServerConfig(r, "online"), { GRANARY_TLS_CERT: "/c.crt", GRANARY_TLS_KEY: "/c.key", GRANARY_TLS_CLIENT_CERTS: "require" }),
    ).toEqual(["GRANARY_TLS_CLIENT_CERTS=require needs GRANARY_TLS_CA (the CA that signs client certificates)"]);
  });

  it("refuse a certificate without its key, a key without its certificate, and a CA alone", () => {
    const read = (r: EnvReader) => readServerConfig(r, "online");
    expect(problems(read, { GRANARY_TLS_CERT: "/c.crt" })).toEqual([
      expect.stringMatching(/GRANARY_TLS_CERT and GRANARY_TLS_KEY must be set together \(only GRANARY_TLS_CERT is set\)/),
    ]);
    expect(problems(read, { GRANARY_TLS_KEY: "/c.key" })).toEqual([expect.stringMatching(/only GRANARY_TLS_KEY is set/)]);
    expect(problems(read, { GRANARY_TLS_CA: "/ca.crt" })).toEqual([expect.stringMatching(/GRANARY_TLS_CA requires GRANARY_TLS_CERT and GRANARY_TLS_KEY/)]);
  });

  it("give a service's own clients TLS: trust the CA, present its certificate", () => {
    expect(serviceClientTls(server({}))).toBeUndefined();
    expect(serviceClientTls(server({ GRANARY_TLS_CERT: "/c.crt", GRANARY_TLS_KEY: "/c.key", GRANARY_TLS_CA: "/ca.crt" }))).toEqual({
      caFile: "/ca.crt",
      certFile: "/c.crt",
      keyFile: "/c.key",
    });
  });

  it("read a tool's client TLS from the same variables", () => {
    const r = new EnvReader({ GRANARY_TLS_CA: "/ca.crt" });
    expect(readClientTls(r)).toEqual({ caFile: "/ca.crt", certFile: undefined, keyFile: undefined });
    expect(readClientTls(new EnvReader({}))).toBeUndefined();
    expect(problems(readClientTls, { GRANARY_TLS_KEY: "/k" })).toEqual([expect.stringMatching(/must be set together/)]);
  });
});

describe("reflection and the health port", () => {
  it("leave reflection to the bind address unless GRANARY_REFLECTION says", () => {
    expect(server({}).reflection).toBeUndefined();
    expect(server({ GRANARY_REFLECTION: "on" }).reflection).toBe(true);
    expect(server({ GRANARY_REFLECTION: "off" }).reflection).toBe(false);
    expect(problems((r) => readServerConfig(r, "online"), { GRANARY_REFLECTION: "yes" })).toEqual([
      expect.stringMatching(/GRANARY_REFLECTION must be one of on, off/),
    ]);
  });

  it("read GRANARY_HEALTH_PORT", () => {
    expect(server({}).healthPort).toBeUndefined();
    expect(server({ GRANARY_HEALTH_PORT: "8086" }).healthPort).toBe(8086);
  });
});

describe("service addresses", () => {
  const address = (value: string | undefined) => {
    const r = new EnvReader({ GRANARY_METADATA_ADDRESS: value });
    const a = readServiceAddress(r, "metadata");
    r.finish();
    return a;
  };

  it("accept host:port, https://host:port and http://host:port", () => {
    expect(address(undefined)).toBe("127.0.0.1:50051");
    expect(address("metadata:50051")).toBe("metadata:50051");
    expect(address("https://granary-metadata.ml.svc:50051")).toBe("https://granary-metadata.ml.svc:50051");
    expect(address("https://[::1]:50051/")).toBe("https://[::1]:50051");
    expect(address("http://metadata:50051")).toBe("http://metadata:50051");
  });

  it("refuse anything else", () => {
    for (const bad of ["metadata", "grpc://metadata:50051", "https://metadata", "https://metadata:50051/v1"]) {
      expect(problems((r) => readServiceAddress(r, "metadata"), { GRANARY_METADATA_ADDRESS: bad })).toEqual([
        `GRANARY_METADATA_ADDRESS must be host:port, https://host:port or http://host:port, got "${bad}"`,
      ]);
    }
  });
});
