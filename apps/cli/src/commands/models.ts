import { readdir, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ModelVersion } from "@granary/proto/registry";
import { UsageError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { formatBytes, formatTable, toJson } from "../output.js";
import { parseRef } from "../refs.js";
import { splitAssignment } from "../value-parsing.js";

/** `granary models list [model]`: the ready versions of a model, or the models of the project. */
export async function listModelsCommand(ctx: CommandContext, model: string | undefined): Promise<void> {
  const project = await ctx.project();
  const registry = project.modelRegistry;
  if (model === undefined) {
    const models = await registry.listModels();
    if (ctx.json) {
      ctx.output.out(toJson(models.map((m) => ({ name: m.name, latest_version: m.latestVersion, aliases: m.aliases, description: m.description }))));
    } else if (models.length === 0) {
      ctx.output.out(`no models in project "${project.name}"`);
    } else {
      const aliases = (a: Record<string, number>) =>
        Object.entries(a)
          .map(([k, v]) => `${k}→${v}`)
          .join(", ");
      ctx.output.out(
        formatTable(
          ["model", "latest", "aliases", "description"],
          models.map((m) => [m.name, String(m.latestVersion), aliases(m.aliases), m.description]),
        ),
      );
    }
    return;
  }
  const versions = await registry.listVersions(model);
  if (ctx.json) {
    ctx.output.out(toJson(versions.map(versionJson)));
    return;
  }
  if (versions.length === 0) {
    ctx.output.out(`model "${model}" has no ready versions in project "${project.name}"`);
    return;
  }
  const rows = versions.map((v) => [
    String(v.version),
    v.aliases.join(", "),
    v.featureView ? `${v.featureView.name} v${v.featureView.version}` : "",
    v.trainingDatasetVersion ? String(v.trainingDatasetVersion) : "",
    Object.entries(v.metrics)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, x]) => `${k}=${round(x)}`)
      .join(" "),
    v.createTime
      ? timestampDate(v.createTime)
          .toISOString()
          .replace(/\.\d+Z$/, "Z")
      : "",
  ]);
  ctx.output.out(formatTable(["version", "aliases", "feature view", "training dataset", "metrics", "created"], rows));
}

function versionJson(v: ModelVersion) {
  return {
    model: v.model,
    version: v.version,
    aliases: v.aliases,
    metrics: v.metrics,
    parameters: v.parameters,
    feature_view: v.featureView ? { name: v.featureView.name, version: v.featureView.version } : null,
    training_dataset_version: v.trainingDatasetVersion || null,
    framework: v.framework,
    description: v.description,
    created: v.createTime ? timestampDate(v.createTime).toISOString() : null,
  };
}

function round(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6)));
}

export interface RegisterOptions {
  readonly featureView?: string;
  readonly trainingDataset?: number;
  readonly metric: string[];
  readonly param: string[];
  readonly description?: string;
  readonly framework?: string;
  readonly tag: string[];
  readonly alias?: string;
}

/** `granary models register <model> <dir>`: a new version with every file under dir as its artifacts. */
export async function registerModelCommand(ctx: CommandContext, model: string, dir: string, options: RegisterOptions): Promise<void> {
  const metrics: Record<string, number> = {};
  for (const arg of options.metric) {
    const kv = splitAssignment(arg);
    const value = kv ? Number(kv.value) : NaN;
    if (!kv || kv.value.trim() === "" || !Number.isFinite(value)) throw new UsageError(`--metric "${arg}": write name=number, such as auc=0.91`);
    metrics[kv.key] = value;
  }
  const parameters: Record<string, string> = {};
  for (const arg of options.param) {
    const kv = splitAssignment(arg);
    if (!kv) throw new UsageError(`--param "${arg}": write name=value`);
    parameters[kv.key] = kv.value;
  }
  const info = await stat(dir);
  if (info.isDirectory()) {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    if (!entries.some((e) => e.isFile())) throw new UsageError(`${dir} holds no files to register`);
  } else if (!info.isFile()) {
    throw new UsageError(`${dir} is neither a directory nor a file`);
  }
  const project = await ctx.project();
  let featureView: { name: string; version: number } | undefined;
  if (options.featureView) {
    const ref = parseRef(options.featureView, "feature view");
    featureView = ref.version > 0 ? ref : await project.getFeatureView(ref.name).then((v) => ({ name: v.name, version: v.version }));
  }
  const draft = await project.modelRegistry.createModel({
    name: model,
    description: options.description,
    framework: options.framework,
    metrics,
    parameters,
    featureView,
    trainingDatasetVersion: options.trainingDataset,
    tags: options.tag,
  });
  let files = 0;
  let bytes = 0;
  const ready = await draft.save(resolve(dir), {
    onFile: (path, size) => {
      files++;
      bytes += size;
      if (!ctx.json && ctx.output.interactive) ctx.output.err(`uploaded ${path} (${formatBytes(size)})`);
    },
  });
  if (options.alias) await project.modelRegistry.setAlias(model, options.alias, ready.version);
  if (ctx.json) {
    ctx.output.out(toJson({ model, version: ready.version, files, bytes, alias: options.alias ?? null, feature_view: featureView ?? null }));
    return;
  }
  ctx.output.out(
    `registered ${model} version ${ready.version} (${files} file${files === 1 ? "" : "s"}, ${formatBytes(bytes)})${options.alias ? `, alias ${options.alias}` : ""}`,
  );
}

export interface DownloadOptions {
  readonly version?: number;
  readonly alias?: string;
  readonly out: string;
}

/** `granary models download <model> (--version N | --alias A) --out dir`. */
export async function downloadModelCommand(ctx: CommandContext, model: string, options: DownloadOptions): Promise<void> {
  if (options.version !== undefined && options.alias !== undefined) throw new UsageError("give --version or --alias, not both");
  const project = await ctx.project();
  const selector = options.alias !== undefined ? { alias: options.alias } : options.version !== undefined ? { version: options.version } : {};
  const handle = await project.modelRegistry.getModel(model, selector);
  const files = await handle.download(resolve(options.out));
  if (ctx.json) {
    ctx.output.out(toJson({ model, version: handle.version, files }));
    return;
  }
  ctx.output.out(`downloaded ${model} version ${handle.version} (${files.length} file${files.length === 1 ? "" : "s"}) to ${options.out}`);
}

/** `granary models alias <model> <alias> <version>`: points the alias at the version. */
export async function aliasModelCommand(ctx: CommandContext, model: string, alias: string, version: number): Promise<void> {
  const project = await ctx.project();
  const updated = await project.modelRegistry.setAlias(model, alias, version);
  if (ctx.json) {
    ctx.output.out(toJson({ model, alias, version, aliases: updated.aliases }));
    return;
  }
  ctx.output.out(`${model}: ${alias} → version ${version}`);
}
