// The soak's catalogue and its six kinds of operation, each remembering what was acknowledged so
// verify.ts can read it back. Everything goes through the SDK as a user would write it, except
// online WriteRows, which the SDK does not wrap: that call uses the SDK's typed online client.
import { createHash, randomBytes } from "node:crypto";
import * as arrow from "apache-arrow";
import type { FeatureGroup, FeatureView, Granary, Project, Row } from "@granary/client";
import type { ColumnData } from "@granary/proto/types";

/** Entities (user_id) of the two online groups: every one is seeded, looked up and verified. */
export const KEYS = 10_000;
export const MODEL = "soak_model";
export const ARTIFACT = "model.bin";
const INSERT_ROWS = 1_000;
const WRITE_ROWS = 100;
const LOOKUP_BATCH = 10;
/** Training data covers the label rows of the last this-many seconds, so each call's cost stays bounded. */
const TRAINING_WINDOW_MS = 20_000;

/** A wrong answer to an acknowledged call (counted as error CLIENT_CHECK). */
export class CheckError extends Error {
  override readonly name = "CHECK";
}

/** p1 of a profiles row: ties the value to its key and sequence, so a torn or misplaced row shows. */
export const checkValue = (seq: number, key: number) => seq * 2 + key;

export interface Catalogue {
  readonly project: Project;
  readonly profiles: FeatureGroup;
  readonly activity: FeatureGroup;
  readonly txn: FeatureGroup;
  /** profiles ⋈ activity on user_id: the online lookups. */
  readonly lookupView: FeatureView;
  /** txn (label) ⋈ profiles ⋈ activity, point in time: the training data streams. */
  readonly trainingView: FeatureView;
  /** txn by txn_id: checks the offline → online push of inserted rows. */
  readonly txnView: FeatureView;
}

const features = (prefix: string) => [0, 1, 2, 3].map((i) => ({ name: `${prefix}${i}`, type: "double" }));

export async function createCatalogue(granary: Granary, log: (line: string) => void): Promise<Catalogue> {
  const project = await granary.project("soak", { description: "npm run soak" });
  const keyed = (name: string, prefix: string) =>
    project.getOrCreateFeatureGroup({
      name,
      columns: [{ name: "user_id", type: "int64" }, { name: "ts", type: "timestamp" }, ...features(prefix)],
      primaryKey: ["user_id"],
      eventTime: "ts",
      onlineEnabled: true,
    });
  const profiles = await keyed("profiles", "p");
  const activity = await keyed("activity", "a");
  const txn = await project.getOrCreateFeatureGroup({
    name: "txn",
    columns: [
      { name: "txn_id", type: "int64" },
      { name: "user_id", type: "int64" },
      { name: "ts", type: "timestamp" },
      { name: "amount", type: "double" },
      { name: "label", type: "int64" },
    ],
    primaryKey: ["txn_id"],
    eventTime: "ts",
    onlineEnabled: true,
  });
  const lookupView = await project.getOrCreateFeatureView({
    name: "user_features",
    query: profiles.selectFeatures().join(activity.selectFeatures(), { on: ["user_id"] }),
  });
  const trainingView = await project.getOrCreateFeatureView({
    name: "txn_training",
    query: txn
      .select(["amount", "label"])
      .join(profiles.selectFeatures(), { on: ["user_id"] })
      .join(activity.selectFeatures(), { on: ["user_id"] }),
    labels: ["label"],
  });
  const txnView = await project.getOrCreateFeatureView({ name: "txn_online", query: txn.selectFeatures() });

  // Seeds an hour in the past, so every later online write is newer than them.
  const seedTime = new Date(Date.now() - 3_600_000);
  const ids = Array.from({ length: KEYS }, (_, k) => k);
  await profiles.insert(ids.map((k) => ({ user_id: k, ts: seedTime, p0: -1, p1: checkValue(-1, k), p2: 0, p3: 0 })));
  await activity.insert(ids.map((k) => ({ user_id: k, ts: seedTime, a0: k, a1: k * 2, a2: k * 3, a3: 0 })));
  // The online push runs from the offline service's outbox: wait until the last seeded key is served.
  for (const until = Date.now() + 120_000; ; await new Promise((r) => setTimeout(r, 200))) {
    const [v] = await lookupView.getFeatureVectors([{ user_id: KEYS - 1 }]);
    if (v?.["p0"] === -1 && v["a0"] === KEYS - 1) break;
    if (Date.now() > until) throw new Error("the seeded rows did not reach the online store within 120 s");
  }
  log(`catalogue ready: project soak, ${KEYS} keys seeded in profiles and activity`);
  return { project, profiles, activity, txn, lookupView, trainingView, txnView };
}

/** What was acknowledged, for the verification at the end. */
export class Acknowledged {
  /** txn_id ranges [start, start + count) of acknowledged inserts. */
  readonly inserts: { start: number; count: number }[] = [];
  /** Next txn_id to hand out; ids are dense, so a bitmap of this size covers every insert attempted. */
  nextTxnId = 0;
  /** Per user_id, the highest acknowledged online-write sequence (-1: the seed). */
  readonly writes = new Float64Array(KEYS).fill(-1);
  /** Registry versions whose upload (save) was acknowledged. */
  readonly models: { version: number; sha256: string; bytes: number }[] = [];
  #seq = 0;
  #lastTsMicros = 0n;

