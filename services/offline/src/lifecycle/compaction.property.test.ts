// Random histories of inserts (with updates: the same key and event time again), deletes and
// erasing deletes, compacted at random points, with and without a retention: every read as of
// every commit must equal a model computed here from the rows themselves, or be refused when the
// retention no longer covers it. Real DuckDB, Parquet, commit layout, log and sequencer; the
// metadata service is replaced by a counter that assigns ids (this tests the compaction's logic).
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { OutOfRangeError } from "@granary/errors";
import { CommitKind, CommitSchema, FeatureGroupSchema, OnlineSyncState, type Commit, type FeatureGroup } from "@granary/proto/metadata";
import { ScalarType } from "@granary/proto/types";
import { createLogger } from "@granary/telemetry";
import { seededRandom } from "@granary/testing";
import { DuckEngine } from "../duck/index.js";
import { readSql } from "../read/read-group.js";
import { CommitLayout } from "../store/commit-layout.js";
import { CommitLog, upTo } from "../store/commit-log.js";
import { sequenceName } from "../store/commit-paths.js";
import type { MetadataWriter } from "../upstream/metadata-writer.js";
import { CommitSequencer } from "../write/commit-sequencer.js";
import { compactGroup, removeReplaced, type CompactionDeps } from "./compaction.js";

interface Row {
  k: number;
  et: number;
  v: number;
  seq: bigint;
}

interface Step {
  id: bigint;
  kind: "insert" | "delete" | "erase";
  seq: bigint;
  ingestionMs: number;
  rows: Row[];
  keys: number[];
}

let root: string;
let engine: DuckEngine;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "granary-compaction-"));
  engine = await DuckEngine.open({ dataRoot: root, threads: 2, memoryLimit: "256MB", maxQueries: 2 });
});

afterAll(() => {
  engine.close();
  rmSync(root, { recursive: true, force: true });
});

/** What a read as of `cut` must return: the rows the commits up to it leave, minus what erasure removed. */
function expected(steps: readonly Step[], cut: bigint, erasedThrough: bigint): string[] {
  const visible = steps.filter((s) => s.id <= cut);
  const erasures = steps.filter((s) => s.kind === "erase" && s.id <= erasedThrough);
  const out: string[] = [];
  for (const s of visible) {
    if (s.kind !== "insert") continue;
    for (const r of s.rows) {
      const replaced = visible.some((o) => o.kind === "insert" && o.seq > r.seq && o.rows.some((x) => x.k === r.k && x.et === r.et));
      const deleted = visible.some((o) => o.kind !== "insert" && o.seq > r.seq && o.keys.includes(r.k));
      const erased = erasures.some((o) => o.seq > r.seq && o.keys.includes(r.k));
      if (!replaced && !deleted && !erased) out.push(`${r.k}/${r.et}/${r.v}`);
    }
  }
  return out.sort();
}

