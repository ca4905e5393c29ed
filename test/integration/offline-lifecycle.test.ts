// The offline storage lifecycle: compaction merges a group's files and keeps every read — now, as of
// any commit, and the change feed — exactly as it was; retention lets superseded rows go and refuses
// time travel past it; a delete with erase leaves none of the keys' bytes in any file.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Code, type Client } from "@connectrpc/connect";
import * as arrow from "apache-arrow";
import { arrowPayloads, tableFromChunks } from "@granary/offline";
import { CommitKind, type MetadataService } from "@granary/proto/metadata";
import type { OfflineService } from "@granary/proto/offline";
import type { OnlineService } from "@granary/proto/online";
import { ScalarType, ValueStatus } from "@granary/proto/types";
import { failure, scratchDir, testKeys, waitFor } from "@granary/testing";
import { startOfflineStack, type OfflineStack } from "./support/offline-stack.js";

const keys = testKeys();
const P = "shop";
const dir = scratchDir("offline-lifecycle");
const dataRoot = join(dir.path, "offline");
let stack: OfflineStack;
let md: Client<typeof MetadataService>;
let off: Client<typeof OfflineService>;
let on: Client<typeof OnlineService>;

const T = (scalar: ScalarType) => ({ scalar });
const ref = (name: string) => ({ name, version: 1 });
const day = (d: number) => Date.UTC(2025, 0, d);

function insert(group: string, table: arrow.Table) {
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: ref(group) } } };
    for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return off.insert(requests());
}

function deleteKeys(group: string, ids: string[], erase = false) {
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: ref(group), erase } } };
    for (const ipc of arrowPayloads(new arrow.Table({ user: arrow.vectorFromArray(ids, new arrow.Utf8()) }))) {
      yield { message: { case: "chunk" as const, value: { ipc } } };
    }
  }
  return off.deleteRows(requests());
}

function events(users: string[], days: number[], emails: string[], scores: number[]) {
  return new arrow.Table({
    user: arrow.vectorFromArray(users, new arrow.Utf8()),
    event_time: arrow.vectorFromArray(days.map(day), new arrow.TimestampMillisecond()),
    email: arrow.vectorFromArray(emails, new arrow.Utf8()),
    score: arrow.vectorFromArray(scores, new arrow.Float64()),
  });
}

const plain = (t: arrow.Table) =>
  t
    .toArray()
    .map((r) => JSON.stringify(r.toJSON(), (_, v) => (typeof v === "bigint" ? v.toString() : v)))
    .sort();

const readAt = async (group: string, asOf?: bigint) =>
  plain(await tableFromChunks(off.read({ project: P, featureGroup: ref(group), ...(asOf ? { asOf: { case: "asOfCommit" as const, value: asOf } } : {}) })));
/** Read as of each commit (undefined: now), one at a time (a project has four streams). */
async function readsAt(group: string, ids: readonly (bigint | undefined)[]): Promise<string[][]> {
  const out: string[][] = [];
  for (const id of ids) out.push(await readAt(group, id));
  return out;
}
const changes = async (group: string) => plain(await tableFromChunks(off.readChanges({ project: P, featureGroup: ref(group), window: {} })));

/** Training data of visits_view for a spine of every user at several instants, in spine order. */
async function pointInTime(): Promise<string[]> {
  const users = ["a", "b", "c", "d", "e"].flatMap((u) => [u, u, u, u]);
  const spine = new arrow.Table({
    user: arrow.vectorFromArray(users, new arrow.Utf8()),
    event_time: arrow.vectorFromArray(
      users.map((_, i) => day(1 + (i % 4)) + 3_600_000),
      new arrow.TimestampMillisecond(),
    ),
  });
  async function* requests() {
    yield {
      message: { case: "query" as const, value: { project: P, featureView: ref("visits_view"), spine: { kind: { case: "streamed" as const, value: true } } } },
    };
    for (const ipc of arrowPayloads(spine)) yield { message: { case: "spineChunk" as const, value: { ipc } } };
  }
  const t = await tableFromChunks(off.getTrainingData(requests()));
  return t.toArray().map((r) => JSON.stringify(r.toJSON(), (_, v) => (typeof v === "bigint" ? v.toString() : v)));
}

/** Commit directories of a group on disk. */
const commitDirs = (group: string) => {
  const root = join(dataRoot, P, group, "v1");
  return existsSync(root) ? readdirSync(root).filter((d) => /^\d{20}$/.test(d)) : [];
};

/** Every file under the group's directory whose raw bytes contain `needle`. */
function filesContaining(group: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (statSync(p).isFile() && readFileSync(p).includes(Buffer.from(needle))) found.push(p);
    }
  };
  walk(join(dataRoot, P, group));
  return found;
}

