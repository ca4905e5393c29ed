import { clone } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool } from "pg";
import { InvalidArgumentError, NotFoundError } from "@granary/errors";
import { StatisticsSchema, type Statistics, type StatisticsSubject } from "@granary/proto/metadata";
import { lockProject } from "./projects-store.js";
import { inCatalogueTransaction } from "./catalogue-transaction.js";
import { fromRow, toRow } from "./json-resource.js";

/** The key statistics are filed under: one set per group, commit or training dataset. */
export function subjectKey(subject: StatisticsSubject | undefined): string {
  switch (subject?.kind.case) {
    case "featureGroup":
      return `group/${subject.kind.value.name}/${subject.kind.value.version}/all`;
    case "commit":
      return `group/${subject.kind.value.featureGroup?.name}/${subject.kind.value.featureGroup?.version}/commit/${subject.kind.value.commitId}`;
    case "trainingDataset":
      return `dataset/${subject.kind.value.featureView?.name}/${subject.kind.value.featureView?.version}/${subject.kind.value.version}`;
    default:
      throw new InvalidArgumentError("statistics subject: name a feature group, a commit or a training dataset", { field: "subject" });
  }
}

/** Stores (replacing) the statistics of a subject. */
export async function putStatistics(pool: Pool, stats: Statistics): Promise<Statistics> {
  const key = subjectKey(stats.subject);
  return inCatalogueTransaction(pool, async (tx) => {
    await lockProject(tx, stats.project);
    const stored = clone(StatisticsSchema, stats);
    stored.computeTime ??= timestampFromDate(tx.now);
    await tx.client.query(
      `INSERT INTO statistics (project, subject, resource) VALUES ($1, $2, $3)
       ON CONFLICT (project, subject) DO UPDATE SET resource = excluded.resource`,
      [stats.project, key, toRow(StatisticsSchema, stored)],
    );
    return stored;
  });
}

export async function getStatistics(pool: Pool, project: string, subject: StatisticsSubject): Promise<Statistics> {
  const key = subjectKey(subject);
  const { rows } = await pool.query<{ resource: unknown }>("SELECT resource FROM statistics WHERE project = $1 AND subject = $2", [project, key]);
  if (!rows[0]) throw new NotFoundError(`no statistics for ${key.replace(/\//g, " ")} in project "${project}"`);
  return fromRow(StatisticsSchema, rows[0].resource);
}
