import { FailedPreconditionError } from "@granary/errors";
import type { ModelRecord, ModelRecords } from "../upstream/model-records.js";

/** ModelRecords in memory, for a registry tested without a metadata service. */
export interface MemoryModelRecords extends ModelRecords {
  /** The records by "project/model" → registry id. */
  readonly byName: Map<string, string>;
  /** Projects `record` refuses, as the metadata service refuses a project it does not have. */
  readonly missingProjects: Set<string>;
  /**
   * While set, `record` writes the record and then waits for it before answering: a create that
   * has been recorded in metadata but not yet committed here (for tests of races).
   */
  hold: Promise<void> | undefined;
}

export function createMemoryModelRecords(): MemoryModelRecords {
  const byName = new Map<string, string>();
  const missingProjects = new Set<string>();
  const records: MemoryModelRecords = {
    byName,
    missingProjects,
    hold: undefined,
    async record(m) {
      if (missingProjects.has(m.project)) throw new FailedPreconditionError(`project "${m.project}" does not exist in the metadata service; create it first`);
      byName.set(`${m.project}/${m.model}`, m.registryId);
      await records.hold;
    },
    async forget(m) {
      if (byName.get(`${m.project}/${m.model}`) === m.registryId) byName.delete(`${m.project}/${m.model}`);
    },
    async list() {
      return [...byName].map(([key, registryId]) => {
        const [project = "", model = ""] = key.split("/");
        return { project, model, registryId };
      });
    },
  };
  return records;
}
