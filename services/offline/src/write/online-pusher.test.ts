import { describe, expect, it } from "@jest/globals";
import { clone, create } from "@bufbuild/protobuf";
import { CommitKind, CommitSchema, OnlineSyncState, FeatureGroupSchema, type Commit } from "@granary/proto/metadata";
import { createLogger } from "@granary/telemetry";
import { CommitLog } from "../store/commit-log.js";
import type { CommitLayout } from "../store/commit-layout.js";
import type { MetadataWriter } from "../upstream/metadata-writer.js";
import type { DuckEngine } from "../duck/index.js";
import type { OnlineWriter } from "../upstream/online-writer.js";
import { OnlinePusher } from "./online-pusher.js";

// Issue 13: the outbox retried a poison entry forever, and a failed push blocked the group's later commits.
describe("OnlinePusher", () => {
  const group = create(FeatureGroupSchema, { project: "p", name: "g", version: 1, onlineEnabled: true, primaryKey: ["id"] });
  const record = (id: bigint) =>
    create(CommitSchema, {
      project: "p",
      featureGroup: { name: "g", version: 1 },
      id,
      kind: CommitKind.INSERT,
      files: [`p/g/v1/${String(id).padStart(20, "0")}/part-00000.parquet`],
      onlineSyncState: OnlineSyncState.PENDING,
    });

  function pusher(poison: bigint) {
    const commits = new CommitLog();
    const stored = new Map<bigint, Commit>();
    for (const id of [1n, 2n]) stored.set(id, record(id));
    const entries = [...stored.values()].map((c) => commits.apply(c));
    const attempts = new Map<bigint, number>();
    const metadata = {
      updateCommit: async (patch: Commit, paths: readonly string[]) => {
        const next = clone(CommitSchema, stored.get(patch.id)!);
        if (paths.includes("online_sync_state")) next.onlineSyncState = patch.onlineSyncState;
        stored.set(patch.id, next);
        return next;
      },
    } as unknown as MetadataWriter;
    const layout = {
      files: {
        filesOf: async (_g: unknown, [c]: { id: bigint }[]) => {
          attempts.set(c!.id, (attempts.get(c!.id) ?? 0) + 1);
          if (c!.id === poison) throw new Error("the online store refuses this commit");
          return () => [];
        },
      },
    } as unknown as CommitLayout;
    const engine = { withConnection: async () => undefined } as unknown as DuckEngine;
    const p = new OnlinePusher({
      engine,
      layout,
      commits,
      groupOf: () => group,
      metadata,
      online: {} as OnlineWriter,
      requestBytes: 1 << 20,
      logger: createLogger({ level: "silent", service: "test" }),
      maxAttempts: 3,
      retryDelayMs: 1,
    });
    return { p, entries, stored, attempts };
  }

  it("parks a poison entry after maxAttempts, and pushes the group's later commits", async () => {
    const { p, entries, stored, attempts } = pusher(1n);
    const first = p.push("p", group, entries[0]!);
    const second = p.push("p", group, entries[1]!);
    await expect(first).rejects.toThrow(/refuses/);
    await second;
    expect(attempts.get(1n)).toBe(3);
    expect(stored.get(1n)!.onlineSyncState).toBe(OnlineSyncState.PARKED);
    expect(stored.get(2n)!.onlineSyncState).toBe(OnlineSyncState.SYNCED);
    await p.close();
  });
});
