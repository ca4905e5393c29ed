import { describe, expect, it } from "@jest/globals";
import { clone, create } from "@bufbuild/protobuf";
import { FeatureGroupSchema, FeatureViewSchema, OutputColumnSchema, ResolvedViewSchema, type FeatureGroup, type FeatureView } from "@granary/proto/metadata";
import { parseManifest } from "./load-manifest.js";
import { planApply, type Catalogue } from "./plan.js";

/** A server holding exactly what it was given, with the fields the services assign. */
function fakeCatalogue(groups: FeatureGroup[] = [], views: FeatureView[] = []): Catalogue {
  const latest = <T extends { name: string; version: number }>(list: T[], name: string, version: number) =>
    list.filter((x) => x.name === name && (version === 0 || x.version === version)).sort((a, b) => b.version - a.version)[0];
  return {
    group: async (name, version) => latest(groups, name, version),
    view: async (name, version) => latest(views, name, version),
  };
}

function stored<T extends FeatureGroup | FeatureView>(message: T): T {
  const copy = (
    message.$typeName === "granary.metadata.v1.FeatureGroup"
      ? clone(FeatureGroupSchema, message as FeatureGroup)
      : clone(FeatureViewSchema, message as FeatureView)
  ) as T;
  copy.id = 7n;
  copy.etag = "etag-1";
  if (copy.$typeName === "granary.metadata.v1.FeatureView") {
    (copy as FeatureView).outputColumns = [create(OutputColumnSchema, { name: "derived" })];
    (copy as FeatureView).resolved = create(ResolvedViewSchema, { groups: [{ parent: -1, prefix: "" }] });
  }
  return copy;
}

const YAML = `project: p
feature_groups:
  - name: cards
    description: per card
    columns:
      - { name: cc_num, type: int64 }
      - { name: spend, type: float }
      - { name: ts, type: timestamp }
    primary_key: [cc_num]
    event_time: ts
    custom_metadata: { owner: risk, team: fraud }
    validation_rules:
      - { name: spend_known, column: spend, values_in_set: [0.1, 0.2] }
feature_views:
  - name: v
    query:
      group: cards
      select: [spend]
      filter: "spend > 0.1"
      joins:
        - { group: merchants, on: [cc_num] }
`;

const merchants = create(FeatureGroupSchema, {
  project: "p",
  name: "merchants",
  version: 3,
  columns: [
    { name: "cc_num", type: { scalar: 3 } },
    { name: "risk", type: { scalar: 5 } },
  ],
  primaryKey: ["cc_num"],
});

const manifest = (yaml: string) => parseManifest(yaml, "f.yaml").manifest;

describe("planning an apply", () => {
  it("creates what the server lacks, reading undeclared groups from the server at their latest version", async () => {
    const plan = await planApply("p", manifest(YAML), fakeCatalogue([merchants]));
    expect(plan.problems).toEqual([]);
    expect(plan.groups.map((g) => g.action.kind)).toEqual(["create"]);
    expect(plan.views.map((v) => v.action.kind)).toEqual(["create"]);
    expect(plan.views[0]!.message.query!.joins[0]!.query!.featureGroup).toMatchObject({ name: "merchants", version: 3 });
    expect(plan.views[0]!.message.query!.featureGroup).toMatchObject({ name: "cards", version: 1 });
    // Float literals as the server will hold them once sent (32 bits), or a re-apply would see a change.
    const rule = plan.groups[0]!.message.validationRules[0]!.rule;
    expect(rule.case === "valuesInSet" && rule.value.values[0]!.kind.value).toBe(Math.fround(0.1));
    const filter = plan.views[0]!.message.query!.filter!.kind;
    expect(filter.case === "condition" && filter.value.value!.kind).toEqual({ case: "floatValue", value: Math.fround(0.1) });
  });

  it("finds nothing to do when the server holds the same definitions (float literals and map order included)", async () => {
    const first = await planApply("p", manifest(YAML), fakeCatalogue([merchants]));
    const reordered = YAML.replace("{ owner: risk, team: fraud }", "{ team: fraud, owner: risk }");
    const plan = await planApply("p", manifest(reordered), fakeCatalogue([merchants, stored(first.groups[0]!.message)], [stored(first.views[0]!.message)]));
    expect([...plan.groups, ...plan.views].map((i) => i.action.kind)).toEqual(["unchanged", "unchanged"]);
  });

  it("appends columns added at the end and updates what may change", async () => {
    const first = await planApply("p", manifest(YAML), fakeCatalogue([merchants]));
    const changed = YAML.replace("description: per card", "description: per card, daily").replace(
      "      - { name: ts, type: timestamp }\n",
      "      - { name: ts, type: timestamp }\n      - { name: country, type: string }\n",
    );
    const plan = await planApply("p", manifest(changed), fakeCatalogue([merchants, stored(first.groups[0]!.message)], [stored(first.views[0]!.message)]));
    const action = plan.groups[0]!.action;
    expect(action.kind).toBe("update");
    if (action.kind !== "update") return;
    expect(action.appended.map((c) => c.name)).toEqual(["country"]);
    expect(action.changes).toEqual([{ field: "description", detail: '"per card" → "per card, daily"' }]);
  });

  it("refuses a changed schema of an existing version, naming the fields and the version to declare", async () => {
    const first = await planApply("p", manifest(YAML), fakeCatalogue([merchants]));
    const v2 = stored(first.groups[0]!.message);
    v2.version = 2;
    const changed = YAML.replace("{ name: spend, type: float }", "{ name: spend, type: double }").replace("primary_key: [cc_num]", "primary_key: [cc_num, ts]");
    const plan = await planApply("p", manifest(changed), fakeCatalogue([merchants, stored(first.groups[0]!.message), v2]));
    const action = plan.groups[0]!.action;
    expect(action.kind).toBe("conflict");
    if (action.kind !== "conflict") return;
    expect(action.latestVersion).toBe(2);
    expect(action.changes.map((c) => c.field)).toEqual(expect.arrayContaining(["columns", "primary_key"]));
    expect(action.changes.find((c) => c.field === "columns")!.detail).toBe("type of spend: float → double");
  });

  it("names an unknown column or group of a view at its path", async () => {
    const bad = YAML.replace("select: [spend]", "select: [spned]").replace("group: merchants", "group: shops");
    const plan = await planApply("p", manifest(bad), fakeCatalogue([merchants]));
    expect(plan.problems.map((p) => `${p.path.join(".")}: ${p.message}`)).toEqual([
      'feature_views.0.query.select.0: "spned" is not a column of feature group cards v1 (did you mean "spend"?)',
      'feature_views.0.query.joins.0.group: feature group "shops" is neither declared in this file nor on the server',
    ]);
  });
});
