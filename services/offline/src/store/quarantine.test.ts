import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkDataRoot, KnownGroups, StartRefusedError } from "../start-check.js";
import { CommitLayout, recordedDirs } from "./commit-layout.js";
import { batchName, batchTime, listQuarantine, purgeQuarantine, quarantine } from "./quarantine.js";

const SEQ = "00000000000000000001";
let scratch: string;
let root: string;
let victim: string;

function file(path: string, text = "PAR1"): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), "granary-quarantine-"));
  root = join(scratch, "root");
  victim = join(scratch, "victim");
  mkdirSync(root);
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

describe("findUnrecorded + quarantine", () => {
  it("moves only unrecorded commit directories it finds under the root, never through a symlink, and deletes nothing", async () => {
    file(join(root, "shop", "orders", "v1", SEQ, "part-00000.parquet"));
    file(join(root, "shop", "orders", "v1", "00000000000000000002", "part-00000.parquet"), "orphan");
    file(join(root, "shop", "orders", "v1", ".tmp-00000000000000000003", "part-00000.parquet"));
    // Outside the root, in the layout's shape: reachable only through symlinks planted inside.
    file(join(victim, "orders", "v1", "00000000000000000009", "part-00000.parquet"));
    file(join(victim, "v1", "00000000000000000009", "part-00000.parquet"));
    file(join(victim, "00000000000000000009", "part-00000.parquet"));
    symlinkSync(victim, join(root, "linked"));
    symlinkSync(victim, join(root, "shop", "linked"));
    symlinkSync(victim, join(root, "shop", "orders", "v2"));
    symlinkSync(join(victim, "00000000000000000009"), join(root, "shop", "orders", "v1", "00000000000000000009"));
    // A forged record can only spare directories, never add one to move.
    const recorded = recordedDirs([
      `shop/orders/v1/${SEQ}/part-00000.parquet`,
      "../victim/00000000000000000009/part-00000.parquet",
      join(victim, "00000000000000000009/part-00000.parquet"),
    ]);
    const layout = new CommitLayout(root);
    const found = await layout.findUnrecorded(recorded);
    expect(found.sort()).toEqual(["shop/orders/v1/.tmp-00000000000000000003", "shop/orders/v1/00000000000000000002"]);

    const at = new Date(Date.UTC(2026, 11, 6, 23, 7, 3, 123));
    const { batch, moved } = await quarantine(root, found, at);
    expect(batch).toBe(join(root, ".quarantine", "2026-12-06T23-07-03-123Z"));
    expect(moved).toEqual(found);
    expect(readFileSync(join(batch, "shop/orders/v1/00000000000000000002/part-00000.parquet"), "utf8")).toBe("orphan");
    expect(existsSync(join(batch, "shop/orders/v1/.tmp-00000000000000000003/part-00000.parquet"))).toBe(true);
    expect(existsSync(join(root, "shop", "orders", "v1", "00000000000000000002"))).toBe(false);
    expect(existsSync(join(root, "shop", "orders", "v1", SEQ, "part-00000.parquet"))).toBe(true);
    expect(readdirSync(victim).sort()).toEqual(["00000000000000000009", "orders", "v1"]);
    expect(existsSync(join(victim, "00000000000000000009", "part-00000.parquet"))).toBe(true);
    // The quarantine is not part of the layout: a second scan finds nothing more.
    expect(await layout.findUnrecorded(recorded)).toEqual([]);
    // A second batch in the same millisecond gets its own directory.
    file(join(root, "shop", "orders", "v1", "00000000000000000004", "part-00000.parquet"));
    const again = await quarantine(root, await layout.findUnrecorded(recorded), at);
    expect(again.batch).toBe(`${batch}-1`);
  });

  it("spares a recorded partitioned commit and moves unrecorded ones whole, nested directories and all", async () => {
    const nested = (seq: string, day: string, region: string) => `shop/orders/v1/${seq}/day=${day}/region=${region}/part-00000.parquet`;
    const recordedFiles = [`shop/orders/v1/${SEQ}/schema.parquet`, nested(SEQ, "2025-01-01", "eu"), nested(SEQ, "2025-01-02", "us%2Fwest")];
    for (const f of recordedFiles) file(join(root, f));
    file(join(root, nested("00000000000000000002", "2025-01-01", "eu")), "orphan");
    file(join(root, "shop", "orders", "v1", ".tmp-00000000000000000003", "day=2025-01-01", "region=eu", "part-0.parquet"));
    const layout = new CommitLayout(root);
    const recorded = recordedDirs(recordedFiles);
    expect([...recorded]).toEqual([`shop/orders/v1/${SEQ}`]);
    const found = await layout.findUnrecorded(recorded);
    expect(found.sort()).toEqual(["shop/orders/v1/.tmp-00000000000000000003", "shop/orders/v1/00000000000000000002"]);
    const { batch } = await quarantine(root, found);
    expect(readFileSync(join(batch, nested("00000000000000000002", "2025-01-01", "eu")), "utf8")).toBe("orphan");
    for (const f of recordedFiles) expect(existsSync(join(root, f))).toBe(true);
    expect(await layout.groupsWithCommits()).toEqual(["shop/orders/v1"]);
  });

  it("moves nothing when the quarantine is a symlink (it could lead out of the root)", async () => {
    file(join(root, "shop", "orders", "v1", SEQ, "part-00000.parquet"));
    mkdirSync(victim);
    symlinkSync(victim, join(root, ".quarantine"));
    await expect(quarantine(root, [`shop/orders/v1/${SEQ}`])).rejects.toThrow(/not a plain directory/);
    expect(existsSync(join(root, "shop", "orders", "v1", SEQ, "part-00000.parquet"))).toBe(true);
    expect(readdirSync(victim)).toEqual([]);
  });

  it("lists the group versions with published commits", async () => {
    file(join(root, "shop", "orders", "v1", SEQ, "part-00000.parquet"));
    file(join(root, "shop", "orders", "v2", ".tmp-00000000000000000001", "part-00000.parquet"));
    file(join(root, "shop", ".training", "view", "v1", "x", "train.parquet"));
    file(join(root, "lab", "runs", "v3", SEQ, "part-00000.parquet"));
    expect((await new CommitLayout(root).groupsWithCommits()).sort()).toEqual(["lab/runs/v3", "shop/orders/v1"]);
  });
});