  /** A sequence number and an event time that both grow with it: the stored row of a key is the one with the highest sequence. */
  nextWrite(): { seq: number; tsMicros: bigint } {
    const now = BigInt(Date.now()) * 1000n;
    this.#lastTsMicros = now > this.#lastTsMicros ? now : this.#lastTsMicros + 1n;
    return { seq: this.#seq++, tsMicros: this.#lastTsMicros };
  }
}

const randomInt = (n: number) => Math.floor(Math.random() * n);
const distinctKeys = (n: number) => {
  const keys = new Set<number>();
  while (keys.size < n) keys.add(randomInt(KEYS));
  return [...keys];
};
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * One call of each kind; each resolves to the units it moved (rows, vectors, bytes) once
 * acknowledged, or undefined when there was nothing to do yet (a download before any upload).
 */
export function operations(granary: Granary, c: Catalogue, acked: Acknowledged) {
  return {
    /** Offline insert of 1,000 new txn rows: from plain rows (even workers) or an Arrow table (odd). */
    async insert(worker: number): Promise<number> {
      const start = acked.nextTxnId;
      acked.nextTxnId += INSERT_ROWS;
      const now = new Date();
      let data: Row[] | arrow.Table;
      if (worker % 2 === 0) {
        data = Array.from({ length: INSERT_ROWS }, (_, i) => ({
          txn_id: start + i,
          user_id: (start + i) % KEYS,
          ts: now,
          amount: (start + i) * 0.01,
          label: (start + i) % 2,
        }));
      } else {
        const ids = BigInt64Array.from({ length: INSERT_ROWS }, (_, i) => BigInt(start + i));
        data = new arrow.Table({
          txn_id: arrow.makeVector(ids),
          user_id: arrow.makeVector(ids.map((id) => id % BigInt(KEYS))),
          ts: arrow.makeVector(
            arrow.makeData({ type: new arrow.TimestampMicrosecond("UTC"), length: INSERT_ROWS, data: ids.map(() => BigInt(now.getTime()) * 1000n) }),
          ),
          amount: arrow.makeVector(Float64Array.from(ids, (id) => Number(id) * 0.01)),
          label: arrow.makeVector(ids.map((id) => id % 2n)),
        });
      }
      const res = await c.txn.insert(data);
      if (res.rowsInserted + res.rowsUpdated !== INSERT_ROWS)
        throw new CheckError(`insert acknowledged ${res.rowsInserted} + ${res.rowsUpdated} rows of ${INSERT_ROWS}`);
      acked.inserts.push({ start, count: INSERT_ROWS });
      return INSERT_ROWS;
    },

    /** Online WriteRows of 100 distinct profiles keys, each row newer than any before it. */
    async write(): Promise<number> {
      const keys = distinctKeys(WRITE_ROWS);
      const rows = keys.map((key) => ({ key, ...acked.nextWrite() }));
      const doubles = (values: number[]): ColumnData => ({ values: { case: "doubles", value: { values } } }) as ColumnData;
      const columns = [
        { name: "user_id", data: { values: { case: "int64s", value: { values: rows.map((r) => BigInt(r.key)) } } } as ColumnData },
        { name: "ts", data: { values: { case: "timestamps", value: { values: rows.map((r) => r.tsMicros) } } } as ColumnData },
        { name: "p0", data: doubles(rows.map((r) => r.seq)) },
        { name: "p1", data: doubles(rows.map((r) => checkValue(r.seq, r.key))) },
        { name: "p2", data: doubles(rows.map(() => Math.random())) },
        { name: "p3", data: doubles(rows.map((r) => Number(r.tsMicros / 1000n))) },
      ];
      const { online, unary } = granary.services;
      const res = await online.writeRows(
        {
          project: c.project.name,
          featureGroup: { name: c.profiles.name, version: c.profiles.version },
          rows: { case: "columns", value: { rowCount: rows.length, columns } },
        },
        unary(),
      );
      for (const r of rows) if (r.seq > acked.writes[r.key]!) acked.writes[r.key] = r.seq;
      return Number(res.writtenCount + res.ignoredCount);
    },

    /** GetFeatureVectors of 10 random keys on the view joining profiles and activity. */
    async lookup(): Promise<number> {
      const keys = distinctKeys(LOOKUP_BATCH);
      const vectors = await c.lookupView.getFeatureVectors(keys.map((user_id) => ({ user_id })));
      vectors.forEach((v, i) => {
        if (typeof v["p0"] !== "number" || v["a0"] !== keys[i])
          throw new CheckError(`lookup of user_id ${keys[i]} gave p0=${String(v["p0"])} a0=${String(v["a0"])}`);
      });
      return vectors.length;
    },

    /** Point-in-time training data of the last 20 s of txn rows, streamed batch by batch. */
    async training(): Promise<number> {
      const end = new Date();
      let rows = 0;
      for await (const batch of c.trainingView.trainingDataBatches({ start: new Date(end.getTime() - TRAINING_WINDOW_MS), end })) rows += batch.numRows;
      return rows;
    },

    /** A new model version with one 64–512 KiB artifact. */
    async upload(): Promise<number> {
      const bytes = randomBytes(64 * 1024 * (1 + randomInt(8)));
      const draft = await c.project.modelRegistry.createModel({ name: MODEL, framework: "soak", metrics: { bytes: bytes.byteLength } });
      const version = await draft.save({ [ARTIFACT]: bytes });
      acked.models.push({ version: version.version, sha256: sha256(bytes), bytes: bytes.byteLength });
      return bytes.byteLength;
    },

    /** The artifact of a random acknowledged version, compared with what was uploaded. */
    async download(): Promise<number | undefined> {
      const model = acked.models[randomInt(acked.models.length)];
      if (!model) return undefined;
      const handle = await c.project.modelRegistry.getModel(MODEL, { version: model.version });
      const bytes = await handle.read(ARTIFACT);
      if (sha256(bytes) !== model.sha256)
        throw new CheckError(`version ${model.version} downloaded ${bytes.byteLength} bytes that differ from the ${model.bytes} uploaded`);
      return bytes.byteLength;
    },
  };
}

export type OperationKind = keyof ReturnType<typeof operations>;
