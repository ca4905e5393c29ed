import type { Pool } from "pg";
import { FailedPreconditionError } from "@granary/errors";
import { withTransaction } from "@granary/postgres";
import type { Logger } from "@granary/telemetry";
import type { ModelRecords } from "./upstream/model-records.js";
import { allModels, lockModelCreation } from "./store/models-store.js";

export interface ReconcileOptions {
  readonly pool: Pool;
  readonly records: ModelRecords;
  readonly logger: Logger;
}

export interface ReconcileResult {
  /** Models recorded that had no record (or one naming another id): made before records existed, or a record lost. */
  recorded: number;
  /** Records of models the registry does not have: a crash between a model's deletion and ForgetModel, or a create that failed after recording. */
  forgotten: number;
  /** Models whose project the metadata service does not have: left unrecorded, and logged. */
  orphaned: number;
}

/**
 * Makes the metadata service's records match the registry's models. It holds the model-creation
 * lock exclusively, so no create is between its record and its commit; and it lists the records
 * before it reads the models, so a deletion committing meanwhile is seen as a deleted model (its
 * record forgotten, as the deletion itself does) and never as a model without a record.
 */
export async function reconcileModelRecords(o: ReconcileOptions, signal?: AbortSignal): Promise<ReconcileResult> {
  return withTransaction(o.pool, async (client) => {
    await lockModelCreation(client, "exclusive");
    const records = await o.records.list(signal);
    const models = await allModels(client);
    const key = (project: string, model: string) => `${project}/${model}`;
    const ids = new Map(models.map((m) => [key(m.project, m.name), m.id]));
    const recordedIds = new Map(records.map((r) => [key(r.project, r.model), r.registryId]));
    const result: ReconcileResult = { recorded: 0, forgotten: 0, orphaned: 0 };
    for (const r of records) {
      if (ids.has(key(r.project, r.model))) continue;
      await o.records.forget(r, signal);
      result.forgotten++;
      o.logger.info(r, "forgot the metadata record of a model the registry does not have");
    }
    for (const m of models) {
      if (recordedIds.get(key(m.project, m.name)) === m.id) continue;
      try {
        await o.records.record({ project: m.project, model: m.name, registryId: m.id }, signal);
        result.recorded++;
      } catch (err) {
        if (!(err instanceof FailedPreconditionError)) throw err;
        result.orphaned++;
        o.logger.warn({ project: m.project, model: m.name, err }, "a model's project does not exist in the metadata service; the model is left unrecorded");
      }
    }
    return result;
  });
}
