import { Code, ConnectError } from "@connectrpc/connect";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { typeName, type FeatureGroup, type FeatureView, type Project } from "@granary/client";
import { ColumnRole, TransformationFunction, type Statistics } from "@granary/proto/metadata";
import type { ModelVersion } from "@granary/proto/registry";
import type { DataType } from "@granary/proto/types";
import { CliError, UsageError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { formatCount, formatTable, toJson } from "../output.js";
import { parseRef, type VersionedRef } from "../refs.js";
import { statisticsJson, statisticsTable } from "../statistics-text.js";
import { suggest } from "../suggest.js";
import { datasetJson, statusText, timeText } from "./list.js";

export type ThingKind = "group" | "view" | "model";

const KINDS: Record<string, ThingKind> = {
  group: "group",
  groups: "group",
  "feature-group": "group",
  fg: "group",
  view: "view",
  views: "view",
  "feature-view": "view",
  fv: "view",
  model: "model",
  models: "model",
};

export const KIND_NAMES: Record<ThingKind, string> = { group: "feature group", view: "feature view", model: "model" };

/** `kind name` or just `name`: the kind as written, or undefined to find it. */
export function parseThing(first: string, second: string | undefined): { kind: ThingKind | undefined; ref: VersionedRef } {
  if (second === undefined) return { kind: undefined, ref: parseRef(first, "feature group, view or model") };
  const kind = KINDS[first];
  if (!kind) {
    const hint = suggest(first, ["group", "view", "model"]);
    throw new UsageError(`"${first}" is not a kind: write group, view or model${hint ? ` (did you mean "${hint}"?)` : ""}, or only the name`);
  }
  return { kind, ref: parseRef(second, KIND_NAMES[kind]) };
}

const notFound = (err: unknown) => ConnectError.from(err).code === Code.NotFound;

/** Which kinds of thing carry this name in the project (for a name given without its kind). */
export async function findKind(project: Project, ref: VersionedRef): Promise<ThingKind> {
  const probe = async (kind: ThingKind, get: () => Promise<unknown>) => {
    try {
      await get();
      return kind;
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  };
  const found = (
    await Promise.all([
      probe("group", () => project.getFeatureGroup(ref.name, ref.version)),
      probe("view", () => project.getFeatureView(ref.name, ref.version)),
      probe("model", () => project.modelRegistry.model(ref.name)),
    ])
  ).filter((k): k is ThingKind => k !== undefined);
  if (found.length === 0) throw new CliError(`no feature group, feature view or model is named "${ref.name}" in project "${project.name}" (see granary list)`);
  if (found.length > 1)
    throw new UsageError(`"${ref.name}" is a ${found.map((k) => KIND_NAMES[k]).join(" and a ")}: say which, e.g. granary describe ${found[0]} ${ref.name}`);
  return found[0]!;
}

/** `granary describe [group|view|model] <name[:version]>`: definition, versions and statistics. */
export async function describeCommand(ctx: CommandContext, first: string, second: string | undefined): Promise<void> {
  const { kind: given, ref } = parseThing(first, second);
  const project = await ctx.project();
  const kind = given ?? (await findKind(project, ref));
  if (kind === "group") await describeGroup(ctx, project, await project.getFeatureGroup(ref.name, ref.version));
  else if (kind === "view") await describeView(ctx, project, await project.getFeatureView(ref.name, ref.version));
  else await describeModel(ctx, project, ref);
}

async function versionsOf(list: () => Promise<{ name: string; version: number }[]>, name: string): Promise<number[]> {
  return (await list())
    .filter((x) => x.name === name)
    .map((x) => x.version)
    .sort((a, b) => a - b);
}

async function describeGroup(ctx: CommandContext, project: Project, group: FeatureGroup): Promise<void> {
  const g = group.definition;
  const [versions, statistics] = await Promise.all([
    versionsOf(() => project.listFeatureGroups(), group.name),
    group.statistics().catch((err: unknown) => {
      if (notFound(err)) return undefined;
      throw err;
    }),
  ]);
  const typeOf = (c: string) => g.columns.find((x) => x.name === c)?.type;
  const ttl = g.onlineTtl ? durationMs(g.onlineTtl) / 1000 : 0;
  const retention = g.offlineRetention ? durationMs(g.offlineRetention) / 1000 : 0;
  if (ctx.json) {
    ctx.output.out(
      toJson({
        kind: "feature_group",
        name: g.name,
        version: g.version,
        versions,
        description: g.description,
        columns: g.columns.map((c) => ({ name: c.name, type: typeName(c.type), description: c.description })),
        primary_key: g.primaryKey,
        event_time: g.eventTime || null,
        partition_key: g.partitionKey,
        online: g.onlineEnabled,
        online_ttl_seconds: ttl || null,
        offline: true,
        offline_retention_seconds: retention || null,
        tags: g.tags,
        validation_rules: g.validationRules.map((r) => ({ name: r.name, column: r.column, rule: r.rule.case })),
        statistics: statistics
          ? { rows: Number(statistics.rowCount), computed: timeText(statistics.computeTime), columns: statisticsJson(statistics.columns) }
          : null,
      }),
    );
    return;
  }
  const lines = [
    `feature group ${g.name} v${g.version}${g.description ? `: ${g.description}` : ""}`,
    `versions:     ${versions.join(", ")}`,
    `primary key:  ${g.primaryKey.join(", ")}`,
    `event time:   ${g.eventTime || "none"}`,
    ...(g.partitionKey.length > 0 ? [`partitioned:  ${g.partitionKey.join(", ")}`] : []),
    `online:       ${g.onlineEnabled ? `yes${ttl ? ` (values expire after ${durationText(ttl)})` : ""}` : "no"}`,
    `offline:      yes${retention ? ` (rows kept ${durationText(retention)})` : ""}`,
    ...(g.tags.length > 0 ? [`tags:         ${g.tags.join(", ")}`] : []),
    ...(g.validationRules.length > 0 ? [`validation:   ${g.validationRules.map((r) => `${r.name} (${r.column})`).join(", ")}`] : []),
    "",
    formatTable(
      ["column", "type", "description"],
      g.columns.map((c) => [c.name, typeName(c.type), c.description]),
    ),
    "",
    statisticsSection(statistics, typeOf, "the group has none yet: they are computed on insert when its statistics are enabled"),
  ];
  ctx.output.out(lines.join("\n"));
}

function statisticsSection(
  statistics: Pick<Statistics, "columns" | "rowCount" | "computeTime"> | undefined,
  typeOf: (c: string) => DataType | undefined,
  none: string,
): string {
  if (!statistics || statistics.columns.length === 0) return `statistics: ${none}`;
  return `statistics of ${formatCount(Number(statistics.rowCount))} rows${statistics.computeTime ? ` (computed ${timeText(statistics.computeTime)})` : ""}:\n${statisticsTable(statistics.columns, typeOf)}`;
}

function durationText(seconds: number): string {
  for (const [unit, s] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
  ] as const)
    if (seconds % s === 0 && seconds >= s) return `${seconds / s}${unit}`;
  return `${seconds}s`;
}

const ROLES: Record<number, string> = {
  [ColumnRole.FEATURE]: "feature",
  [ColumnRole.LABEL]: "label",
  [ColumnRole.ON_DEMAND]: "on-demand",
  [ColumnRole.INFERENCE_HELPER]: "inference helper",
  [ColumnRole.TRAINING_HELPER]: "training helper",
};

const transformationText = (f: TransformationFunction) => (f ? (TransformationFunction[f] ?? "").toLowerCase() : "");

async function describeView(ctx: CommandContext, project: Project, view: FeatureView): Promise<void> {
  const v = view.definition;
  const [versions, datasets] = await Promise.all([versionsOf(() => project.listFeatureViews(), view.name), view.trainingDatasets()]);
  datasets.sort((a, b) => a.version - b.version);
  const latest = [...datasets].reverse().find((d) => d.statistics.length > 0);
  const typeOf = (c: string) => v.outputColumns.find((x) => x.name === c)?.type;
  const groups = (v.resolved?.groups ?? []).map((g) => `${g.featureGroup?.name} v${g.featureGroup?.version}`);
  if (ctx.json) {
    ctx.output.out(
      toJson({
        kind: "feature_view",
        name: v.name,
        version: v.version,
        versions,
        description: v.description,
        reads: (v.resolved?.groups ?? []).map((g) => ({ name: g.featureGroup?.name, version: g.featureGroup?.version })),
        serving_keys: view.servingKeys.map((k) => ({ name: k.name, type: typeName(k.type), required: k.required })),
        labels: v.labels,
        columns: v.outputColumns.map((c) => ({
          name: c.name,
          type: typeName(c.type),
          role: ROLES[c.role] ?? "",
          from: c.featureGroup ? { group: c.featureGroup.name, version: c.featureGroup.version, column: c.sourceColumn } : null,
          transformation: transformationText(c.transformation) || null,
        })),
        training_datasets: datasets.map(datasetJson),
        statistics: latest ? { training_dataset: latest.version, rows: Number(latest.rowCount), columns: statisticsJson(latest.statistics) } : null,
      }),
    );
    return;
  }
  const lines = [
    `feature view ${v.name} v${v.version}${v.description ? `: ${v.description}` : ""}`,
    `versions:          ${versions.join(", ")}`,
    `reads:             ${groups.join(", ")}`,
    `serving keys:      ${view.servingKeys.map((k) => `${k.name} (${typeName(k.type)}${k.required ? "" : ", optional"})`).join(", ") || "none"}`,
    `labels:            ${v.labels.join(", ") || "none"}`,
    `training datasets: ${datasets.length === 0 ? "none (granary training-data " + v.name + " --save creates one)" : datasets.map((d) => `${d.version} (${formatCount(Number(d.rowCount))} rows, ${statusText(d.status)})`).join(", ")}`,
    "",
    formatTable(
      ["column", "type", "role", "from", "transformation"],
      v.outputColumns.map((c) => [
        c.name,
        typeName(c.type),
        ROLES[c.role] ?? "",
        c.featureGroup ? `${c.featureGroup.name}.${c.sourceColumn}` : "",
        transformationText(c.transformation),
      ]),
    ),
    "",
    latest
      ? statisticsSection({ columns: latest.statistics, rowCount: latest.rowCount, computeTime: latest.createTime }, typeOf, "").replace(
          /^statistics of/,
          `statistics of training dataset ${latest.version}:`,
        )
      : "statistics: none yet (they are computed with each training dataset)",
  ];
  ctx.output.out(lines.join("\n"));
}

async function describeModel(ctx: CommandContext, project: Project, ref: VersionedRef): Promise<void> {
  const registry = project.modelRegistry;
  const [model, versions] = await Promise.all([registry.model(ref.name), registry.listVersions(ref.name)]);
  const chosen: ModelVersion | undefined = ref.version ? (await registry.getModel(ref.name, { version: ref.version })).message : versions[0];
  if (ctx.json) {
    ctx.output.out(
      toJson({
        kind: "model",
        name: model.name,
        description: model.description,
        latest_version: model.latestVersion,
        aliases: model.aliases,
        versions: versions.map((v) => ({
          version: v.version,
          aliases: v.aliases,
          feature_view: v.featureView ? { name: v.featureView.name, version: v.featureView.version } : null,
          training_dataset: v.trainingDatasetVersion || null,
          metrics: v.metrics,
          framework: v.framework,
          created: timeText(v.createTime) || null,
        })),
        version: chosen ? versionDetails(chosen) : null,
      }),
    );
    return;
  }
  const aliases = Object.entries(model.aliases).map(([a, n]) => `${a} → ${n}`);
  const lines = [
    `model ${model.name}${model.description ? `: ${model.description}` : ""}`,
    `aliases:  ${aliases.join(", ") || "none"}`,
    "",
    versions.length === 0
      ? "no ready versions"
      : formatTable(
          ["version", "aliases", "feature view", "training dataset", "framework", "metrics", "created"],
          versions.map((v) => [
            String(v.version),
            v.aliases.join(", "),
            v.featureView ? `${v.featureView.name} v${v.featureView.version}` : "",
            v.trainingDatasetVersion ? String(v.trainingDatasetVersion) : "",
            v.framework,
            Object.entries(v.metrics)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, x]) => `${k}=${Number(x.toPrecision(4))}`)
              .join(" "),
            timeText(v.createTime),
          ]),
        ),
  ];
  if (chosen) {
    const d = versionDetails(chosen);
    const details = [
      ...(d.inputs.length > 0 ? [`inputs:      ${d.inputs.map((c) => `${c.name} ${c.type}`).join(", ")}`] : []),
      ...(Object.keys(d.parameters).length > 0
        ? [
            `parameters:  ${Object.entries(d.parameters)
              .map(([k, x]) => `${k}=${x}`)
              .join(" ")}`,
          ]
        : []),
      ...(chosen.tags.length > 0 ? [`tags:        ${chosen.tags.join(", ")}`] : []),
    ];
    if (chosen.description || details.length > 0) lines.push("", `version ${chosen.version}${chosen.description ? `: ${chosen.description}` : ""}`, ...details);
  }
  ctx.output.out(lines.join("\n"));
}

function versionDetails(v: ModelVersion) {
  return {
    version: v.version,
    description: v.description,
    parameters: v.parameters,
    inputs: (v.schema?.inputs ?? []).map((c) => ({ name: c.name, type: typeName(c.type) })),
    outputs: (v.schema?.outputs ?? []).map((c) => ({ name: c.name, type: typeName(c.type) })),
    tags: v.tags,
  };
}
