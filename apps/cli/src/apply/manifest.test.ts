import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { ManifestError, parseManifest } from "./load-manifest.js";
import { parseFilterCondition } from "./filter-text.js";
import { DistanceMetric } from "@granary/proto/metadata";
import { groupMessage, viewMessage } from "./build-messages.js";

const problemsOf = (yaml: string): readonly string[] => {
  try {
    parseManifest(yaml, "f.yaml");
  } catch (err) {
    if (err instanceof ManifestError) return err.problems;
    throw err;
  }
  return [];
};

const group = (extra = "") => `
  - name: cards
    columns:
      - { name: cc_num, type: int64 }
      - { name: spend, type: double }
      - { name: ts, type: timestamp }
    primary_key: [cc_num]
    event_time: ts
${extra}`;

describe("the manifest format", () => {
  it("accepts the fraud example as it is", () => {
    const { manifest } = parseManifest(readFileSync(new URL("../../examples/fraud.yaml", import.meta.url), "utf8"), "fraud.yaml");
    expect(manifest.project).toBe("fraud");
    expect(manifest.featureGroups.map((g) => g.name)).toEqual(["transactions", "card_aggs", "merchants", "banks"]);
    const cards = manifest.featureGroups[1]!;
    expect(cards).toMatchObject({ version: 1, onlineEnabled: true, onlineTtlMs: 30 * 86_400_000, primaryKey: ["cc_num"], eventTime: "ts" });
    const view = manifest.featureViews[0]!;
    expect(view.query.joins[0]!.query.joins[0]!.prefix).toBe("bank_");
    expect(view.transformations).toEqual({ amount: "min_max_scaler" });
  });

  it("names the path and line of a bad type, with a suggestion", () => {
    const problems = problemsOf(`feature_groups:
  - name: a
    columns: [{ name: id, type: int64 }]
    primary_key: id
  - name: b
    columns:
      - { name: id, type: int64 }
      - { name: x, type: double }
      - { name: y, type: dobule }
    primary_key: [id]
`);
    expect(problems).toEqual([
      `f.yaml:9: feature_groups[1].columns[2].type: unknown type "dobule" (did you mean "double"?): use bool, int32, int64, float, double, string, bytes, timestamp, date, list<type> or embedding<dimension>`,
    ]);
  });

  it("reports every problem of a file at once", () => {
    const problems = problemsOf(`project: Fraud
feature_groups:
  - name: cards
    colums: []
    columns:
      - { name: cc_num, type: int64 }
      - { name: cc_num, type: string }
    primary_key: [ccnum]
    event_time: cc_num
    online_ttl: 3 days
    validation_rules:
      - { name: r, column: cc_num, between: { min: 5, max: 1 } }
feature_views:
  - name: v
    query: { group: cards, select_all: true, select: [a] }
`);
    expect(problems.map((p) => p.replace(/^f\.yaml:\d+: /, "").split(":")[0])).toEqual([
      "project",
      "feature_groups[0].colums",
      "feature_groups[0].columns[1].name",
      "feature_groups[0].primary_key[0]",
      "feature_groups[0].event_time",
      "feature_groups[0].online_ttl",
      "feature_groups[0].validation_rules[0].between",
      "feature_views[0].query",
    ]);
    expect(problems[1]).toContain('unknown field (did you mean "columns"?)');
    expect(problems[3]).toContain('primary key "ccnum" is not a column of the group (did you mean "cc_num"?)');
  });

  it("checks rule values against the column type", () => {
    const problems = problemsOf(
      `feature_groups:${group(`    validation_rules:
      - { name: spend_known, column: spend, values_in_set: [1.5, abc] }
      - { name: two, column: spend, not_null: true, unique: true }`)}`,
    );
    expect(problems).toEqual([
      'f.yaml:10: feature_groups[0].validation_rules[0].values_in_set[1]: "abc" is not a double',
      "f.yaml:11: feature_groups[0].validation_rules[1]: give one rule per entry, not not_null and unique",
    ]);
  });

  it("refuses a version declared twice and an empty file", () => {
    expect(problemsOf(`feature_groups:${group()}${group()}`)).toEqual([expect.stringContaining('feature group "cards" version 1 is declared twice')]);
    expect(problemsOf("")).toEqual(["f.yaml: the file is empty: declare feature_groups and/or feature_views"]);
  });

  it("reports YAML syntax errors with line and column", () => {
    expect(problemsOf("feature_groups:\n  - name: a\n   columns: [\n")[0]).toMatch(/^f\.yaml:3:\d+: /);
  });

  it("reads queries: group versions, selections, nested joins and filters", () => {
    const { manifest } = parseManifest(
      `feature_views:
  - name: v
    query:
      group: cards:2
      select_except: [ts]
      filter: [ "spend > 10", { or: [ "cc_num in [1, 2]", "spend is null" ] } ]
      joins:
        - { group: merchants, left_on: [m], right_on: [merchant_id], prefix: m_, type: inner }
`,
      "f.yaml",
    );
    const q = manifest.featureViews[0]!.query;
    expect(q).toMatchObject({ group: "cards", version: 2, selection: { mode: "except", columns: ["ts"] } });
    expect(q.joins[0]).toMatchObject({
      leftOn: ["m"],
      rightOn: ["merchant_id"],
      prefix: "m_",
      type: "inner",
      query: { group: "merchants", version: undefined },
    });
    expect(q.filter).toEqual({
      kind: "and",
      filters: [
        { kind: "condition", column: "spend", op: "gt", value: 10 },
        {
          kind: "or",
          filters: [
            { kind: "condition", column: "cc_num", op: "in", values: [1, 2] },
            { kind: "condition", column: "spend", op: "is_null" },
          ],
        },
      ],
    });
  });
});

