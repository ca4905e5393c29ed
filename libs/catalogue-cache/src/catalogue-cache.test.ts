import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { ChangeKind, ChangeSchema, FeatureGroupSchema, FeatureViewSchema } from "@granary/proto/metadata";
import { CatalogueCache } from "./catalogue-cache.js";

const logger = { info: () => {}, warn: () => {} };
const group = (version: number, kind = ChangeKind.CREATED, revision = BigInt(version)) =>
  create(ChangeSchema, {
    kind,
    revision,
    project: "p",
    resource: { case: "featureGroup", value: create(FeatureGroupSchema, { project: "p", name: "g", version, id: BigInt(100 + version) }) },
  });

describe("CatalogueCache.apply", () => {
  it("tracks the latest version of a name through creates and deletes", () => {
    const cache = new CatalogueCache({} as never, { logger });
    cache.apply(group(1));
    cache.apply(group(3, ChangeKind.CREATED, 2n));
    cache.apply(group(2, ChangeKind.CREATED, 3n));
    expect(cache.featureGroup("p", "g")?.version).toBe(3);
    cache.apply(group(3, ChangeKind.DELETED, 4n));
    expect(cache.featureGroup("p", "g")?.version).toBe(2);
    expect(cache.featureGroup("p", "g", 3)).toBeUndefined();
    expect(cache.featureGroupById(101n)?.version).toBe(1);
    cache.apply(group(1, ChangeKind.DELETED, 5n));
    cache.apply(group(2, ChangeKind.DELETED, 6n));
    expect(cache.featureGroup("p", "g")).toBeUndefined();
    expect(cache.revision).toBe(6n);
  });

  it("keeps views and their training datasets apart per version", () => {
    const cache = new CatalogueCache({} as never, { logger });
    cache.apply(
      create(ChangeSchema, {
        kind: ChangeKind.CREATED,
        revision: 1n,
        project: "p",
        resource: { case: "featureView", value: create(FeatureViewSchema, { project: "p", name: "v", version: 1 }) },
      }),
    );
    cache.apply(
      create(ChangeSchema, {
        kind: ChangeKind.CREATED,
        revision: 2n,
        project: "p",
        resource: {
          case: "trainingDataset",
          value: {
            $typeName: "granary.metadata.v1.TrainingDataset",
            project: "p",
            featureView: { $typeName: "granary.types.v1.FeatureViewRef", name: "v", version: 1 },
            version: 1,
          } as never,
        },
      }),
    );
    expect(cache.featureView("p", "v")?.version).toBe(1);
    expect(cache.trainingDataset("p", "v", 1)?.version).toBe(1);
    expect(cache.trainingDataset("p", "v", 2)).toBeUndefined();
  });
});
