// After the load: every acknowledged write is read back and counted. `lost` is an acknowledged row
// (or model version) that the store no longer returns, or returns older than acknowledged.
import { createHash } from "node:crypto";
import type { FeatureGroup } from "@granary/client";
import { ARTIFACT, checkValue, KEYS, MODEL, type Acknowledged, type Catalogue } from "./workload.js";

const BATCH = 500;
/** txn rows looked up online (the offline → online push); the newest acknowledged row is always one of them. */
const PUSH_SAMPLE = 2_000;
const DOWNLOAD_SAMPLE = 10;

export async function verify(c: Catalogue, acked: Acknowledged, log: (line: string) => void) {
  const offline = await verifyOffline(c, acked);
  log(`verify offline: ${JSON.stringify(offline)}`);
  const online = await verifyOnline(c, acked);
  log(`verify online: ${JSON.stringify(online)}`);
  const onlinePush = await verifyOnlinePush(c, acked);
  log(`verify online push: ${JSON.stringify(onlinePush)}`);
  const registry = await verifyRegistry(c, acked);
  log(`verify registry: ${JSON.stringify(registry)}`);
  return { offline, online, online_push: onlinePush, registry, lost: offline.lost + online.lost + onlinePush.lost + registry.lost };
}

/** Which ids in [0, size) the group's offline Read returns. */
async function idsPresent(group: FeatureGroup, column: string, size: number): Promise<{ seen: Uint8Array; rows: number }> {
  const seen = new Uint8Array(size);
  let rows = 0;
  for await (const batch of group.readBatches({ columns: [column] })) {
    for (const id of batch.getChild(column)!.toArray() as BigInt64Array) {
      rows++;
      if (id >= 0n && id < BigInt(size)) seen[Number(id)] = 1;
    }
  }
  return { seen, rows };
}

/** Offline Read of each group: every acknowledged insert's rows, and the seeds. */
async function verifyOffline(c: Catalogue, acked: Acknowledged) {
  const { seen, rows } = await idsPresent(c.txn, "txn_id", acked.nextTxnId);
  let acknowledged = 0;
  let found = 0;
  for (const { start, count } of acked.inserts) {
    acknowledged += count;
    for (let id = start; id < start + count; id++) found += seen[id]!;
  }
  let seeds = 0;
  for (const group of [c.profiles, c.activity]) seeds += (await idsPresent(group, "user_id", KEYS)).seen.reduce((a, b) => a + b, 0);
  return {
    txn_acknowledged: acknowledged,
    txn_found: found,
    txn_rows_read: rows,
    seeds_acknowledged: 2 * KEYS,
    seeds_found: seeds,
    lost: acknowledged - found + (2 * KEYS - seeds),
  };
}

/** Online lookup of every key: the last acknowledged WriteRows value of profiles, the seed of activity. */
async function verifyOnline(c: Catalogue, acked: Acknowledged) {
  let lost = 0;
  let newer = 0;
  let mismatched = 0;
  let written = 0;
  for (let start = 0; start < KEYS; start += BATCH) {
    const keys = Array.from({ length: Math.min(BATCH, KEYS - start) }, (_, i) => start + i);
    const vectors = await c.lookupView.getFeatureVectors(keys.map((user_id) => ({ user_id })));
    vectors.forEach((v, i) => {
      const key = keys[i]!;
      const expected = acked.writes[key]!;
      if (expected >= 0) written++;
      const p0 = v["p0"];
      if (typeof p0 !== "number" || p0 < expected) lost++;
      // Possible only when a write that failed still landed.
      else if (p0 > expected) newer++;
      if (typeof p0 === "number" && v["p1"] !== checkValue(p0, key)) mismatched++;
      if (v["a0"] !== key) lost++;
    });
  }
  return { keys: KEYS, keys_written: written, lost, newer_than_acknowledged: newer, mismatched };
}

/** txn rows reach the online store through the offline service's outbox: wait for the newest, then look up a sample. */
async function verifyOnlinePush(c: Catalogue, acked: Acknowledged) {
  const ids: number[] = [];
  for (const { start, count } of acked.inserts) for (let id = start; id < start + count; id++) ids.push(id);
  if (ids.length === 0) return { sampled: 0, lost: 0, drain_ms: 0 };
  const newest = Math.max(...acked.inserts.map((r) => r.start + r.count - 1));
  const started = Date.now();
  for (const until = started + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
    const [v] = await c.txnView.getFeatureVectors([{ txn_id: newest }]);
    if (v?.["amount"] !== null && v?.["amount"] !== undefined) break;
  }
  const drainMs = Date.now() - started;
  const sample = ids.length <= PUSH_SAMPLE ? ids : [newest, ...Array.from({ length: PUSH_SAMPLE - 1 }, () => ids[Math.floor(Math.random() * ids.length)]!)];
  let lost = 0;
  for (let start = 0; start < sample.length; start += BATCH) {
    const batch = sample.slice(start, start + BATCH);
    const vectors = await c.txnView.getFeatureVectors(batch.map((txn_id) => ({ txn_id })));
    vectors.forEach((v, i) => {
      const id = batch[i]!;
      if (v["amount"] !== id * 0.01 || Number(v["user_id"]) !== id % KEYS) lost++;
    });
  }
  return { sampled: sample.length, lost, drain_ms: drainMs };
}

/** Every acknowledged model version is listed with its artifact's digest and size; a sample is downloaded again. */
async function verifyRegistry(c: Catalogue, acked: Acknowledged) {
  const registry = c.project.modelRegistry;
  const listed = new Set(acked.models.length === 0 ? [] : (await registry.listVersions(MODEL)).map((v) => v.version));
  let lost = 0;
  let mismatched = 0;
  for (const m of acked.models) {
    if (!listed.has(m.version)) {
      lost++;
      continue;
    }
    const artifacts = await (await registry.getModel(MODEL, { version: m.version })).artifacts();
    const artifact = artifacts.find((a) => a.path === ARTIFACT);
    if (!artifact) lost++;
    else if (artifact.sha256 !== m.sha256 || Number(artifact.sizeBytes) !== m.bytes) mismatched++;
  }
  for (const m of acked.models.slice(-DOWNLOAD_SAMPLE)) {
    const bytes = await (await registry.getModel(MODEL, { version: m.version })).read(ARTIFACT);
    if (createHash("sha256").update(bytes).digest("hex") !== m.sha256) mismatched++;
  }
  return { versions_acknowledged: acked.models.length, versions_listed: listed.size, lost, mismatched };
}
