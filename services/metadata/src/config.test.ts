import { describe, expect, it } from "@jest/globals";
import { newApiKey } from "@granary/auth";
import { loadMetadataConfig } from "./config.js";

describe("metadata config", () => {
  it("keeps the admin key file under the data directory unless told otherwise", () => {
    expect(loadMetadataConfig({ GRANARY_DATA_DIR: "/var/granary" }).admin).toEqual({ bootstrapKey: undefined, keyFile: "/var/granary/admin.key" });
    expect(loadMetadataConfig({ GRANARY_ADMIN_KEY_FILE: "/secrets/admin" }).admin.keyFile).toBe("/secrets/admin");
  });

  it("takes a bootstrap admin key shaped like a Granary key and refuses anything else", () => {
    const { token } = newApiKey();
    expect(loadMetadataConfig({ GRANARY_BOOTSTRAP_ADMIN_KEY: token }).admin.bootstrapKey).toBe(token);
    expect(() => loadMetadataConfig({ GRANARY_BOOTSTRAP_ADMIN_KEY: "hunter2", GRANARY_METADATA_DB_POOL_SIZE: "0" })).toThrow(
      /GRANARY_BOOTSTRAP_ADMIN_KEY must be a Granary API key[\s\S]*GRANARY_METADATA_DB_POOL_SIZE/,
    );
  });
});
