import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommitLayout } from "./commit-layout.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "granary-layout-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("CommitLayout.stage and publish", () => {
  it("publishes a partitioned commit's nested tree whole under its sequence directory", async () => {
    const layout = new CommitLayout(root);
    const staged = await layout.stage("shop", "orders", 1, 42n);
    expect(staged.dir).toBe("shop/orders/v1/00000000000000000042");
    expect(staged.tmpDir).toBe(join(root, "shop/orders/v1/.tmp-00000000000000000042"));
    const files = [
      "schema.parquet",
      "day=2025-01-01/region=eu/part-00000.parquet",
      "day=2025-01-01/region=%2E%2E/part-00000.parquet",
      "day=2025-01-02/region=NULL/part-00001.parquet",
    ];
    for (const f of files) {
      mkdirSync(join(staged.tmpDir, f, ".."), { recursive: true });
      writeFileSync(join(staged.tmpDir, f), f);
    }
    await layout.publish(staged);
    expect(existsSync(staged.tmpDir)).toBe(false);
    for (const f of files) expect(readFileSync(join(root, staged.dir, f), "utf8")).toBe(f);
    expect(await layout.findUnrecorded(new Set([staged.dir]))).toEqual([]);
    expect(await layout.findUnrecorded(new Set())).toEqual([staged.dir]);
  });

  it("discards a staged tree that was never recorded", async () => {
    const layout = new CommitLayout(root);
    const staged = await layout.stage("shop", "orders", 1, 43n);
    mkdirSync(join(staged.tmpDir, "day=2025-01-01"), { recursive: true });
    writeFileSync(join(staged.tmpDir, "day=2025-01-01", "part-00000.parquet"), "x");
    await layout.discard(staged);
    expect(existsSync(staged.tmpDir)).toBe(false);
    expect(existsSync(staged.finalDir)).toBe(false);
  });
});
