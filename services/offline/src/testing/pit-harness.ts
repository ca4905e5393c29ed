import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { resolveFeatureView } from "@granary/catalogue-rules";
import { CommitKind, FeatureGroupSchema, FeatureViewSchema, OnlineSyncState, type FeatureGroup, type FeatureView, type Query } from "@granary/proto/metadata";
import { ScalarType, type DataType } from "@granary/proto/types";
import { DuckEngine, duckTypeSql, quoteIdent } from "../duck/index.js";
import type { CommitEntry } from "../store/commit-log.js";
import { sequenceName } from "../store/commit-paths.js";

export type Cell = number | bigint | boolean | string | null;

/** Test groups, commits and views without the metadata service: files written as the service writes them. */
export class PitHarness {
  readonly root: string;
  readonly engine: DuckEngine;
  readonly groups = new Map<string, FeatureGroup>();
  readonly commits = new Map<string, CommitEntry[]>();
  #sequence = 0n;

  private constructor(root: string, engine: DuckEngine) {
    this.root = root;
    this.engine = engine;
  }

  static async open(): Promise<PitHarness> {
    const root = mkdtempSync(join(tmpdir(), "granary-pit-"));
    return new PitHarness(root, await DuckEngine.open({ dataRoot: root, threads: 2, memoryLimit: "512MB", maxQueries: 2 }));
  }

  close(): void {
    this.engine.close();
    rmSync(this.root, { recursive: true, force: true });
  }

  path = (relative: string) => join(this.root, relative);

  /** The harness writes its own commits, so their files need no confinement check. */
  files = (commit: CommitEntry): readonly string[] => commit.files.map(this.path);

  group(name: string, columns: [string, ScalarType][], primaryKey: string[], eventTime: string, ttlDays?: number): FeatureGroup {
    const g = create(FeatureGroupSchema, {
      project: "p",
      name,
      version: 1,
      columns: columns.map(([n, s]) => ({ name: n, type: { scalar: s } })),
      primaryKey,
      eventTime,
      onlineTtl: ttlDays === undefined ? undefined : durationFromMs(ttlDays * 86_400_000),
      id: BigInt(this.groups.size + 1),
    });
    this.groups.set(name, g);
    this.commits.set(name, []);
    return g;
  }

  /** Writes one commit of rows (or of keys, for a delete) and records it. */
  async commit(name: string, rows: Record<string, Cell>[], kind: CommitKind = CommitKind.INSERT): Promise<CommitEntry> {
    const g = this.groups.get(name)!;
    const list = this.commits.get(name)!;
    const sequence = ++this.#sequence;
    const columns = kind === CommitKind.DELETE ? g.columns.filter((c) => g.primaryKey.includes(c.name)) : g.columns;
    const relative = `p/${name}/v1/${sequenceName(sequence)}/part-00000.parquet`;
    mkdirSync(this.path(relative.slice(0, relative.lastIndexOf("/"))), { recursive: true });
    const select = columns.map((c) => `CAST(NULL AS ${duckTypeSql(c.type!)}) AS ${quoteIdent(c.name)}`).join(", ");
    const values =
      rows.length === 0
        ? `SELECT ${select}, 0::BIGINT AS _seq WHERE false`
        : rows
            .map(
              (r) => `SELECT ${columns.map((c) => `${literal(r[c.name] ?? null, c.type!)} AS ${quoteIdent(c.name)}`).join(", ")}, ${sequence}::BIGINT AS _seq`,
            )
            .join(" UNION ALL ");
    await this.engine.withConnection((c) => c.run(`COPY (${values}) TO '${this.path(relative)}' (FORMAT parquet)`));
    const keyOf = (r: Record<string, Cell>) => JSON.stringify([...g.primaryKey, g.eventTime].filter(Boolean).map((k) => String(r[k])));
    const earlier = new Set<string>();
    for (const c of list) if (c.kind === CommitKind.INSERT) for (const k of (c as CommitEntry & { keys: string[] }).keys) earlier.add(k);
    const keys = rows.map(keyOf);
    const entry: CommitEntry & { keys: string[] } = {
      id: BigInt(list.length + 1),
      kind,
      sequence,
      files: [relative],
      ingestionMicros: sequence,
      rowsUpdated: BigInt(kind === CommitKind.INSERT ? keys.filter((k) => earlier.has(k)).length : 0),
      minEventMicros: undefined,
      maxEventMicros: undefined,
      onlineSyncState: OnlineSyncState.NOT_APPLICABLE,
      keys,
    };
    list.push(entry);
    return entry;
  }

  commitsOf = (g: FeatureGroup): readonly CommitEntry[] => this.commits.get(g.name) ?? [];

  /** A view resolved by the metadata service's rules, as the offline service receives it. */
  view(query: Query, labels: string[] = []): FeatureView {
    const view = create(FeatureViewSchema, { project: "p", name: "v", version: 1, query, labels });
    const resolved = resolveFeatureView(view, (ref) => [...this.groups.values()].find((g) => g.name === ref.name && g.version === ref.version));
    view.outputColumns = resolved.outputColumns;
    view.servingKeys = resolved.servingKeys;
    view.resolved = resolved.resolved;
    return view;
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    return this.engine.rows(sql);
  }
}

function literal(value: Cell, type: DataType): string {
  if (value === null) return `CAST(NULL AS ${duckTypeSql(type)})`;
  switch (type.scalar) {
    case ScalarType.TIMESTAMP:
      return `make_timestamp(${String(value)}::BIGINT)`;
    case ScalarType.STRING:
      return `'${String(value).replace(/'/g, "''")}'`;
    case ScalarType.BOOL:
      return value ? "TRUE" : "FALSE";
    default:
      return `CAST(${String(value)} AS ${duckTypeSql(type)})`;
  }
}

export const DAY = 86_400_000_000;
