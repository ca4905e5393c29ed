import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Project } from "@granary/client";
import { TrainingDatasetStatus, type FeatureGroup, type FeatureView, type TrainingDataset } from "@granary/proto/metadata";
import type { Model } from "@granary/proto/registry";
import { UsageError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { formatCount, formatTable, toJson } from "../output.js";
import { suggest } from "../suggest.js";

export const LIST_KINDS = ["groups", "views", "datasets", "models"] as const;
export type ListKind = (typeof LIST_KINDS)[number];

/** An ISO-8601 time to the second, or "" when unset. */
export function timeText(ts: Timestamp | undefined): string {
  return ts
    ? timestampDate(ts)
        .toISOString()
        .replace(/\.\d+Z$/, "Z")
    : "";
}

const ALIASES: Record<string, ListKind> = { group: "groups", view: "views", dataset: "datasets", "training-datasets": "datasets", model: "models" };

function parseKind(text: string): ListKind {
  const kind = (LIST_KINDS as readonly string[]).includes(text) ? (text as ListKind) : ALIASES[text];
  if (kind) return kind;
  const hint = suggest(text, [...LIST_KINDS]);
  throw new UsageError(`"${text}" is not something to list: use groups, views, datasets or models${hint ? ` (did you mean "${hint}"?)` : ""}`);
}

/** The training datasets of every version of every view of a project. */
export async function listDatasets(ctx: CommandContext, project: Project, views: readonly FeatureView[]): Promise<TrainingDataset[]> {
  const { metadata, unary } = ctx.granary.services;
  const lists = await Promise.all(
    views.map(async (v) => {
      const res = await metadata.listTrainingDatasets({ project: project.name, featureView: { name: v.name, version: v.version }, pageSize: 1000 }, unary());
      return res.trainingDatasets;
    }),
  );
  return lists.flat();
}

export const statusText = (s: TrainingDatasetStatus) => TrainingDatasetStatus[s]?.toLowerCase() ?? "unknown";

/** `granary list [groups|views|datasets|models]`: what the project holds, as tables (every kind when none is given). */
export async function listCommand(ctx: CommandContext, kindText: string | undefined): Promise<void> {
  const kinds = kindText === undefined ? LIST_KINDS : [parseKind(kindText)];
  const project = await ctx.project();
  const want = (k: ListKind) => kinds.includes(k);
  const groups = want("groups") ? await project.listFeatureGroups() : [];
  const views = want("views") || want("datasets") ? await project.listFeatureViews() : [];
  const [datasets, models] = await Promise.all([
    want("datasets") ? listDatasets(ctx, project, views) : Promise.resolve([]),
    want("models") ? project.modelRegistry.listModels() : Promise.resolve([] as Model[]),
  ]);
  const byVersion = <T extends { name: string; version: number }>(xs: readonly T[]) =>
    [...xs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version - b.version));

  if (ctx.json) {
    const out: Record<string, unknown> = {};
    if (want("groups")) out["groups"] = byVersion(groups).map(groupJson);
    if (want("views")) out["views"] = byVersion(views).map(viewJson);
    if (want("datasets")) out["datasets"] = datasets.map(datasetJson);
    if (want("models")) out["models"] = models.map((m) => ({ name: m.name, latest_version: m.latestVersion, aliases: m.aliases, description: m.description }));
    ctx.output.out(toJson(out));
    return;
  }
  const sections: string[] = [];
  const section = (title: string, empty: string, header: string[], rows: string[][]) =>
    sections.push(`${kinds.length > 1 ? `${title}\n` : ""}${rows.length === 0 ? empty : formatTable(header, rows)}`);
  if (want("groups"))
    section(
      "FEATURE GROUPS",
      `no feature groups in project "${project.name}"`,
      ["group", "version", "columns", "primary key", "event time", "online", "description"],
      byVersion(groups).map((g) => [
        g.name,
        String(g.version),
        String(g.columns.length),
        g.primaryKey.join(", "),
        g.eventTime,
        g.onlineEnabled ? "yes" : "no",
        g.description,
      ]),
    );
  if (want("views"))
    section(
      "FEATURE VIEWS",
      `no feature views in project "${project.name}"`,
      ["view", "version", "reads", "serving keys", "labels", "description"],
      byVersion(views).map((v) => [
        v.name,
        String(v.version),
        (v.resolved?.groups ?? []).map((g) => `${g.featureGroup?.name} v${g.featureGroup?.version}`).join(", "),
        v.servingKeys.map((k) => k.name).join(", "),
        v.labels.join(", "),
        v.description,
      ]),
    );
  if (want("datasets"))
    section(
      "TRAINING DATASETS",
      `no training datasets in project "${project.name}" (granary training-data <view> --save creates one)`,
      ["view", "dataset", "rows", "status", "created"],
      datasets.map((d) => [
        `${d.featureView?.name} v${d.featureView?.version}`,
        String(d.version),
        formatCount(Number(d.rowCount)),
        statusText(d.status),
        timeText(d.createTime),
      ]),
    );
  if (want("models"))
    section(
      "MODELS",
      `no models in project "${project.name}"`,
      ["model", "latest", "aliases", "description"],
      models.map((m) => [
        m.name,
        String(m.latestVersion),
        Object.entries(m.aliases)
          .map(([k, v]) => `${k}→${v}`)
          .join(", "),
        m.description,
      ]),
    );
  ctx.output.out(sections.join("\n\n"));
}

const groupJson = (g: FeatureGroup) => ({
  name: g.name,
  version: g.version,
  columns: g.columns.length,
  primary_key: g.primaryKey,
  event_time: g.eventTime || null,
  online: g.onlineEnabled,
  description: g.description,
});

const viewJson = (v: FeatureView) => ({
  name: v.name,
  version: v.version,
  reads: (v.resolved?.groups ?? []).map((g) => ({ name: g.featureGroup?.name, version: g.featureGroup?.version })),
  serving_keys: v.servingKeys.map((k) => k.name),
  labels: v.labels,
  description: v.description,
});

export const datasetJson = (d: TrainingDataset) => ({
  feature_view: { name: d.featureView?.name, version: d.featureView?.version },
  version: d.version,
  rows: Number(d.rowCount),
  status: statusText(d.status),
  created: timeText(d.createTime) || null,
});
