import { FailedPreconditionError } from "@granary/errors";
import type { ModelRecord, ModelRecords } from "../store/model-records.js";

/** ModelRecords in memory, for a registry tested without a metadata service. */
export interface MemoryModelRecords extends ModelRecords {
  /** The records by "project/model" → registry id. */
  readonly byName: Map<string, string>;
  /** Projects `record` refuses, as the metadata service refuses a project it does not have. */
  readonly missingProjects: Set<string>;
}

export function createMemoryModelRecords(): MemoryModelRecords {
  const byName = new Map<string, string>();
  const missingProjects = new Set<string>();
  return {
    byName,
    missingProjects,
    async record(m) {
      if (missingProjects.has(m.project)) throw new FailedPreconditionError(`project "${m.project}" does not exist in the metadata service; create it first`);
      byName.set(`${m.project}/${m.model}`, m.registryId);
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
}
