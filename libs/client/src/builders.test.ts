import { describe, expect, it } from "@jest/globals";
import { ValidationPolicy } from "@granary/proto/metadata";
import { rules, split } from "./builders.js";

describe("split builders", () => {
  it("builds random splits whose fractions sum to one", () => {
    const s = split.random({ train: 0.7, validation: 0.1, test: 0.2, seed: 3 });
    expect(s.kind.case).toBe("random");
    expect(s.kind.case === "random" && s.kind.value).toMatchObject({ train: 0.7, validation: 0.1, test: 0.2, seed: 3n });
    expect(() => split.random({ train: 0.7, test: 0.2 })).toThrow(/must sum to 1/);
  });

  it("builds time splits with open ends", () => {
    const s = split.time({ train: { end: new Date(Date.UTC(2025, 0, 10)) }, test: { start: new Date(Date.UTC(2025, 0, 10)) } });
    expect(s.kind.case).toBe("time");
    if (s.kind.case !== "time") return;
    expect(s.kind.value.train?.start).toBeUndefined();
    expect(Number(s.kind.value.train?.end?.seconds)).toBe(Date.UTC(2025, 0, 10) / 1000);
    expect(s.kind.value.test?.end).toBeUndefined();
    expect(s.kind.value.validation).toBeUndefined();
  });
});

describe("validation rule builders", () => {
  it("builds each rule with a default name and the FAIL policy unless told", () => {
    const between = rules.between("pm25", { min: 0, max: 500 });
    expect(between).toMatchObject({ name: "pm25_between", column: "pm25", policy: ValidationPolicy.FAIL });
    expect(between.rule.case === "between" && between.rule.value).toMatchObject({ min: 0, max: 500 });
    expect(rules.notNull("id", { policy: "warn" }).policy).toBe(ValidationPolicy.WARN);
    expect(rules.unique("id").rule.case).toBe("unique");
    const inSet = rules.valuesInSet("category", ["a", "b"], { name: "known_category" });
    expect(inSet.name).toBe("known_category");
    expect(inSet.rule.case === "valuesInSet" && inSet.rule.value.values.map((v) => v.kind.value)).toEqual(["a", "b"]);
    expect(rules.matches("email", "^.+@.+$").rule.case).toBe("regexMatch");
  });
});