async function createGroup(name: string, extra: object = {}) {
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name,
      version: 1,
      primaryKey: ["user"],
      eventTime: "event_time",
      columns: [
        { name: "user", type: T(ScalarType.STRING) },
        { name: "event_time", type: T(ScalarType.TIMESTAMP) },
        { name: "email", type: T(ScalarType.STRING) },
        { name: "score", type: T(ScalarType.DOUBLE) },
      ],
      ...extra,
    },
  });
  // The offline service learns of the group from the metadata change stream.
  await waitFor(
    async () => {
      try {
        await readAt(name);
        return true;
      } catch {
        return false;
      }
    },
    { what: `feature group ${name} known to the offline service` },
  );
}

beforeAll(async () => {
  stack = await startOfflineStack({
    name: "offline_lifecycle",
    dataDir: dir.path,
    keys,
    // Replaced files go at once (no read is running), no background pass (each test compacts).
    env: { GRANARY_OFFLINE_COMPACTION_GRACE_S: "0", GRANARY_OFFLINE_COMPACTION_INTERVAL_S: "0" },
  });
  ({ md, off, on } = stack);
  await md.createProject({ name: P });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  dir.remove();
});

describe("compaction", () => {
  it("merges the files of inserts, updates and deletes, and every read is unchanged: now, as of each commit, and the changes", async () => {
    await createGroup("visits");
    const ids: bigint[] = [];
    ids.push((await insert("visits", events(["a", "b", "c"], [1, 1, 1], ["a@x", "b@x", "c@x"], [1, 2, 3]))).commitId);
    ids.push((await insert("visits", events(["a", "b"], [2, 2], ["a2@x", "b2@x"], [4, 5]))).commitId);
    // An update: the same (key, event time) again.
    ids.push((await insert("visits", events(["a"], [1], ["a-fixed@x"], [10]))).commitId);
    ids.push((await deleteKeys("visits", ["c"])).commitId);
    ids.push((await insert("visits", events(["c", "d"], [3, 3], ["c3@x", "d@x"], [6, 7]))).commitId);
    const before = await readsAt("visits", [undefined, ...ids]);
    const changesBefore = await changes("visits");
    await md.createFeatureView({ featureView: { project: P, name: "visits_view", version: 1, query: { featureGroup: ref("visits") } } });
    await waitFor(
      () =>
        pointInTime().then(
          () => true,
          () => false,
        ),
      { what: "visits_view known to the offline service" },
    );
    const pitBefore = await pointInTime();
    expect(commitDirs("visits")).toHaveLength(5);

    const compacted = await off.compact({ project: P, featureGroup: ref("visits") });
    expect(compacted.commitId).toBeGreaterThan(ids[ids.length - 1]!);
    expect(compacted.stats).toMatchObject({ filesBefore: 5n, filesAfter: 2n, rowsBefore: 8n, rowsAfter: 8n, rowsErased: 0n, rowsExpired: 0n });
    await waitFor(() => commitDirs("visits").length === 1, { what: "the replaced commit directories deleted" });

    const after = await readsAt("visits", [undefined, ...ids]);
    expect(after).toEqual(before);
    expect(await changes("visits")).toEqual(changesBefore);
    expect(await pointInTime()).toEqual(pitBefore);
    // The state as of each commit differs (the test can fail): the update, the delete and the re-insert show.
    expect(new Set(before.map((b) => b.join())).size).toBe(before.length - 1);

    const { commit } = await md.getCommit({ project: P, featureGroup: ref("visits"), id: compacted.commitId });
    expect(commit).toMatchObject({ kind: CommitKind.COMPACTION, compactedThrough: ids[ids.length - 1] });

    // Later commits go on top; a second compaction merges the first with them.
    const later = (await insert("visits", events(["e", "a"], [4, 4], ["e@x", "a4@x"], [8, 9]))).commitId;
    const withLater = await readsAt("visits", [undefined, ...ids, later]);
    const again = await off.compact({ project: P, featureGroup: ref("visits") });
    expect(again.stats).toMatchObject({ filesBefore: 3n, rowsBefore: 10n, rowsAfter: 10n });
    await waitFor(() => commitDirs("visits").length === 1, { what: "the first compaction's directory deleted" });
    expect(await readsAt("visits", [undefined, ...ids, later])).toEqual(withLater);
    // Nothing new: nothing to do.
    expect((await off.compact({ project: P, featureGroup: ref("visits") })).commitId).toBe(0n);
  }, 60_000);

  it("keeps a partitioned group's Hive layout: one directory per partition value in the compaction", async () => {
    await createGroup("regional", { partitionKey: ["email"] });
    await insert("regional", events(["a", "b"], [1, 1], ["eu", "us"], [1, 2]));
    await insert("regional", events(["c", "d"], [2, 2], ["eu", "ap"], [3, 4]));
    const before = await readAt("regional");
    const compacted = await off.compact({ project: P, featureGroup: ref("regional") });
    await waitFor(() => commitDirs("regional").length === 1, { what: "the replaced commit directories deleted" });
    const { commit } = await md.getCommit({ project: P, featureGroup: ref("regional"), id: compacted.commitId });
    const partitions = commit!.files.map((f) => f.split("/")[4]).filter((d) => d!.includes("="));
    expect(new Set(partitions)).toEqual(new Set(["email=eu", "email=us", "email=ap"]));
    expect(await readAt("regional")).toEqual(before);
  }, 60_000);

  it("with a retention, removes rows replaced or deleted before it and refuses time travel past it", async () => {
    await createGroup("sessions", { offlineRetention: { seconds: 1n } });
    const first = (await insert("sessions", events(["a", "b"], [1, 1], ["a@x", "b@x"], [1, 2]))).commitId;
    await insert("sessions", events(["a"], [1], ["a-new@x"], [3]));
    await deleteKeys("sessions", ["b"]);
    const now = await readAt("sessions");
    await new Promise((r) => setTimeout(r, 1500));
    const compacted = await off.compact({ project: P, featureGroup: ref("sessions") });
    // a's replaced row and b's row (and b's tombstone) were older than a second.
    expect(compacted.stats).toMatchObject({ rowsBefore: 3n, rowsAfter: 1n, rowsExpired: 2n, filesAfter: 1n });
    expect(await readAt("sessions")).toEqual(now);
    const err = await failure(readAt("sessions", first));
    expect(err.code).toBe(Code.OutOfRange);
    expect(err.rawMessage).toMatch(/offline_retention/);
    expect((await failure(changes("sessions"))).code).toBe(Code.OutOfRange);
  }, 60_000);
});

