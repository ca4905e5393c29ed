import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FailedPreconditionError } from "@granary/errors";
import { FeatureGroupSchema, ValidationPolicy } from "@granary/proto/metadata";
import { ScalarType } from "@granary/proto/types";
import { DuckEngine } from "../duck/index.js";
import { checkRules } from "./validation-rules.js";

let engine: DuckEngine;
const root = mkdtempSync(join(tmpdir(), "granary-rules-"));
beforeAll(async () => {
  engine = await DuckEngine.open({ dataRoot: root, threads: 1, memoryLimit: "128MB", maxQueries: 1 });
});
afterAll(() => {
  engine.close();
  rmSync(root, { recursive: true, force: true });
});

describe("checkRules", () => {
  it("answers FAILED_PRECONDITION naming the rule for a pattern RE2 cannot run (groups created before metadata checked)", async () => {
    const group = create(FeatureGroupSchema, {
      columns: [{ name: "s", type: { scalar: ScalarType.STRING } }],
      validationRules: [{ name: "shape", column: "s", policy: ValidationPolicy.FAIL, rule: { case: "regexMatch", value: { pattern: "(?=a)b" } } }],
    });
    const err = await engine.withConnection(async (c) => {
      await c.run(`CREATE TEMP TABLE t AS SELECT 'ab' AS s`);
      return checkRules(c, "t", group).then(
        () => undefined,
        (e: unknown) => e,
      );
    });
    expect(err).toBeInstanceOf(FailedPreconditionError);
    expect((err as Error).message).toContain(`rule "shape"`);
    expect((err as Error).message).toContain("(?=");
  });
});