describe("purgeQuarantine", () => {
  it("lists on a dry run, deletes only plain batches old enough, and never what a symlink points to", async () => {
    const now = new Date(Date.UTC(2026, 11, 10));
    const old = join(root, ".quarantine", batchName(new Date(Date.UTC(2026, 11, 1))));
    const young = join(root, ".quarantine", batchName(new Date(Date.UTC(2026, 11, 9))));
    file(join(old, "shop/orders/v1", SEQ, "part-00000.parquet"), "12345");
    file(join(young, "shop/orders/v1", SEQ, "part-00000.parquet"));
    file(join(victim, "keep.parquet"));
    symlinkSync(victim, join(old, "link"));
    file(join(root, ".quarantine", "notes.txt"));
    expect(batchTime(batchName(now))?.getTime()).toBe(now.getTime());

    const listed = await listQuarantine(root);
    expect(listed.map((b) => [b.name, b.files, b.plain])).toEqual([
      ["2026-12-01T00-00-00-000Z", 2, true],
      ["2026-12-09T00-00-00-000Z", 1, true],
      ["notes.txt", 0, false],
    ]);

    const dry = await purgeQuarantine(root, { dryRun: true, olderThanMs: 3 * 86_400_000, now });
    expect(dry.purged.map((b) => b.name)).toEqual(["2026-12-01T00-00-00-000Z"]);
    expect(existsSync(old)).toBe(true);

    await purgeQuarantine(root, { dryRun: false, olderThanMs: 3 * 86_400_000, now });
    expect(existsSync(old)).toBe(false);
    expect(existsSync(young)).toBe(true);
    expect(existsSync(join(victim, "keep.parquet"))).toBe(true);

    const all = await purgeQuarantine(root, { dryRun: false, now });
    expect(all.purged.map((b) => b.name)).toEqual(["2026-12-09T00-00-00-000Z"]);
    expect(readdirSync(join(root, ".quarantine"))).toEqual(["notes.txt"]);
  });

  it("has nothing to purge without a quarantine", async () => {
    expect(await purgeQuarantine(root, { dryRun: false })).toEqual({ purged: [], kept: [] });
  });
});

describe("checkDataRoot", () => {
  const known = (...groups: [string, string, number][]) => {
    const k = new KnownGroups();
    for (const [p, n, v] of groups) k.add(p, n, v);
    return k;
  };
  const check = (onDisk: string[], k: KnownGroups) => () => checkDataRoot({ dataRoot: "/data/offline", metadataAddress: "10.0.0.1:50051", onDisk, known: k });

  it("refuses when the catalogue knows none of the groups on disk, naming the data root and the metadata address", () => {
    expect(check(["shop/orders/v1"], known())).toThrow(StartRefusedError);
    expect(check(["shop/orders/v1", "shop/users/v1"], known(["other", "orders", 1], ["shop", "orders", 2]))).toThrow(/\/data\/offline.*10\.0\.0\.1:50051/);
  });

  it("starts over an empty data root, or when at least one group on disk is known", () => {
    expect(check([], known())).not.toThrow();
    expect(check(["shop/orders/v1", "shop/users/v1"], known(["shop", "users", 1]))).not.toThrow();
  });
});
