import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ModelSchemaSchema, ModelVersionSchema, type Artifact, type Model, type ModelVersion } from "@granary/proto/registry";
import { ColumnarRowsSchema, type ColumnarRows } from "@granary/proto/types";
import type { Services } from "./services.js";
import { parseType, toColumn, type ColumnSpec } from "./column-types.js";
import { getLineage, type LineageGraph, type LineageOptions } from "./lineage.js";
import { namedColumn, type FeatureValue, type Row } from "./values.js";

const CHUNK_BYTES = 1024 * 1024;

export interface CreateModelOptions {
  readonly name: string;
  /** Of the model (first version) and of this version. */
  readonly description?: string;
  readonly framework?: string;
  readonly metrics?: Record<string, number>;
  readonly parameters?: Record<string, string>;
  /** Input and output columns (the model signature). */
  readonly schema?: { inputs: readonly ColumnSpec[]; outputs?: readonly ColumnSpec[] };
  /** A few input rows; typed by schema.inputs when given. */
  readonly inputExample?: readonly Row[];
  /** The feature-view version the model was trained on (checked by the registry, recorded as lineage). */
  readonly featureView?: { name: string; version: number };
  readonly trainingDatasetVersion?: number;
  readonly tags?: readonly string[];
}

/** Which version: a number, an alias, or (neither) the latest ready one. */
export interface VersionSelector {
  readonly version?: number;
  readonly alias?: string;
}

/** The model registry of a project: training pipelines register versions, inference pipelines fetch them by alias. */
export class ModelRegistry {
  readonly #services: Services;
  readonly project: string;

  constructor(services: Services, project: string) {
    this.#services = services;
    this.project = project;
  }

