import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataLossError } from "@granary/errors";
import { CommitKind, OnlineSyncState } from "@granary/proto/metadata";
import { createLogger } from "@granary/telemetry";
import { CommitLayout } from "./commit-layout.js";
import type { CommitEntry } from "./commit-log.js";
import { ConfinedRoot, ConfinementError, pathProblem } from "./confined-path.js";

const SEQ = "00000000000000000001";
let base: string;
let root: string;
let outside: string;

function file(path: string): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "PAR1");
  return path;
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "granary-confined-"));
  root = join(base, "root");
  outside = join(base, "outside");
  file(join(root, "shop", "orders", "v1", SEQ, "part-00000.parquet"));
  file(join(root, "rival", "orders", "v1", SEQ, "part-00000.parquet"));
  file(join(outside, "secret.parquet"));
  file(join(outside, "grp", "v1", SEQ, "part-00000.parquet"));
  // Symlinks inside the root: a file, a commit directory, a whole group, each leading out of it.
  symlinkSync(join(outside, "secret.parquet"), join(root, "shop", "orders", "v1", "link.parquet"));
  symlinkSync(join(outside, "grp", "v1", SEQ), join(root, "shop", "orders", "v1", "00000000000000000002"));
  symlinkSync(join(outside, "grp"), join(root, "shop", "linked"));
  // A symlink that stays inside the group is fine; one into another group is not.
  symlinkSync(join(root, "shop", "orders", "v1", SEQ, "part-00000.parquet"), join(root, "shop", "orders", "v1", "alias.parquet"));
  symlinkSync(join(root, "rival", "orders", "v1", SEQ), join(root, "shop", "orders", "v1", "00000000000000000003"));
  // A partitioned commit: nested `<col>=<value>` directories, one of them a symlink leading out.
  file(join(root, "shop", "orders", "v1", SEQ, "day=2025-01-01", "region=eu%2Fwest", "part-00000.parquet"));
  symlinkSync(join(outside, "grp", "v1", SEQ), join(root, "shop", "orders", "v1", SEQ, "day=2025-01-01", "region=us"));
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("pathProblem", () => {
  const prefix = "shop/orders/v1/";
  it.each([
    ["shop/orders/v1/00000000000000000001/part-00000.parquet", undefined],
    ["../../other_project/orders/v1/x.parquet", "a path with an empty, '.' or '..' segment"],
    ["shop/orders/v1/../../../rival/orders/v1/x.parquet", "a path with an empty, '.' or '..' segment"],
    ["shop/orders/v1/./x.parquet", "a path with an empty, '.' or '..' segment"],
    ["shop/orders/v1//x.parquet", "a path with an empty, '.' or '..' segment"],
    ["/etc/passwd", "an absolute path"],
    ["C:/data/x.parquet", "an absolute path"],
    ["shop/orders/v1/*/part-00000.parquet", "a path with a backslash, glob character or NUL"],
    ["shop/orders/v1/{a,b}.parquet", "a path with a backslash, glob character or NUL"],
    ["shop/orders/v1\\..\\x.parquet", "a path with a backslash, glob character or NUL"],
    ["shop/orders/v1/x\0.parquet", "a path with a backslash, glob character or NUL"],
    ["shop/orders/v2/x.parquet", "a path outside its directory"],
    ["shop/orders/v10/x.parquet", "a path outside its directory"],
    ["shop/orders/v1", "a path outside its directory"],
    ["shop/orders/v1/", "a path with an empty, '.' or '..' segment"],
    ["rival/orders/v1/x.parquet", "a path outside its directory"],
    ["", "an empty path"],
    // Partitioned commits: nested `<col>=<value>` levels are fine, their values percent-encoded.
    [`shop/orders/v1/${SEQ}/day=2025-01-01/region=eu%2Fwest/part-00000.parquet`, undefined],
    [`shop/orders/v1/${SEQ}/tag=%2E%2E/part-00000.parquet`, undefined],
    [`shop/orders/v1/${SEQ}/tag=NULL/part-00000.parquet`, undefined],
    [`shop/orders/v1/${SEQ}/tag=../../../../rival/orders/v1/x.parquet`, "a path with an empty, '.' or '..' segment"],
    [`shop/orders/v1/${SEQ}/tag=x/../../../../../rival/orders/v1/x.parquet`, "a path with an empty, '.' or '..' segment"],
    [`shop/orders/v1/${SEQ}/tag=*/part-00000.parquet`, "a path with a backslash, glob character or NUL"],
    [`shop/orders/v1/${SEQ}/tag=[ab]/part-00000.parquet`, "a path with a backslash, glob character or NUL"],
    [`shop/orders/v1/${SEQ}/tag=a\\b/part-00000.parquet`, "a path with a backslash, glob character or NUL"],
    [`shop/orders/v1/${SEQ}/tag=\0/part-00000.parquet`, "a path with a backslash, glob character or NUL"],
    [`shop/orders/v1/${SEQ}/tag=a//part-00000.parquet`, "a path with an empty, '.' or '..' segment"],
  ])("%j → %s", (path, problem) => {
    expect(pathProblem(path, prefix)).toBe(problem);
  });
});

