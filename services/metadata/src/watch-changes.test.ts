import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { ChangeKind, type Change } from "@granary/proto/metadata";
import { createTestDatabase, waitFor, type TestDatabase } from "@granary/testing";
import { cardAggregatesGroup, transactionsGroup } from "./testing/fixtures.js";
import { startTestMetadata, type TestMetadata } from "./testing/start-test-metadata.js";

let db: TestDatabase;
let md: TestMetadata;

beforeAll(async () => {
  db = await createTestDatabase("md_watch");
  md = await startTestMetadata(db.url);
});
afterAll(async () => {
  await md.stop();
  await db.drop();
});

/** Collects a watch in the background until stopped. */
function collect(project: string, fromRevision: bigint): { changes: Change[]; heads: { head: bigint; seen: number }[]; stop(): Promise<void> } {
  const controller = new AbortController();
  const changes: Change[] = [];
  const heads: { head: bigint; seen: number }[] = [];
  const done = (async () => {
    try {
      for await (const res of md.client.watchChanges({ project, fromRevision }, { signal: controller.signal })) {
        if (res.change) changes.push(res.change);
        else heads.push({ head: res.headRevision, seen: changes.length });
      }
    } catch (err) {
      if (ConnectError.from(err).code !== Code.Canceled) throw err;
    }
  })();
  return {
    changes,
    heads,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

describe("WatchChanges", () => {
  it("delivers every change in revision order, live, and resumes from a revision", async () => {
    const live = collect("watched", 0n);
    await md.client.createProject({ name: "watched" });
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 15; i++) {
      writes.push(md.client.createFeatureGroup({ featureGroup: transactionsGroup("watched", { name: `t_${i}` }) }));
    }
    await Promise.all(writes);
    await md.client.updateFeatureGroup({
      featureGroup: transactionsGroup("watched", { name: "t_3", description: "edited" }),
      updateMask: { paths: ["description"] },
    });
    await md.client.deleteFeatureGroup({ project: "watched", name: "t_4", version: 1 });
    await waitFor(() => live.changes.length >= 18, { what: "18 changes", timeoutMs: 10_000 });
    await live.stop();

    const revisions = live.changes.map((c) => c.revision);
    const sorted = [...revisions].sort((a, b) => (a < b ? -1 : 1));
    expect(revisions).toEqual(sorted);
    expect(new Set(revisions).size).toBe(revisions.length);
    expect(live.changes[0]?.kind).toBe(ChangeKind.CREATED);
    expect(live.changes[0]?.resource.case).toBe("projectResource");
    expect(live.changes.filter((c) => c.resource.case === "featureGroup" && c.kind === ChangeKind.CREATED)).toHaveLength(15);
    const update = live.changes.find((c) => c.kind === ChangeKind.UPDATED);
    expect(update?.resource.case === "featureGroup" && update.resource.value.description).toBe("edited");
    expect(live.changes.at(-1)?.kind).toBe(ChangeKind.DELETED);

    // A client that saw up to the 10th change reconnects and gets exactly the rest.
    const tenth = live.changes[9]!.revision;
    const resumed = collect("watched", tenth);
    await waitFor(() => resumed.changes.length >= live.changes.length - 10 && resumed.heads.length > 0, { what: "resumed changes and the caught-up marker" });
    await resumed.stop();
    expect(resumed.changes.map((c) => c.revision)).toEqual(revisions.slice(10));
    // Once the backlog is delivered the stream says so, with a head no older than what it sent.
    const caughtUp = resumed.heads[0];
    expect(caughtUp?.seen).toBe(resumed.changes.length);
    expect(caughtUp?.head).toBeGreaterThanOrEqual(revisions.at(-1)!);
  });

  it("filters by project", async () => {
    await md.client.createProject({ name: "other" });
    const watch = collect("other", 0n);
    await md.client.createFeatureGroup({ featureGroup: cardAggregatesGroup("other") });
    await md.client.createFeatureGroup({ featureGroup: cardAggregatesGroup("watched") });
    await waitFor(() => watch.changes.length >= 2, { what: "changes of project other" });
    await new Promise((r) => setTimeout(r, 200));
    await watch.stop();
    expect(watch.changes.every((c) => c.project === "other")).toBe(true);
    expect(watch.changes).toHaveLength(2);
  });

  it("keeps everything across a restart, and watches resume after it", async () => {
    const before = await md.client.listFeatureGroups({ project: "watched", pageSize: 1000 });
    const last = collect("", 0n);
    await waitFor(() => last.changes.length > 0, { what: "a change" });
    await new Promise((r) => setTimeout(r, 200));
    await last.stop();
    const lastRevision = last.changes.at(-1)!.revision;

    await md.restart();
    const after = await md.client.listFeatureGroups({ project: "watched", pageSize: 1000 });
    expect(after.featureGroups).toEqual(before.featureGroups);
    const resumed = collect("", lastRevision);
    await md.client.createFeatureGroup({ featureGroup: transactionsGroup("watched", { name: "after_restart" }) });
    await waitFor(() => resumed.changes.length >= 1, { what: "change after restart" });
    await resumed.stop();
    expect(resumed.changes[0]?.revision).toBe(lastRevision + 1n);
  });
});
