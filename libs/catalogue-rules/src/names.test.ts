import { describe, expect, it } from "@jest/globals";
import { InvalidArgumentError } from "@granary/errors";
import { checkIdentifier, IDENTIFIER } from "./names.js";

function problem(value: string): InvalidArgumentError {
  try {
    checkIdentifier(value, "feature_group.columns[2].name", "column name");
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err;
    throw err;
  }
  throw new Error(`expected ${value} to be rejected`);
}

describe("checkIdentifier", () => {
  it("accepts lower-case identifiers of up to 63 characters", () => {
    for (const ok of ["a", "cc_num", "count_10m", `a${"b".repeat(62)}`]) {
      expect(() => checkIdentifier(ok, "f", "name")).not.toThrow();
      expect(IDENTIFIER.test(ok)).toBe(true);
    }
  });

  it("rejects anything else, naming the field and the value", () => {
    for (const bad of ["", "Amount", "1st", "_x", "a-b", "a b", `a${"b".repeat(63)}`]) {
      const err = problem(bad);
      expect(err.field).toBe("feature_group.columns[2].name");
      expect(err.message).toBe(
        `feature_group.columns[2].name: column name ${JSON.stringify(bad)} must be an identifier: ` +
          "a lower-case letter, then at most 62 lower-case letters, digits or underscores",
      );
    }
  });

  it("cuts a very long value to 80 characters in the message", () => {
    const err = problem("X".repeat(500));
    expect(err.message).toContain(`"${"X".repeat(80)}…"`);
    expect(err.message).not.toContain("X".repeat(81));
  });
});