  /**
   * Registers a new version of a model (creating the model when it is new). The version is
   * UPLOADING until save() has sent its artifacts; only then do Get and List show it.
   */
  async createModel(options: CreateModelOptions): Promise<ModelDraft> {
    const { registry, unary } = this.#services;
    try {
      await registry.createModel(
        { project: this.project, name: options.name, description: options.description ?? "", tags: [...(options.tags ?? [])] },
        unary(),
      );
    } catch (err) {
      if (ConnectError.from(err).code !== Code.AlreadyExists) throw err;
    }
    const inputs = options.schema?.inputs.map(toColumn) ?? [];
    const version = create(ModelVersionSchema, {
      project: this.project,
      model: options.name,
      description: options.description ?? "",
      framework: options.framework ?? "",
      metrics: { ...(options.metrics ?? {}) },
      parameters: { ...(options.parameters ?? {}) },
      schema: options.schema ? create(ModelSchemaSchema, { inputs, outputs: options.schema.outputs?.map(toColumn) ?? [] }) : undefined,
      inputExample: options.inputExample ? columnarRows(options.inputExample, options.schema?.inputs) : undefined,
      featureView: options.featureView ? { name: options.featureView.name, version: options.featureView.version } : undefined,
      trainingDatasetVersion: options.trainingDatasetVersion ?? 0,
      tags: [...(options.tags ?? [])],
    });
    const res = await registry.createModelVersion({ modelVersion: version }, unary());
    return new ModelDraft(this.#services, res.modelVersion!);
  }

  /** A model's metadata (aliases, latest version). */
  async model(name: string): Promise<Model> {
    const res = await this.#services.registry.getModel({ project: this.project, name }, this.#services.unary());
    return res.model!;
  }

  /** A ready version by number or alias; the latest ready version when neither is given. */
  async getModel(name: string, selector: VersionSelector = {}): Promise<ModelVersionHandle> {
    const { registry, unary } = this.#services;
    if (selector.version === undefined && selector.alias === undefined) {
      const [latest] = await this.listVersions(name, { pageSize: 1 });
      if (!latest) throw new ConnectError(`model "${name}" has no ready version in project "${this.project}"`, Code.NotFound);
      return new ModelVersionHandle(this.#services, latest);
    }
    const res = await registry.getModelVersion(
      {
        project: this.project,
        model: name,
        selector: selector.alias !== undefined ? { case: "alias", value: selector.alias } : { case: "version", value: selector.version! },
      },
      unary(),
    );
    return new ModelVersionHandle(this.#services, res.modelVersion!);
  }

  /** Ready versions, newest first, or ordered by a metric ("the best by rmse": orderByMetric "rmse"). */
  async listVersions(name: string, options: { orderByMetric?: string; descending?: boolean; tag?: string; pageSize?: number } = {}): Promise<ModelVersion[]> {
    const out: ModelVersion[] = [];
    let pageToken = "";
    do {
      const res = await this.#services.registry.listModelVersions(
        {
          project: this.project,
          model: name,
          pageSize: Math.min(options.pageSize ?? 1000, 1000),
          pageToken,
          orderByMetric: options.orderByMetric ?? "",
          descending: options.orderByMetric ? (options.descending ?? false) : true,
          tag: options.tag ?? "",
        },
        this.#services.unary(),
      );
      out.push(...res.modelVersions);
      pageToken = res.nextPageToken;
    } while (pageToken && (options.pageSize === undefined || out.length < options.pageSize));
    return options.pageSize === undefined ? out : out.slice(0, options.pageSize);
  }

  /** The models of the project. */
  async listModels(): Promise<Model[]> {
    const res = await this.#services.registry.listModels({ project: this.project, pageSize: 1000 }, this.#services.unary());
    return res.models;
  }

  /** Points an alias (production, staging…) at a version, atomically: upgrade and rollback are this call. */
  async setAlias(name: string, alias: string, version: number): Promise<Model> {
    const res = await this.#services.registry.setAlias({ project: this.project, model: name, alias, version }, this.#services.unary());
    return res.model!;
  }

  async deleteAlias(name: string, alias: string): Promise<Model> {
    const res = await this.#services.registry.deleteAlias({ project: this.project, model: name, alias }, this.#services.unary());
    return res.model!;
  }
}

/** A version being registered: save() uploads its files and makes it READY. */
export class ModelDraft {
  readonly #services: Services;
  readonly message: ModelVersion;

  constructor(services: Services, message: ModelVersion) {
    this.#services = services;
    this.message = message;
  }

  get version(): number {
    return this.message.version;
  }

  /**
   * Uploads the artifacts — every file under a directory, one file, or named in-memory contents —
   * each verified by sha256 on the server, then marks the version READY.
   */
  async save(
    source: string | Record<string, Uint8Array | string>,
    options: { onFile?: (path: string, bytes: number) => void } = {},
  ): Promise<ModelVersionHandle> {
    const v = this.message;
    const files: { path: string; open: () => AsyncIterable<Uint8Array>; bytes: number }[] = [];
    if (typeof source === "string") {
      const info = await stat(source);
      const paths = info.isDirectory() ? await listFiles(source) : [source];
      const root = info.isDirectory() ? source : dirname(source);
      for (const p of paths)
        files.push({
          path: relative(root, p).split(sep).join("/"),
          open: () => createReadStream(p, { highWaterMark: CHUNK_BYTES }),
          bytes: (await stat(p)).size,
        });
    } else {
      for (const [path, content] of Object.entries(source)) {
        const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
        files.push({ path, open: () => chunksOf(bytes), bytes: bytes.byteLength });
      }
    }
    for (const file of files) {
      const hash = createHash("sha256");
      for await (const chunk of file.open()) hash.update(chunk);
      const sha256 = hash.digest("hex");
      const header = { project: v.project, model: v.model, version: v.version, path: file.path, sha256, contentType: "" };
      async function* requests() {
        yield { message: { case: "header" as const, value: header } };
        for await (const chunk of file.open()) yield { message: { case: "chunk" as const, value: chunk as Uint8Array } };
      }
      await this.#services.registry.uploadArtifact(requests(), this.#services.stream());
      options.onFile?.(file.path, file.bytes);
    }
    const res = await this.#services.registry.finalizeModelVersion({ project: v.project, model: v.model, version: v.version }, this.#services.unary());
    return new ModelVersionHandle(this.#services, res.modelVersion!);
  }
}

/** A ready model version: its metadata, lineage and artifacts. */
export class ModelVersionHandle {
  readonly #services: Services;
  readonly message: ModelVersion;

  constructor(services: Services, message: ModelVersion) {
    this.#services = services;
    this.message = message;
  }

  get name(): string {
    return this.message.model;
  }
  get version(): number {
    return this.message.version;
  }
  get metrics(): Record<string, number> {
    return this.message.metrics;
  }
  get parameters(): Record<string, string> {
    return this.message.parameters;
  }
  /** The feature-view version it was trained on. */
  get featureView(): { name: string; version: number } | undefined {
    const fv = this.message.featureView;
    return fv ? { name: fv.name, version: fv.version } : undefined;
  }
  get trainingDatasetVersion(): number {
    return this.message.trainingDatasetVersion;
  }

  /** The training dataset, view and groups this version was trained from (upstream by default). */
  async lineage(options: LineageOptions = {}): Promise<LineageGraph> {
    const node = { kind: "modelVersion", name: this.name, version: this.version } as const;
    return getLineage(this.#services, this.message.project, node, { direction: "upstream", ...options });
  }

  async artifacts(): Promise<Artifact[]> {
    const m = this.message;
    const res = await this.#services.registry.listArtifacts({ project: m.project, model: m.model, version: m.version }, this.#services.unary());
    return res.artifacts;
  }

  /** One artifact's bytes, verified against its digest. */
  async read(path: string): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    await this.#download(path, async (chunks) => {
      for await (const c of chunks) parts.push(c);
    });
    return Buffer.concat(parts);
  }

  /** Downloads every artifact under `dir` (created when missing), each verified; returns the files written. */
  async download(dir: string): Promise<string[]> {
    const written: string[] = [];
    for (const artifact of await this.artifacts()) {
      const target = join(dir, ...artifact.path.split("/"));
      await mkdir(dirname(target), { recursive: true });
      const temp = `${target}.partial`;
      try {
        await this.#download(artifact.path, (chunks) => pipeline(chunks, createWriteStream(temp)));
        await rename(temp, target);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      written.push(target);
    }
    return written;
  }

  async setAlias(alias: string): Promise<void> {
    await this.#services.registry.setAlias({ project: this.message.project, model: this.name, alias, version: this.version }, this.#services.unary());
  }

  async #download(path: string, sink: (chunks: AsyncIterable<Uint8Array>) => Promise<unknown>): Promise<void> {
    const m = this.message;
    const stream = this.#services.registry.downloadArtifact({ project: m.project, model: m.model, version: m.version, path }, this.#services.stream());
    const hash = createHash("sha256");
    let expected = "";
    async function* chunks() {
      for await (const res of stream) {
        if (res.message.case === "artifact") expected = res.message.value.sha256;
        else if (res.message.case === "chunk") {
          hash.update(res.message.value);
          yield res.message.value;
        }
      }
    }
    await sink(chunks());
    const actual = hash.digest("hex");
    if (expected && actual !== expected) throw new ConnectError(`artifact "${path}" arrived with sha256 ${actual}, expected ${expected}`, Code.DataLoss);
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out.sort();
}

async function* chunksOf(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < bytes.byteLength; o += CHUNK_BYTES) yield bytes.subarray(o, Math.min(bytes.byteLength, o + CHUNK_BYTES));
  if (bytes.byteLength === 0) yield bytes;
}

/** Example rows as columnar protobuf, typed by the schema or inferred from the values. */
function columnarRows(rows: readonly Row[], inputs: readonly ColumnSpec[] | undefined): ColumnarRows {
  const names = inputs?.map((c) => c.name) ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const typeOf = new Map(inputs?.map((c) => [c.name, parseType(c.type)]));
  return create(ColumnarRowsSchema, {
    rowCount: rows.length,
    columns: names.map((name) =>
      namedColumn(
        name,
        typeOf.get(name) ?? parseType(inferType(rows.map((r) => r[name]))),
        rows.map((r) => r[name]),
      ),
    ),
  });
}

function inferType(values: readonly (FeatureValue | undefined)[]): string {
  const v = values.find((x) => x !== null && x !== undefined);
  if (typeof v === "boolean") return "bool";
  if (typeof v === "bigint") return "int64";
  if (typeof v === "number") return values.every((x) => typeof x !== "number" || Number.isInteger(x)) ? "int64" : "double";
  if (v instanceof Date) return "timestamp";
  if (v instanceof Uint8Array) return "bytes";
  return "string";
}
