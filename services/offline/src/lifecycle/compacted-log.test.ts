import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { OutOfRangeError } from "@granary/errors";
import { CommitKind, CommitSchema, OnlineSyncState, type Commit } from "@granary/proto/metadata";
import { commitsAsOf } from "../read/read-group.js";
import { CommitLog, upTo, type CommitEntry } from "../store/commit-log.js";
import { replacedDirs } from "./compaction.js";

const dir = (seq: number) => `shop/orders/v1/${String(seq).padStart(20, "0")}`;

function commit(id: number, kind: CommitKind, atMs: number, extra: Partial<Commit> = {}) {
  const c = create(CommitSchema, {
    project: "shop",
    featureGroup: { name: "orders", version: 1 },
    id: BigInt(id),
    kind,
    ingestionTime: timestampFromMs(atMs),
    files: [`${dir(id * 10)}/part-00000.parquet`],
    onlineSyncState: OnlineSyncState.NOT_APPLICABLE,
  });
  return Object.assign(c, extra);
}

/** Commits 1–4 (an insert, an insert with updated rows, a delete, an insert), then a compaction of 1–3 as commit 5, then 6. */
function compactedLog(retainedFromMs?: number): CommitLog {
  const log = new CommitLog();
  log.apply(commit(1, CommitKind.INSERT, 1000));
  log.apply(commit(2, CommitKind.INSERT, 2000, { rowsUpdated: 1n }));
  log.apply(commit(3, CommitKind.DELETE, 3000));
  log.apply(commit(4, CommitKind.INSERT, 4000));
  log.apply(
    commit(5, CommitKind.COMPACTION, 5000, {
      files: [`${dir(50)}/part-0.parquet`, `${dir(50)}/part-1.parquet`],
      tombstoneFiles: [`${dir(50)}/tombstones.parquet`],
      compactedThrough: 3n,
      rowsUpdated: 1n,
      retainedFrom: retainedFromMs === undefined ? undefined : timestampFromMs(retainedFromMs),
    }),
  );
  log.apply(commit(6, CommitKind.INSERT, 6000));
  return log;
}

const shape = (list: readonly CommitEntry[]) =>
  list.map((c) => `${c.part ? "part" : "commit"}:${c.id}:${CommitKind[c.kind]}${c.readBound === undefined ? "" : `<=${c.readBound}`}`);

describe("reads over a compacted commit log", () => {
  it("reads the compaction's rows and tombstones in place of the commits it covers, then the later ones", () => {
    const log = compactedLog();
    const now = log.commits("shop", "orders", 1);
    // Commit 4 came after the compaction's cut (3) though before its record (5): read from its own file.
    expect(shape(now)).toEqual(["part:3:INSERT", "part:3:DELETE", "commit:4:INSERT", "commit:6:INSERT"]);
    expect(now[0]!.files).toEqual([`${dir(50)}/part-0.parquet`, `${dir(50)}/part-1.parquet`]);
    expect(now[1]!.files).toEqual([`${dir(50)}/tombstones.parquet`]);
    expect(now[0]!.rowsUpdated).toBe(1n);
    // History keeps every record; the snapshot is the same object until the log changes.
    expect(log.history("shop", "orders", 1).map((c) => Number(c.id))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(log.commits("shop", "orders", 1)).toBe(now);
  });

  it("cuts inside what a compaction covers by sequence number, and at or after its end reads it whole", () => {
    const now = compactedLog().commits("shop", "orders", 1);
    expect(shape(upTo(now, 1n))).toEqual(["part:3:INSERT<=10", "part:3:DELETE<=10"]);
    expect(shape(upTo(now, 2n))).toEqual(["part:3:INSERT<=20", "part:3:DELETE<=20"]);
    expect(shape(upTo(now, 3n))).toEqual(["part:3:INSERT", "part:3:DELETE"]);
    expect(shape(upTo(now, 5n))).toEqual(["part:3:INSERT", "part:3:DELETE", "commit:4:INSERT"]);
    expect(shape(commitsAsOf(now, { kind: "time", micros: 2_500_000n }))).toEqual(["part:3:INSERT<=20", "part:3:DELETE<=20"]);
    expect(commitsAsOf(now, { kind: "time", micros: 500_000n })).toEqual([]);
    // The same cut gives the same objects (their files are checked once).
    expect(upTo(now, 2n)[0]).toBe(upTo(now, 2n)[0]);
  });

  it("refuses a cut older than the compaction's retention, and allows one at or after it", () => {
    const now = compactedLog(2000).commits("shop", "orders", 1);
    expect(() => upTo(now, 1n, () => "Read of orders")).toThrow(OutOfRangeError);
    expect(() => upTo(now, 1n, () => "Read of orders")).toThrow(/Read of orders reaches back to commit 1.*1970-01-01T00:00:02.000Z/);
    expect(shape(upTo(now, 2n))).toEqual(["part:3:INSERT<=20", "part:3:DELETE<=20"]);
    expect(shape(upTo(now, 6n))).toHaveLength(4);
  });

  it("names the directories a newer compaction replaced, for deletion after a crash", () => {
    const log = compactedLog();
    expect(replacedDirs(log).sort()).toEqual([dir(10), dir(20), dir(30)]);
    log.apply(commit(7, CommitKind.COMPACTION, 7000, { files: [`${dir(70)}/part-0.parquet`], compactedThrough: 6n }));
    expect(replacedDirs(log).sort()).toEqual([dir(10), dir(20), dir(30), dir(40), dir(50), dir(60)]);
    expect(shape(log.commits("shop", "orders", 1))).toEqual(["part:6:INSERT"]);
  });
});
