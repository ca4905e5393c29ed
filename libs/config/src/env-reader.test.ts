import { describe, expect, it } from "@jest/globals";
import { ConfigError, EnvReader } from "./env-reader.js";

describe("EnvReader", () => {
  it("reads typed values and falls back to defaults", () => {
    const r = new EnvReader({ A: "42", B: "true", C: " text " });
    expect(r.int("A", 1)).toBe(42);
    expect(r.bool("B", false)).toBe(true);
    expect(r.string("C", "x")).toBe("text");
    expect(r.int("MISSING", 7)).toBe(7);
    expect(() => r.finish()).not.toThrow();
  });

  it("lists every bad key in one error", () => {
    const r = new EnvReader({ PORT: "http", FLAG: "maybe", MODE: "fast", URL: "not a url", NUM: "99999" });
    r.port("PORT", 1);
    r.bool("FLAG", false);
    r.oneOf("MODE", ["slow", "safe"], "slow");
    r.optionalUrl("URL", ["postgres:"]);
    r.int("NUM", 1, { max: 100 });
    r.requiredString("NEEDED");
    let error: unknown;
    try {
      r.finish();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(6);
    for (const key of ["PORT", "FLAG", "MODE", "URL", "NUM", "NEEDED"]) {
      expect(problems.some((p) => p.startsWith(key))).toBe(true);
    }
    expect((error as Error).message).toContain("NEEDED is required");
  });

  it("never echoes a password from a bad URL", () => {
    const r = new EnvReader({ DATABASE_URL: "mysql://user:secret@host/db" });
    r.optionalUrl("DATABASE_URL", ["postgres:", "postgresql:"]);
    expect(() => r.finish()).toThrow(ConfigError);
    try {
      r.finish();
    } catch (err) {
      expect((err as Error).message).not.toContain("secret");
    }
  });
});