describe("ConfinedRoot", () => {
  const confined = () => new ConfinedRoot(root);
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => "resolved",
      (e: unknown) => (e instanceof ConfinementError ? e.reason : `other: ${String(e)}`),
    );

  it("resolves a file inside its directory to its real path", async () => {
    const real = await confined().resolve(`shop/orders/v1/${SEQ}/part-00000.parquet`, "shop/orders/v1/");
    expect(real).toBe(realpathSync(join(root, "shop/orders/v1", SEQ, "part-00000.parquet")));
    expect(await confined().resolve("shop/orders/v1/alias.parquet", "shop/orders/v1/")).toBe(real);
  });

  it("refuses symlinks that lead out of the directory, wherever they sit on the way", async () => {
    const r = confined();
    expect(await refusal(r.resolve("shop/orders/v1/link.parquet", "shop/orders/v1/"))).toBe("a symbolic link that leads outside its directory");
    expect(await refusal(r.resolve("shop/orders/v1/00000000000000000002/part-00000.parquet", "shop/orders/v1/"))).toBe(
      "a symbolic link that leads outside its directory",
    );
    expect(await refusal(r.resolve(`shop/linked/v1/${SEQ}/part-00000.parquet`, "shop/linked/v1/"))).toBe("a symbolic link that leads outside its directory");
    expect(await refusal(r.resolve("shop/orders/v1/00000000000000000003/part-00000.parquet", "shop/orders/v1/"))).toBe(
      "a symbolic link that leads outside its directory",
    );
  });

  it("resolves a nested partition file, and refuses a partition directory that is a symlink leading out", async () => {
    const r = confined();
    const nested = `shop/orders/v1/${SEQ}/day=2025-01-01/region=eu%2Fwest/part-00000.parquet`;
    expect(await r.resolve(nested, "shop/orders/v1/")).toBe(realpathSync(join(root, nested)));
    expect(await refusal(r.resolve(`shop/orders/v1/${SEQ}/day=2025-01-01/region=us/part-00000.parquet`, "shop/orders/v1/"))).toBe(
      "a symbolic link that leads outside its directory",
    );
  });

  it("refuses what the lexical check refuses before touching the disk, and files that do not exist", async () => {
    const r = confined();
    expect(await refusal(r.resolve(join(outside, "secret.parquet"), "shop/orders/v1/"))).toBe("an absolute path");
    expect(await refusal(r.resolve("../outside/secret.parquet", "shop/orders/v1/"))).toBe("a path with an empty, '.' or '..' segment");
    expect(await refusal(r.resolve("shop/orders/v1/nope/part-00000.parquet", "shop/orders/v1/"))).toBe("a file that does not exist");
  });

  it("compares against the root's real path when the root itself is reached through a symlink", async () => {
    const via = join(base, "via");
    symlinkSync(root, via);
    const r = new ConfinedRoot(via);
    expect(await r.resolve(`shop/orders/v1/${SEQ}/part-00000.parquet`, "shop/orders/v1/")).toBe(
      realpathSync(join(root, "shop/orders/v1", SEQ, "part-00000.parquet")),
    );
    expect(await refusal(r.resolve("shop/orders/v1/link.parquet", "shop/orders/v1/"))).toBe("a symbolic link that leads outside its directory");
  });
});

describe("CommitFiles", () => {
  const logger = createLogger({ level: "silent", service: "test" });
  const entry = (id: bigint, files: string[]): CommitEntry => ({
    id,
    kind: CommitKind.INSERT,
    sequence: id,
    files,
    ingestionMicros: 0n,
    rowsUpdated: 0n,
    minEventMicros: undefined,
    maxEventMicros: undefined,
    onlineSyncState: OnlineSyncState.NOT_APPLICABLE,
    erase: false,
  });
  const group = { project: "shop", name: "orders", version: 1 };

  it("gives the real paths of checked commits, and throws for a commit it did not check", async () => {
    const layout = new CommitLayout(root);
    const good = entry(1n, [`shop/orders/v1/${SEQ}/part-00000.parquet`]);
    const files = await layout.files.filesOf(group, [good], logger);
    expect(files(good)).toEqual([realpathSync(join(root, "shop/orders/v1", SEQ, "part-00000.parquet"))]);
    expect(() => files(entry(2n, good.files as string[]))).toThrow("without its files being checked");
  });

  it("checks every file of a partitioned commit, nested directories included", async () => {
    const layout = new CommitLayout(root);
    const nested = `shop/orders/v1/${SEQ}/day=2025-01-01/region=eu%2Fwest/part-00000.parquet`;
    const files = await layout.files.filesOf(group, [entry(3n, [nested])], logger);
    expect(files).toBeDefined();
    const escaping = entry(4n, [nested, `shop/orders/v1/${SEQ}/day=2025-01-01/region=us/part-00000.parquet`]);
    await expect(layout.files.check(group, [escaping], logger)).rejects.toBeInstanceOf(DataLossError);
  });

  it.each([
    ["another project's file", "../../rival/orders/v1/" + SEQ + "/part-00000.parquet"],
    ["another project's file by its own path", `rival/orders/v1/${SEQ}/part-00000.parquet`],
    ["an absolute path", "/etc/hostname"],
    ["a symlink leading outside", "shop/orders/v1/link.parquet"],
  ])("refuses the whole group with DATA_LOSS naming the commit, never the path: %s", async (_, path) => {
    const layout = new CommitLayout(root);
    const warnings: unknown[] = [];
    const log = { ...logger, warn: (o: unknown) => warnings.push(o) } as unknown as typeof logger;
    const good = entry(1n, [`shop/orders/v1/${SEQ}/part-00000.parquet`]);
    const bad = entry(7n, [path]);
    const err = await layout.files.check(group, [good, bad], log).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataLossError);
    const message = (err as Error).message;
    expect(message).toContain("commit 7");
    expect(message).toContain('feature group "orders" version 1');
    for (const leak of [path, root, outside, base]) expect(message).not.toContain(leak);
    // Warned once per commit, however often it is read.
    await layout.files.check(group, [bad], log).catch(() => undefined);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ commit: "7", file: path });
  });
});
