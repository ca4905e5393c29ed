import { describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { Role } from "@granary/proto/metadata";
import { connectOptions, type GlobalOptions } from "../context.js";
import { explainError } from "../explain-error.js";
import { runCli } from "../program.js";
import { parseExpiry, parseScope } from "./keys.js";

async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["node", "granary", ...args], {
    output: () => ({ out: (t) => out.push(t), err: (t) => err.push(t), interactive: false }),
    env: {},
  });
  return { code, out, err };
}

describe("granary keys: arguments", () => {
  it("parses project:role scopes with the roles' command-line names", () => {
    expect(parseScope("fraud:viewer")).toEqual({ project: "fraud", role: Role.VIEWER });
    expect(parseScope("fraud:data_scientist")).toEqual({ project: "fraud", role: Role.DATA_SCIENTIST });
    expect(parseScope("air_quality:data_owner")).toEqual({ project: "air_quality", role: Role.DATA_OWNER });
    expect(() => parseScope("fraud:owner")).toThrow(/--scope "fraud:owner" is not project:role \(role: viewer, data_scientist, data_owner\)/);
    expect(() => parseScope("fraud")).toThrow(/not project:role/);
  });

  it("takes expiry times in ISO-8601, UTC without a zone, only in the future", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    expect(parseExpiry("2026-12-31", now).toISOString()).toBe("2026-12-31T00:00:00.000Z");
    expect(parseExpiry("2026-06-01T12:30:00+02:00", now).toISOString()).toBe("2026-06-01T10:30:00.000Z");
    expect(parseExpiry("2026-06-01 12:30", now).toISOString()).toBe("2026-06-01T12:30:00.000Z");
    expect(() => parseExpiry("2025-12-31", now)).toThrow(/in the past/);
    expect(() => parseExpiry("next week", now)).toThrow(/not an ISO-8601 time/);
    expect(() => parseExpiry("1767225600000", now)).toThrow(/not an ISO-8601 time/);
  });

  it("refuses a key with neither a scope nor --admin, and a missing --user, before calling anything", async () => {
    // Port 1: were anything sent, the error would be UNAVAILABLE, not a usage error.
    const nowhere = ["--address", "127.0.0.1", "--metadata", "127.0.0.1:1"];
    expect(await cli([...nowhere, "keys", "create", "--user", "ana"])).toMatchObject({
      code: 2,
      err: ["granary: a key needs --scope project:role (repeatable) or --admin"],
    });
    expect(await cli([...nowhere, "keys", "create", "--user", "ana", "--scope", "fraud:boss"])).toMatchObject({ code: 2 });
    const missing = await cli([...nowhere, "keys", "create", "--admin"]);
    expect(missing.code).toBe(2);
    expect(missing.err.join("\n")).toMatch(/required option '--user <name>' not specified \(see granary keys create --help\)/);
  });
});

describe("credentials and TLS options", () => {
  const base: GlobalOptions = { project: "default", progress: false };

  it("passes https:// addresses and the CA file to the SDK; no --api-key leaves the SDK to look further", () => {
    const options = connectOptions({ ...base, metadata: "https://granary.example.com:50051", caFile: "ca.pem" });
    expect(options).toMatchObject({ addresses: { metadata: "https://granary.example.com:50051" }, caFile: "ca.pem", apiKey: undefined });
    expect(connectOptions({ ...base, apiKey: "grn_x" }).apiKey).toBe("grn_x");
    expect(() => connectOptions({ ...base, online: "ftp://h:1" })).toThrow(/--online "ftp:\/\/h:1" is not host:port \(or https:\/\/host:port\)/);
  });

  it("explains UNAUTHENTICATED in one line that says where the key is looked for", async () => {
    const server = new ConnectError("API key 0123 of ana was revoked", Code.Unauthenticated);
    const fromSdk = new ConnectError(`${server.rawMessage} (the SDK's hint)`, Code.Unauthenticated, undefined, undefined, server);
    const explained = await explainError(fromSdk, { apiKeyHint: "the API key came from GRANARY_API_KEY; keys are read from --api-key, …" });
    expect(explained).toEqual({
      message: "not authenticated: API key 0123 of ana was revoked; the API key came from GRANARY_API_KEY; keys are read from --api-key, …",
      exitCode: 1,
    });
  });

  it("says an untrusted TLS certificate is a trust setting, not the suite failing", async () => {
    const explained = await explainError(new ConnectError("unable to verify the first certificate", Code.Unknown));
    expect(explained.message).toBe(
      "the TLS certificate of the suite was not trusted: unable to verify the first certificate; give its CA with --ca-file or GRANARY_TLS_CA",
    );
  });
});