describe("filter conditions", () => {
  it("reads the operators and literals", () => {
    expect(parseFilterCondition("category == 'food'")).toEqual({ kind: "condition", column: "category", op: "eq", value: "food" });
    expect(parseFilterCondition("amount<=1.5")).toEqual({ kind: "condition", column: "amount", op: "le", value: 1.5 });
    expect(parseFilterCondition("ok != true")).toEqual({ kind: "condition", column: "ok", op: "ne", value: true });
    expect(parseFilterCondition("c in [a, 'b c']")).toEqual({ kind: "condition", column: "c", op: "in", values: ["a", "b c"] });
    expect(parseFilterCondition("m is not null")).toEqual({ kind: "condition", column: "m", op: "is_not_null" });
  });
  it("explains what is not a condition", () => {
    expect(parseFilterCondition("amount")).toMatch(/is not a condition/);
    expect(parseFilterCondition("amount == null")).toMatch(/amount is null/);
  });
});

describe("embedding indexes and drift thresholds in the manifest", () => {
  const items = (extra: string, online = "true") => `feature_groups:
  - name: items
    columns:
      - { name: item_id, type: int64 }
      - { name: title, type: string }
      - { name: emb, type: embedding<4> }
    primary_key: [item_id]
    online_enabled: ${online}
${extra}`;

  it("reads a group's indexes (cosine by default) and a view's default and per-feature thresholds into the messages", () => {
    const { manifest } = parseManifest(
      `${items(`    embedding_indexes:
      - { column: emb }
`)}feature_views:
  - name: item_view
    query: { group: items, select: [title, emb] }
    monitoring:
      default: { psi: 0.25, null_share_increase: 0.05 }
      features:
        title: { psi: 0.5 }
`,
      "f.yaml",
    );
    expect(manifest.featureGroups[0]!.embeddingIndexes).toEqual([{ column: "emb", metric: "cosine" }]);
    const group = groupMessage("p", manifest.featureGroups[0]!);
    expect(group.embeddingIndexes.map((e) => [e.column, e.metric])).toEqual([["emb", DistanceMetric.COSINE]]);
    expect(manifest.featureViews[0]!.monitoring).toEqual({ default: { psi: 0.25, nullShareIncrease: 0.05 }, features: { title: { psi: 0.5 } } });
    const view = viewMessage("p", manifest.featureViews[0]!, () => group, [])!;
    expect(view.monitoring?.defaultThresholds).toMatchObject({ psi: 0.25, nullShareIncrease: 0.05 });
    expect(view.monitoring?.defaultThresholds?.ks).toBeUndefined();
    expect(view.monitoring?.features.map((f) => [f.column, f.thresholds?.psi])).toEqual([["title", 0.5]]);
  });

  it("refuses an index of a column that is no embedding, a bad metric, an offline group and negative thresholds", () => {
    expect(
      problemsOf(
        items(
          `    embedding_indexes:
      - { column: title, metric: cosine }
      - { column: emb, metric: hamming }
`,
          "false",
        ),
      ),
    ).toEqual([
      'f.yaml:10: feature_groups[0].embedding_indexes[0].column: column "title" is not an embedding: declare it as embedding<dimension>',
      'f.yaml:11: feature_groups[0].embedding_indexes[1].metric: unknown value "hamming": use cosine, l2, inner_product',
      "f.yaml:10: feature_groups[0].embedding_indexes: needs online_enabled: true (the online service keeps the indexes)",
    ]);
    expect(
      problemsOf(`${items("")}feature_views:
  - name: item_view
    query: { group: items, select: [title] }
    monitoring: { default: { psi: -1, kss: 0.1 } }
`),
    ).toEqual([
      'f.yaml:12: feature_views[0].monitoring.default.kss: unknown field (did you mean "ks"?)',
      "f.yaml:12: feature_views[0].monitoring.default.psi: must not be negative, got -1",
    ]);
  });
});
