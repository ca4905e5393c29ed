import type { Client } from "@connectrpc/connect";
import type { MetadataService } from "@granary/proto/metadata";
import { askMetadata } from "./ask-metadata.js";
import type { ModelRecord, ModelRecords } from "./model-records.js";

/** ModelRecords through the metadata service's service-only RPCs. */
export function createMetadataModelRecords(metadata: Client<typeof MetadataService>): ModelRecords {
  const noProject = (m: ModelRecord) => `project "${m.project}" does not exist in the metadata service; create it first`;
  return {
    async record(m, signal) {
      await askMetadata(() => metadata.recordModel({ project: m.project, model: m.model, registryId: m.registryId }, { signal }), noProject(m));
    },
    async forget(m, signal) {
      await askMetadata(() => metadata.forgetModel({ project: m.project, model: m.model, registryId: m.registryId }, { signal }), noProject(m));
    },
    async list(signal) {
      const all: ModelRecord[] = [];
      let pageToken = "";
      do {
        const page = await askMetadata(
          () => metadata.listRecordedModels({ pageSize: 1000, pageToken }, { signal }),
          "the metadata service has no recorded models",
        );
        for (const m of page.models) all.push({ project: m.project, model: m.model, registryId: m.registryId });
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      return all;
    },
  };
}
