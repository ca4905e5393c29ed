import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminKeyFile, apiKeyHint, locateApiKey, resolveApiKey, resolveTls } from "./credentials.js";

const KEY = "grn_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
let cwd: string;

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), "granary-credentials-"));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

function writeAdminKey(dir = join(cwd, ".granary"), text = `${KEY}\n`): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "admin.key");
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

describe("resolveApiKey", () => {
  it("finds no key in an empty environment and directory", () => {
    expect(resolveApiKey({}, cwd)).toBeUndefined();
    expect(locateApiKey({}, cwd)).toEqual({ key: undefined, source: undefined, adminKeyFile: join(cwd, ".granary", "admin.key") });
  });

  it("reads the admin key npm start wrote under ./.granary, trimmed", () => {
    const path = writeAdminKey();
    expect(locateApiKey({}, cwd)).toEqual({ key: KEY, source: path, adminKeyFile: path });
  });

  it("follows GRANARY_DATA_DIR, relative to the working directory or absolute", () => {
    writeAdminKey(join(cwd, "data"));
    expect(resolveApiKey({ GRANARY_DATA_DIR: "data" }, cwd)).toBe(KEY);
    expect(resolveApiKey({ GRANARY_DATA_DIR: join(cwd, "data") }, "/")).toBe(KEY);
    expect(resolveApiKey({ GRANARY_DATA_DIR: "elsewhere" }, cwd)).toBeUndefined();
  });

  it("prefers GRANARY_API_KEY, then GRANARY_API_KEY_FILE, over the admin key", () => {
    writeAdminKey();
    writeFileSync(join(cwd, "mine.key"), " grn_other \n");
    expect(locateApiKey({ GRANARY_API_KEY: "grn_env", GRANARY_API_KEY_FILE: "mine.key" }, cwd)).toMatchObject({ key: "grn_env", source: "GRANARY_API_KEY" });
    expect(locateApiKey({ GRANARY_API_KEY_FILE: "mine.key" }, cwd)).toMatchObject({
      key: "grn_other",
      source: `GRANARY_API_KEY_FILE (${join(cwd, "mine.key")})`,
    });
    expect(locateApiKey({ GRANARY_API_KEY: "  " }, cwd)).toMatchObject({ key: KEY });
  });

  it("fails when GRANARY_API_KEY_FILE names a missing file, or a key file is empty", () => {
    expect(() => resolveApiKey({ GRANARY_API_KEY_FILE: "nope.key" }, cwd)).toThrow(/GRANARY_API_KEY_FILE names .*nope\.key, which does not exist/);
    writeAdminKey(undefined, "\n");
    expect(() => resolveApiKey({}, cwd)).toThrow(/admin key file .*admin\.key is empty/);
  });

  it("says which key was sent, or where keys are looked for", () => {
    expect(apiKeyHint(locateApiKey({}, cwd))).toBe(
      `no API key was found: it is read from the apiKey option, GRANARY_API_KEY, the file GRANARY_API_KEY_FILE names, or ${adminKeyFile({}, cwd)} (written by \`npm start\` on first start; GRANARY_DATA_DIR moves it)`,
    );
    expect(apiKeyHint(locateApiKey({ GRANARY_API_KEY: "k" }, cwd), "--api-key")).toMatch(
      /^the API key came from GRANARY_API_KEY; keys are read from --api-key, GRANARY_API_KEY/,
    );
  });

  it("reports an unreadable key file instead of sending no key", () => {
    if (process.getuid?.() === 0) return; // root reads any file
    const path = writeAdminKey();
    chmodSync(path, 0o000);
    expect(() => resolveApiKey({}, cwd)).toThrow(/permission denied/);
  });
});

describe("resolveTls", () => {
  it("takes the options, else GRANARY_TLS_CA / _CERT / _KEY, as absolute paths; none means no TLS files", () => {
    expect(resolveTls({ caFile: "ca.pem" }, { GRANARY_TLS_CA: "other.pem" }, cwd)).toEqual({
      caFile: join(cwd, "ca.pem"),
      certFile: undefined,
      keyFile: undefined,
    });
    expect(resolveTls({}, { GRANARY_TLS_CA: "/etc/ca.pem", GRANARY_TLS_CERT: "c.pem", GRANARY_TLS_KEY: "k.pem" }, cwd)).toEqual({
      caFile: "/etc/ca.pem",
      certFile: join(cwd, "c.pem"),
      keyFile: join(cwd, "k.pem"),
    });
    expect(resolveTls({}, {}, cwd)).toBeUndefined();
  });

  it("refuses half a client certificate", () => {
    expect(() => resolveTls({ certFile: "c.pem" }, {}, cwd)).toThrow(/certFile and keyFile go together/);
    expect(() => resolveTls({}, { GRANARY_TLS_KEY: "k.pem" }, cwd)).toThrow(/GRANARY_TLS_CERT and GRANARY_TLS_KEY must be set together/);
  });
});
