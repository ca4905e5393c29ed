import { describe, expect, it } from "@jest/globals";
import { re2SyntaxError } from "./feature-group-rules.js";

describe("re2SyntaxError", () => {
  it("accepts RE2 syntax, including what JavaScript's RegExp refuses", () => {
    for (const p of ["^[a-z]+$", "\\d{2,}", "(?i)abc", "(?P<name>x)", "[[:alpha:]]+", "\\pL", "\\(?<a>", "[<]"]) expect(re2SyntaxError(p)).toBeUndefined();
  });

  it.each([
    ["(?=a)b", "(?="],
    ["(?!a)b", "(?!"],
    ["(?<=a)b", "(?<"],
    ["(?<!a)b", "(?<"],
    ["(a)\\1", "\\1"],
    ["(?P<n>a)\\k<n>", "\\k"],
    ["(?<n>a)", "(?P<name>"],
    ["a++", "++"],
    ["(?>a)", "(?>"],
    ["([a-", "missing"],
  ])("refuses %s, naming %s", (pattern, construct) => {
    expect(re2SyntaxError(pattern)).toContain(construct);
  });
});
