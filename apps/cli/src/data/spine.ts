import * as arrow from "apache-arrow";
import type { FeatureView, Project } from "@granary/client";
import { ScalarType, type DataType } from "@granary/proto/types";
import { CliError } from "../cli-error.js";
import { inputFormat } from "../commands/ingest.js";
import type { DataSource } from "./data-source.js";
import type { GroupSchema } from "./match-columns.js";

const TIMESTAMP = { scalar: ScalarType.TIMESTAMP, list: false, dimension: 0 } as DataType;

/**
 * The columns a spine file may have, as the offline service takes them: the view's serving keys,
 * the label group's primary key and event time (`event_time` when that group has none), and the
 * request parameters of on-demand features, and values of the label group's columns in the view.
 * The required serving keys and the event time must be there.
 */
export async function spineSchema(project: Project, view: FeatureView): Promise<GroupSchema> {
  const rootRef = view.definition.query?.featureGroup;
  const root = rootRef ? await project.getFeatureGroup(rootRef.name, rootRef.version) : undefined;
  const columns = new Map<string, DataType>();
  const add = (name: string, type: DataType | undefined) => {
    if (type && !columns.has(name)) columns.set(name, type);
  };
  for (const key of view.servingKeys) add(key.name, key.type);
  for (const k of root?.primaryKey ?? []) add(k, root?.columns.find((c) => c.name === k)?.type);
  const time = root?.eventTime || "event_time";
  add(time, root?.eventTime ? root.columns.find((c) => c.name === root.eventTime)?.type : TIMESTAMP);
  for (const f of view.definition.onDemandFeatures) for (const p of f.requestParameters) add(p.name, p.type);
  // Values of the label group's columns (a label, a passed feature) may come with the spine.
  const outputs = new Set(view.definition.outputColumns.map((c) => c.name));
  for (const c of root?.columns ?? []) if (outputs.has(c.name)) add(c.name, c.type);
  return {
    name: view.name,
    version: view.version,
    columns: [...columns].map(([name, type]) => ({ name, type })),
    primaryKey: view.servingKeys.filter((k) => k.required).map((k) => k.name),
    eventTime: root?.eventTime ? time : "",
    label: `the spine of feature view ${view.name} v${view.version}`,
    keyLabel: "the serving keys",
  };
}

/** A spine file (CSV or Parquet of entity keys and event times) as one Arrow table. */
export async function readSpine(file: string, project: Project, view: FeatureView): Promise<arrow.Table> {
  const schema = await spineSchema(project, view);
  let source: DataSource;
  if (inputFormat(file, undefined) === "csv") {
    const { openCsv } = await import("./csv-source.js");
    source = await openCsv(file, schema, { batchRows: 50_000, delimiter: file.toLowerCase().endsWith(".tsv") ? "\t" : "," });
  } else {
    const { openParquet } = await import("./parquet-source.js");
    source = await openParquet(file, schema, { batchRows: 50_000 });
  }
  const batches: arrow.RecordBatch[] = [];
  try {
    for await (const batch of source.batches()) batches.push(batch);
  } finally {
    await source.close();
  }
  if (batches.reduce((n, b) => n + b.numRows, 0) === 0) throw new CliError(`${file} has no rows: a spine names at least one entity`);
  return new arrow.Table(batches);
}