describe("compaction keeps every retained read exact (random histories)", () => {
  for (const seed of Array.from({ length: 6 }, (_, i) => i + 1)) {
    it(`seed ${seed}`, async () => {
      const random = seededRandom(seed);
      const pick = (n: number) => Math.floor(random() * n);
      const withRetention = seed % 2 === 0;
      const group: FeatureGroup = create(FeatureGroupSchema, {
        project: "p",
        name: `g${seed}`,
        version: 1,
        columns: [
          { name: "k", type: { scalar: ScalarType.INT64 } },
          { name: "et", type: { scalar: ScalarType.TIMESTAMP } },
          { name: "v", type: { scalar: ScalarType.DOUBLE } },
        ],
        primaryKey: ["k"],
        eventTime: "et",
        // Commits are dated one per hour back from now: a retention of 5 hours lets the older ones go.
        offlineRetention: withRetention ? durationFromMs(5 * 3_600_000 + 1_800_000) : undefined,
      });
      const log = new CommitLog();
      const layout = new CommitLayout(root);
      let nextId = 1n;
      const metadata = {
        createCommit: async (c: Commit) => {
          const stored = create(CommitSchema, { ...c, id: nextId++, ingestionTime: c.ingestionTime ?? timestampFromMs(Date.now()) });
          return stored;
        },
      } as unknown as MetadataWriter;
      const deps: CompactionDeps = {
        engine,
        layout,
        commits: log,
        sequencer: new CommitSequencer(),
        metadata,
        crashAt: undefined,
        logger: createLogger({ level: "silent", service: "test" }),
        fileBytes: 1024 * 1024,
      };
      const steps: Step[] = [];
      const total = 10 + pick(8);
      const now = Date.now();
      let sequence = 0n;
      let erasedThrough = 0n;
      let retainedFromMs: number | undefined;

      for (let i = 0; i < total; i++) {
        const r = random();
        const kind: Step["kind"] = i === 0 || r < 0.6 ? "insert" : r < 0.85 ? "delete" : "erase";
        sequence += 1n;
        const ingestionMs = now - (total - i) * 3_600_000;
        const dir = `p/${group.name}/v1/${sequenceName(sequence)}`;
        mkdirSync(join(root, dir), { recursive: true });
        const step: Step = { id: nextId, kind, seq: sequence, ingestionMs, rows: [], keys: [] };
        if (kind === "insert") {
          const seen = new Set<string>();
          for (let n = 1 + pick(4); n > 0; n--) {
            const row = { k: pick(5), et: 1 + pick(3), v: pick(1000), seq: sequence };
            if (seen.has(`${row.k}/${row.et}`)) continue;
            seen.add(`${row.k}/${row.et}`);
            step.rows.push(row);
          }
          const values = step.rows
            .map((x) => `(${x.k}::BIGINT, make_timestamp(${x.et}::BIGINT * 86400000000), ${x.v}::DOUBLE, ${sequence}::BIGINT)`)
            .join(", ");
          await engine.rows(`COPY (SELECT * FROM (VALUES ${values}) t(k, et, v, _seq)) TO '${join(root, dir, "part-00000.parquet")}' (FORMAT parquet)`);
        } else {
          step.keys = [...new Set([pick(5), pick(5)])];
          const values = step.keys.map((k) => `(${k}::BIGINT, ${sequence}::BIGINT)`).join(", ");
          await engine.rows(`COPY (SELECT * FROM (VALUES ${values}) t(k, _seq)) TO '${join(root, dir, "part-00000.parquet")}' (FORMAT parquet)`);
        }
        const earlier = steps.filter((s) => s.kind === "insert").flatMap((s) => s.rows);
        const updated = step.rows.filter((x) => earlier.some((e) => e.k === x.k && e.et === x.et)).length;
        const recorded = await metadata.createCommit(
          create(CommitSchema, {
            project: "p",
            featureGroup: { name: group.name, version: 1 },
            kind: kind === "insert" ? CommitKind.INSERT : CommitKind.DELETE,
            erase: kind === "erase",
            rowsUpdated: BigInt(updated),
            files: [`${dir}/part-00000.parquet`],
            ingestionTime: timestampFromMs(ingestionMs),
            onlineSyncState: OnlineSyncState.NOT_APPLICABLE,
          }),
        );
        log.apply(recorded);
        steps.push(step);

        if (i === total - 1 || random() < 0.3) {
          const result = await compactGroup(deps, "p", group);
          if (result.commit) {
            erasedThrough = result.commit.compactedThrough;
            sequence = log.maxSequence("p", group.name, 1);
            if (result.commit.retainedFrom) retainedFromMs = Number(result.commit.retainedFrom.seconds) * 1000 + result.commit.retainedFrom.nanos / 1e6;
            await removeReplaced(layout, result.replaced, 0);
          }
        }

        // Every read as of every commit so far (and now) equals the model, or is refused past the retention.
        const readable = log.commits("p", group.name, 1);
        for (const cut of [...steps.map((s) => s.id), undefined]) {
          const expect_ = expected(steps, cut ?? steps[steps.length - 1]!.id, erasedThrough);
          let visible;
          try {
            visible = cut === undefined ? readable : upTo(readable, cut);
          } catch (err) {
            expect(err).toBeInstanceOf(OutOfRangeError);
            const step = steps.find((s) => s.id === cut)!;
            expect(retainedFromMs).toBeDefined();
            expect(step.ingestionMs).toBeLessThan(retainedFromMs!);
            continue;
          }
          const filesOf = await layout.files.filesOf({ project: "p", name: group.name, version: 1 }, visible, deps.logger);
          const rows = await engine.rows(
            `SELECT k, epoch_us(et) // 86400000000 AS day, v FROM (${readSql(filesOf, group, visible, ["k", "et", "v"], undefined, 0n)})`,
          );
          const got = rows.map((x) => `${Number(x.k)}/${Number(x.day)}/${Number(x.v)}`).sort();
          expect({ seed, step: i, cut: cut ?? "now", rows: got }).toEqual({ seed, step: i, cut: cut ?? "now", rows: expect_ });
        }
      }
      if (withRetention) expect(retainedFromMs).toBeDefined();
    }, 60_000);
  }
});