describe("DeleteRows with erase", () => {
  const SECRET = "alice.erase-me@example.org";
  const KEY = "user-alice-3f9c";

  it("removes the keys' bytes from every file of every version, online too, and says so in the audit log", async () => {
    await createGroup("contacts", { onlineEnabled: true });
    await md.createFeatureView({ featureView: { project: P, name: "contacts_view", version: 1, query: { featureGroup: ref("contacts") } } });
    const first = (await insert("contacts", events([KEY, "bob"], [1, 1], [SECRET, "bob@x"], [1, 2]))).commitId;
    await insert("contacts", events([KEY, "bob"], [2, 2], [SECRET, "bob2@x"], [3, 4]));
    await insert("contacts", events([KEY], [2], [SECRET], [5]));
    // The search can find them: the raw Parquet bytes hold the value and the key now.
    expect(filesContaining("contacts", SECRET).length).toBeGreaterThanOrEqual(3);
    expect(filesContaining("contacts", KEY).length).toBeGreaterThanOrEqual(3);

    const deleted = await deleteKeys("contacts", [KEY], true);
    // Two rows are visible (the third insert replaced the second's row of the key): both go.
    expect(deleted.rowsDeleted).toBe(2n);
    expect(filesContaining("contacts", SECRET)).toEqual([]);
    expect(filesContaining("contacts", KEY)).toEqual([]);
    // Gone from every version, not only hidden now; the rest is intact.
    for (const asOf of [first, undefined]) {
      const rows = await readAt("contacts", asOf);
      expect(rows.join()).not.toContain(KEY);
      expect(rows.join()).toContain("bob");
    }
    const lookup = async (user: string) =>
      (
        await on.getFeatureVectors({
          project: P,
          featureView: ref("contacts_view"),
          entities: { rowCount: 1, servingKeys: [{ name: "user", data: { values: { case: "strings", value: { values: [user] } } } }] },
        })
      ).vectors!.columns.find((c) => c.name === "email")!.statuses;
    expect(await lookup(KEY)).toEqual([ValueStatus.NOT_FOUND]);
    expect(await lookup("bob")).toEqual([ValueStatus.PRESENT]);

    const { commit } = await md.getCommit({ project: P, featureGroup: ref("contacts"), id: deleted.commitId });
    expect(commit).toMatchObject({ kind: CommitKind.DELETE, erase: true });
    await waitFor(
      async () =>
        (await md.listAuditEvents({ project: P })).events.some((e) => e.method.endsWith("/DeleteRows") && e.resource === "feature_group/contacts/v1 (erase)"),
      { what: "the erase in the audit log" },
    );
  }, 60_000);

  it("an insert cannot ask to erase", async () => {
    async function* requests() {
      yield { message: { case: "header" as const, value: { project: P, featureGroup: ref("visits"), erase: true } } };
    }
    const err = await failure(off.insert(requests()));
    expect(err.code).toBe(Code.InvalidArgument);
  });
});
