import { describe, expect, it } from "@jest/globals";
import { clone, create, equals, type MessageInitShape } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@granary/errors";
import {
  ColumnRole,
  FeatureGroupSchema,
  FeatureViewSchema,
  FilterOperator,
  FilterSchema,
  JoinSchema,
  OnDemandFeatureSchema,
  type QuerySchema,
  SelectionMode,
  TransformationSchema,
  TransformationFunction,
  type FeatureGroup,
  type FeatureView,
  JoinType,
  type OutputColumn,
  type ResolvedGroup,
  type ServingKey,
} from "@granary/proto/metadata";
import { DataTypeSchema, ScalarType, type DataType, type FeatureGroupRef } from "@granary/proto/types";
import { collectGroupRefs, resolveFeatureView } from "./feature-view-resolver.js";

const { BOOL, INT32, INT64, FLOAT, DOUBLE, STRING, TIMESTAMP } = ScalarType;
const t = (scalar: ScalarType, list = false): DataType => create(DataTypeSchema, { scalar, list });

function group(
  name: string,
  columns: [string, ScalarType, boolean?][],
  primaryKey: string[],
  options: { online?: boolean; eventTime?: string; version?: number } = {},
): FeatureGroup {
  return create(FeatureGroupSchema, {
    project: "fraud",
    name,
    version: options.version ?? 1,
    columns: columns.map(([n, scalar, list]) => ({ name: n, type: t(scalar, list ?? false) })),
    primaryKey,
    eventTime: options.eventTime ?? "",
    onlineEnabled: options.online ?? false,
  });
}

const transactions = group(
  "transactions",
  [
    ["tid", STRING],
    ["cc_num", STRING],
    ["merchant_id", STRING],
    ["amount", DOUBLE],
    ["category", STRING],
    ["datetime", TIMESTAMP],
    ["is_fraud", BOOL],
    ["tags", STRING, true],
  ],
  ["tid"],
  { eventTime: "datetime" },
);
const cardAggs = group(
  "card_aggs",
  [
    ["cc_num", STRING],
    ["count_10m", INT64],
    ["sum_10m", DOUBLE],
    ["prev_ts", TIMESTAMP],
    ["prev_lat", DOUBLE],
    ["prev_lon", DOUBLE],
    ["event_time", TIMESTAMP],
  ],
  ["cc_num"],
  { online: true, eventTime: "event_time" },
);
const merchants = group(
  "merchants",
  [
    ["merchant_id", STRING],
    ["bank_id", STRING],
    ["country", STRING],
  ],
  ["merchant_id"],
  { online: true },
);
const banks = group(
  "banks",
  [
    ["bank_id", STRING],
    ["credit_rating", INT32],
  ],
  ["bank_id"],
  { online: true },
);
const merchantCategory = group(
  "merchant_category",
  [
    ["merchant_id", STRING],
    ["category", STRING],
    ["risk", DOUBLE],
  ],
  ["merchant_id", "category"],
  { online: true },
);
const cards = group(
  "cards",
  [
    ["card_number", STRING],
    ["issuer", STRING],
  ],
  ["card_number"],
  { online: true },
);
const merchantNotes = group(
  "merchant_notes",
  [
    ["merchant_id", STRING],
    ["bank_id", STRING],
    ["note", STRING],
  ],
  ["merchant_id"],
);
const GROUPS = [transactions, cardAggs, merchants, banks, merchantCategory, cards, merchantNotes];
const lookup = (ref: FeatureGroupRef): FeatureGroup | undefined => GROUPS.find((g) => g.name === ref.name && g.version === ref.version);

const ref = (name: string, version = 1) => ({ name, version });
const dbl = (value: number) => ({ kind: { case: "doubleValue" as const, value } });
const str = (value: string) => ({ kind: { case: "stringValue" as const, value } });
type FilterInit = MessageInitShape<typeof FilterSchema>;
const condition = (column: string, operator: FilterOperator, more: object = {}): FilterInit => ({
  kind: { case: "condition", value: { column, operator, ...more } },
});

function fraudView(): FeatureView {
  return create(FeatureViewSchema, {
    project: "fraud",
    name: "fraud_model",
    version: 1,
    query: {
      featureGroup: ref("transactions"),
      selection: { mode: SelectionMode.EXCEPT, columns: ["tid", "tags"] },
      filter: condition("amount", FilterOperator.GT, { value: dbl(0) }),
      joins: [
        { query: { featureGroup: ref("card_aggs"), selection: { mode: SelectionMode.EXCEPT, columns: ["event_time"] } } },
        { on: ["merchant_id"], query: { featureGroup: ref("merchants"), joins: [{ query: { featureGroup: ref("banks") } }] } },
      ],
    },
    labels: ["is_fraud"],
    trainingHelperColumns: ["datetime"],
    inferenceHelperColumns: ["country"],
    onDemandFeatures: [
      {
        name: "distance_km",
        type: t(DOUBLE),
        expression: "geo.haversine_km(lat, lon, prev_lat, prev_lon)",
        requestParameters: [
          { name: "lat", type: t(DOUBLE) },
          { name: "lon", type: t(DOUBLE) },
        ],
      },
    ],
    transformations: [{ column: "amount", function: TransformationFunction.MIN_MAX_SCALER }],
  });
}

/** A view of just a query (and transformations). */
function viewOf(query: MessageInitShape<typeof QuerySchema>, transformations: MessageInitShape<typeof TransformationSchema>[] = []): FeatureView {
  return create(FeatureViewSchema, { project: "fraud", name: "v", version: 1, query, transformations });
}

const summary = (c: OutputColumn) => [c.name, ColumnRole[c.role], c.featureGroup?.name ?? "", c.sourceColumn];
const keySummary = (k: ServingKey) => [k.name, k.featureGroup?.name, k.column, k.required];

function rejection(view: FeatureView): InvalidArgumentError {
  try {
    resolveFeatureView(view, lookup);
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err;
    throw err;
  }
  throw new Error("expected the view to be rejected");
}

describe("resolveFeatureView", () => {
  it("derives the fraud view's output columns, roles and serving keys", () => {
    const resolved = resolveFeatureView(fraudView(), lookup);

    expect(resolved.outputColumns.map(summary)).toEqual([
      ["cc_num", "FEATURE", "transactions", "cc_num"],
      ["merchant_id", "FEATURE", "transactions", "merchant_id"],
      ["amount", "FEATURE", "transactions", "amount"],
      ["category", "FEATURE", "transactions", "category"],
      ["datetime", "TRAINING_HELPER", "transactions", "datetime"],
      ["is_fraud", "LABEL", "transactions", "is_fraud"],
      ["count_10m", "FEATURE", "card_aggs", "count_10m"],
      ["sum_10m", "FEATURE", "card_aggs", "sum_10m"],
      ["prev_ts", "FEATURE", "card_aggs", "prev_ts"],
      ["prev_lat", "FEATURE", "card_aggs", "prev_lat"],
      ["prev_lon", "FEATURE", "card_aggs", "prev_lon"],
      ["bank_id", "FEATURE", "merchants", "bank_id"],
      ["country", "INFERENCE_HELPER", "merchants", "country"],
      ["credit_rating", "FEATURE", "banks", "credit_rating"],
      ["distance_km", "ON_DEMAND", "", ""],
    ]);
    const amount = resolved.outputColumns.find((c) => c.name === "amount")!;
    expect(amount.transformation).toBe(TransformationFunction.MIN_MAX_SCALER);
    expect(amount.type).toEqual(t(DOUBLE));
    expect(amount.featureGroup).toMatchObject({ name: "transactions", version: 1 });
    expect(resolved.outputColumns.filter((c) => c.transformation !== TransformationFunction.UNSPECIFIED)).toHaveLength(1);
    const distance = resolved.outputColumns.at(-1)!;
    expect(distance).toMatchObject({ name: "distance_km", type: t(DOUBLE), sourceColumn: "" });
    expect(distance.featureGroup).toBeUndefined();

    // transactions is offline: its foreign keys come from the caller; merchants is online, so its
    // bank_id is read from the fetched merchants row and the caller may omit it.
    expect(resolved.servingKeys.map(keySummary)).toEqual([
      ["cc_num", "card_aggs", "cc_num", true],
      ["merchant_id", "merchants", "merchant_id", true],
      ["bank_id", "banks", "bank_id", false],
    ]);
    expect(resolved.servingKeys.every((k) => equals(DataTypeSchema, k.type!, t(STRING)))).toBe(true);
    expect(resolved.sourceGroups.map((r) => `${r.name}@${r.version}`)).toEqual(["transactions@1", "card_aggs@1", "merchants@1", "banks@1"]);
  });

  it("resolves the fraud view once for every reader: nodes, join keys, key sources, column origins", () => {
    const { resolved, outputColumns } = resolveFeatureView(fraudView(), lookup);
    const node = (g: ResolvedGroup) => ({
      group: g.featureGroup!.name,
      parent: g.parent,
      prefix: g.prefix,
      on: g.leftOn.map((l, i) => `${l}=${g.rightOn[i]}`),
      join: JoinType[g.joinType],
      filter: g.filter !== undefined,
      keys: g.keySources.map((k) => `${k.column}<-${k.source.case}:${String(k.source.value)}${k.servingKeyOverride ? `|${k.servingKeyOverride}` : ""}`),
      read: g.readColumns,
    });
    expect(resolved.groups.map(node)).toEqual([
      {
        group: "transactions",
        parent: -1,
        prefix: "",
        on: [],
        join: "UNSPECIFIED",
        filter: true,
        keys: ["tid<-servingKey:tid"],
        read: ["cc_num", "merchant_id", "amount", "category", "datetime", "is_fraud"],
      },
      // transactions is offline only: the keys of groups joined to it come from the caller.
      {
        group: "card_aggs",
        parent: 0,
        prefix: "",
        on: ["cc_num=cc_num"],
        join: "LEFT",
        filter: false,
        keys: ["cc_num<-servingKey:cc_num"],
        read: ["count_10m", "sum_10m", "prev_ts", "prev_lat", "prev_lon"],
      },
      {
        group: "merchants",
        parent: 0,
        prefix: "",
        on: ["merchant_id=merchant_id"],
        join: "LEFT",
        filter: false,
        keys: ["merchant_id<-servingKey:merchant_id"],
        read: ["bank_id", "country"],
      },
      // merchants is online: banks' key is read from the fetched merchants row unless the caller passes it.
      {
        group: "banks",
        parent: 2,
        prefix: "",
        on: ["bank_id=bank_id"],
        join: "LEFT",
        filter: false,
        keys: ["bank_id<-parentColumn:bank_id|bank_id"],
        read: ["credit_rating"],
      },
    ]);
    expect(resolved.columns).toHaveLength(outputColumns.length);
    const origin = resolved.columns.map((c, i) => [outputColumns[i]!.name, c.group, c.sourceColumn, c.keyPart ?? null]);
    expect(origin).toEqual([
      ["cc_num", 0, "cc_num", null],
      ["merchant_id", 0, "merchant_id", null],
      ["amount", 0, "amount", null],
      ["category", 0, "category", null],
      ["datetime", 0, "datetime", null],
      ["is_fraud", 0, "is_fraud", null],
      ["count_10m", 1, "count_10m", null],
      ["sum_10m", 1, "sum_10m", null],
      ["prev_ts", 1, "prev_ts", null],
      ["prev_lat", 1, "prev_lat", null],
      ["prev_lon", 1, "prev_lon", null],
      ["bank_id", 2, "bank_id", null],
      ["country", 2, "country", null],
      ["credit_rating", 3, "credit_rating", null],
      ["distance_km", -1, "", null],
    ]);
  });

  it("marks a root's selected primary key as a key part, and reads a joined key from the parent's key", () => {
    const view = viewOf({
      featureGroup: ref("merchants"),
      joins: [{ prefix: "mc_", on: ["merchant_id"], query: { featureGroup: ref("merchant_notes") } }],
    });
    // merchant_notes' key is merchants' own key: an online lookup reuses it.
    const { resolved, outputColumns } = resolveFeatureView(view, lookup);
    expect(outputColumns[0]!.name).toBe("merchant_id");
    expect(resolved.columns[0]).toMatchObject({ group: 0, sourceColumn: "merchant_id", keyPart: 0 });
    expect(resolved.groups[1]!.keySources.map((k) => [k.column, k.source.case, k.source.value])).toEqual([["merchant_id", "parentKeyPart", 0]]);
    expect(resolved.groups[1]!.prefix).toBe("mc_");
    expect(resolved.groups[0]!.readColumns).toEqual(["merchant_id", "bank_id", "country"]);
  });

  it("does not modify the view or the groups", () => {
    const view = fraudView();
    const before = clone(FeatureViewSchema, view);
    const groupsBefore = GROUPS.map((g) => clone(FeatureGroupSchema, g));
    const resolved = resolveFeatureView(view, lookup);
    resolved.outputColumns[0]!.type!.scalar = BOOL;
    resolved.servingKeys[0]!.featureGroup!.name = "changed";
    resolved.sourceGroups[0]!.name = "changed";
    expect(equals(FeatureViewSchema, view, before)).toBe(true);
    GROUPS.forEach((g, i) => expect(equals(FeatureGroupSchema, g, groupsBefore[i]!)).toBe(true));
  });

  it("selects ALL in group order, INCLUDE in listed order, EXCEPT in group order", () => {
    const names = (selection: object) => resolveFeatureView(viewOf({ featureGroup: ref("card_aggs"), selection }), lookup).outputColumns.map((c) => c.name);
    const all = ["cc_num", "count_10m", "sum_10m", "prev_ts", "prev_lat", "prev_lon", "event_time"];
    expect(names({})).toEqual(all);
    expect(names({ mode: SelectionMode.ALL })).toEqual(all);
    expect(names({ mode: SelectionMode.INCLUDE, columns: ["sum_10m", "cc_num"] })).toEqual(["sum_10m", "cc_num"]);
    expect(names({ mode: SelectionMode.EXCEPT, columns: ["prev_lon", "cc_num"] })).toEqual(["count_10m", "sum_10m", "prev_ts", "prev_lat", "event_time"]);
  });

  it("infers join keys from the right group's primary key and drops the right key column", () => {
    const view = viewOf({
      featureGroup: ref("transactions"),
      selection: { mode: SelectionMode.INCLUDE, columns: ["tid"] },
      joins: [{ query: { featureGroup: ref("card_aggs"), selection: { mode: SelectionMode.INCLUDE, columns: ["cc_num", "sum_10m"] } } }],
    });
    const resolved = resolveFeatureView(view, lookup);
    // The left key need not be selected; the right key is never output.
    expect(resolved.outputColumns.map((c) => c.name)).toEqual(["tid", "sum_10m"]);
    expect(resolved.servingKeys.map(keySummary)).toEqual([["cc_num", "card_aggs", "cc_num", true]]);
  });

  it("pairs left_on with right_on and orders the pairs as the right group's primary key", () => {
    const view = viewOf({
      featureGroup: ref("transactions"),
      selection: { mode: SelectionMode.INCLUDE, columns: ["tid"] },
      joins: [
        { leftOn: ["cc_num"], rightOn: ["card_number"], query: { featureGroup: ref("cards") } },
        { leftOn: ["category", "merchant_id"], rightOn: ["category", "merchant_id"], query: { featureGroup: ref("merchant_category") } },
        { on: ["merchant_id"], query: { featureGroup: ref("merchants"), selection: { mode: SelectionMode.INCLUDE, columns: ["country"] } } },
      ],
    });
    const resolved = resolveFeatureView(view, lookup);
    expect(resolved.outputColumns.map((c) => c.name)).toEqual(["tid", "issuer", "risk", "country"]);
    expect(resolved.servingKeys.map(keySummary)).toEqual([
      ["cc_num", "cards", "card_number", true],
      ["merchant_id", "merchant_category", "merchant_id", true],
      ["category", "merchant_category", "category", true],
    ]);
  });

  it("prefixes a join's subtree, nested prefixes concatenating outer then inner", () => {
    const view = viewOf({
      featureGroup: ref("transactions"),
      selection: { mode: SelectionMode.INCLUDE, columns: ["tid", "merchant_id"] },
      joins: [
        {
          prefix: "m_",
          query: { featureGroup: ref("merchants"), joins: [{ prefix: "b_", query: { featureGroup: ref("banks") } }] },
        },
        { prefix: "again_", query: { featureGroup: ref("merchants"), selection: { mode: SelectionMode.INCLUDE, columns: ["country"] } } },
      ],
    });
    const resolved = resolveFeatureView(view, lookup);
    expect(resolved.outputColumns.map(summary)).toEqual([
      ["tid", "FEATURE", "transactions", "tid"],
      ["merchant_id", "FEATURE", "transactions", "merchant_id"],
      ["m_bank_id", "FEATURE", "merchants", "bank_id"],
      ["m_country", "FEATURE", "merchants", "country"],
      ["m_b_credit_rating", "FEATURE", "banks", "credit_rating"],
      ["again_country", "FEATURE", "merchants", "country"],
    ]);
    // The nested join's left key is named as the caller sees it: with the merchants subtree's prefix.
    expect(resolved.servingKeys.map(keySummary)).toEqual([
      ["merchant_id", "merchants", "merchant_id", true],
      ["m_bank_id", "banks", "bank_id", false],
    ]);
  });

  it("keys an online root by its primary key and derives joins on it", () => {
    const view = viewOf({
      featureGroup: ref("merchants"),
      joins: [
        { query: { featureGroup: ref("banks") } },
        {
          leftOn: ["merchant_id"],
          rightOn: ["merchant_id"],
          query: { featureGroup: ref("merchant_notes"), selection: { mode: SelectionMode.INCLUDE, columns: ["note"] } },
        },
      ],
    });
    const resolved = resolveFeatureView(view, lookup);
    expect(resolved.outputColumns.map((c) => c.name)).toEqual(["merchant_id", "bank_id", "country", "credit_rating", "note"]);
    expect(resolved.servingKeys.map(keySummary)).toEqual([
      ["merchant_id", "merchants", "merchant_id", true],
      ["bank_id", "banks", "bank_id", false],
    ]);
  });

  it("lists a serving key once; required wins over derivable", () => {
    const view = viewOf({
      featureGroup: ref("merchants"),
      joins: [
        { query: { featureGroup: ref("banks") } },
        {
          query: {
            featureGroup: ref("merchant_notes"),
            selection: { mode: SelectionMode.INCLUDE, columns: ["note"] },
            // merchant_notes is offline: its bank_id must come from the caller.
            joins: [{ prefix: "notes_", query: { featureGroup: ref("banks") } }],
          },
        },
      ],
    });
    const resolved = resolveFeatureView(view, lookup);
    expect(resolved.outputColumns.map((c) => c.name)).toEqual(["merchant_id", "bank_id", "country", "credit_rating", "note", "notes_credit_rating"]);
    expect(resolved.servingKeys.map(keySummary)).toEqual([
      ["merchant_id", "merchants", "merchant_id", true],
      ["bank_id", "banks", "bank_id", true],
    ]);
  });

  it("accepts every filter shape on any column of the query's group", () => {
    const view = fraudView();
    view.query!.filter = create(FilterSchema, {
      kind: {
        case: "and",
        value: {
          filters: [
            condition("tid", FilterOperator.NE, { value: str("x") }),
            condition("amount", FilterOperator.LE, { value: dbl(5) }),
            condition("category", FilterOperator.IN, { values: [str("food"), str("travel")] }),
            condition("tags", FilterOperator.EQ, { value: { kind: { case: "listValue", value: { values: [str("a")] } } } }),
            {
              kind: {
                case: "or",
                value: {
                  filters: [
                    condition("is_fraud", FilterOperator.IS_NULL),
                    condition("is_fraud", FilterOperator.EQ, { value: { kind: { case: "boolValue", value: true } } }),
                  ],
                },
              },
            },
          ],
        },
      },
    });
    view.query!.joins[0]!.query!.filter = create(
      FilterSchema,
      condition("count_10m", FilterOperator.GE, { value: { kind: { case: "int32Value", value: 1 } } }),
    );
    expect(() => resolveFeatureView(view, lookup)).not.toThrow();
  });

  it("allows a transformation on a label and on an on-demand feature", () => {
    const view = fraudView();
    view.labels = ["category"];
    view.transformations.push(
      create(TransformationSchema, { column: "category", function: TransformationFunction.LABEL_ENCODER }),
      create(TransformationSchema, { column: "distance_km", function: TransformationFunction.ROBUST_SCALER }),
    );
    const byName = new Map(resolveFeatureView(view, lookup).outputColumns.map((c) => [c.name, c]));
    expect(byName.get("category")).toMatchObject({ role: ColumnRole.LABEL, transformation: TransformationFunction.LABEL_ENCODER });
    expect(byName.get("distance_km")).toMatchObject({ role: ColumnRole.ON_DEMAND, transformation: TransformationFunction.ROBUST_SCALER });
  });

  it("gives on-demand expressions only FEATURE columns and the feature's own request parameters", () => {
    const view = fraudView();
    view.onDemandFeatures.push(
      create(OnDemandFeatureSchema, {
        name: "big_amount",
        type: t(BOOL),
        expression: "amount > threshold && lat > 0.0",
        requestParameters: [
          { name: "threshold", type: t(DOUBLE) },
          { name: "lat", type: t(DOUBLE) },
        ],
      }),
    );
    expect(
      resolveFeatureView(view, lookup)
        .outputColumns.slice(-2)
        .map((c) => c.name),
    ).toEqual(["distance_km", "big_amount"]);
  });
});

type Mutation = (view: FeatureView) => void;
const setFilter =
  (filter: FilterInit): Mutation =>
  (v) => {
    v.query!.filter = create(FilterSchema, filter);
  };
const patch =
  (init: MessageInitShape<typeof FeatureViewSchema>): Mutation =>
  (v) => {
    const extra = create(FeatureViewSchema, init);
    v.onDemandFeatures.push(...extra.onDemandFeatures);
    v.transformations.push(...extra.transformations);
    v.labels.push(...extra.labels);
    v.inferenceHelperColumns.push(...extra.inferenceHelperColumns);
    v.trainingHelperColumns.push(...extra.trainingHelperColumns);
  };
const join =
  (init: MessageInitShape<typeof JoinSchema>): Mutation =>
  (v) => {
    v.query!.joins.push(create(JoinSchema, init));
  };
const selection = (mode: SelectionMode, columns: string[] = []) => create(FeatureViewSchema, { query: { selection: { mode, columns } } }).query!.selection;

const Q = "feature_view.query";
const J1 = `${Q}.joins[1]`;
const ODF = "feature_view.on_demand_features";

// [what, mutation of the fraud view, message substring, field]
const REJECTIONS: [string, Mutation, string, string][] = [
  [
    "no query",
    (v) => {
      v.query = undefined;
    },
    "a feature view needs a query",
    Q,
  ],
  [
    "no root group",
    (v) => {
      v.query!.featureGroup = undefined;
    },
    "a query needs a feature group",
    `${Q}.feature_group`,
  ],
  [
    "group without name",
    (v) => {
      v.query!.featureGroup!.name = "";
    },
    "a feature group name is required",
    `${Q}.feature_group.name`,
  ],
  [
    "unpinned version",
    (v) => {
      v.query!.featureGroup!.version = 0;
    },
    'give feature group "transactions" a version of 1 or more',
    `${Q}.feature_group.version`,
  ],
  [
    "unknown group",
    (v) => {
      v.query!.joins[1]!.query!.featureGroup!.version = 2;
    },
    'query.joins[1].query.feature_group: feature group "merchants" version 2 does not exist',
    `${J1}.query.feature_group`,
  ],
  [
    "join without query",
    (v) => {
      v.query!.joins[0]!.query = undefined;
    },
    "a join needs a query",
    `${Q}.joins[0].query`,
  ],
  // selection
  [
    "INCLUDE nothing",
    (v) => {
      v.query!.selection = selection(SelectionMode.INCLUDE);
    },
    "mode INCLUDE needs at least one column",
    `${Q}.selection.columns`,
  ],
  [
    "INCLUDE unknown",
    (v) => {
      v.query!.selection = selection(SelectionMode.INCLUDE, ["tid", "nope"]);
    },
    '"nope" is not a column of feature group "transactions" version 1',
    `${Q}.selection.columns[1]`,
  ],
  [
    "INCLUDE twice",
    (v) => {
      v.query!.selection = selection(SelectionMode.INCLUDE, ["tid", "tid"]);
    },
    '"tid" is listed twice',
    `${Q}.selection.columns[1]`,
  ],
  [
    "EXCEPT unknown",
    (v) => {
      v.query!.joins[0]!.query!.selection = selection(SelectionMode.EXCEPT, ["evt"]);
    },
    '"evt" is not a column of feature group "card_aggs" version 1',
    `${Q}.joins[0].query.selection.columns[0]`,
  ],
  [
    "ALL with columns",
    (v) => {
      v.query!.selection!.mode = SelectionMode.ALL;
    },
    "columns are listed but mode is ALL",
    `${Q}.selection.columns`,
  ],
  // joins
  [
    "on and left_on",
    (v) => {
      v.query!.joins[1]!.leftOn = ["merchant_id"];
    },
    "give either on or left_on/right_on, not both",
    `${J1}.on`,
  ],
  [
    "left_on without right_on",
    (v) => {
      v.query!.joins[1]!.on = [];
      v.query!.joins[1]!.leftOn = ["merchant_id"];
    },
    "left_on has 1 columns and right_on 0",
    `${J1}.right_on`,
  ],
  [
    "unknown left key",
    (v) => {
      v.query!.joins[1]!.on = [];
      v.query!.joins[1]!.leftOn = ["merchant"];
      v.query!.joins[1]!.rightOn = ["merchant_id"];
    },
    '"merchant" is not a column of feature group "transactions" version 1',
    `${J1}.left_on[0]`,
  ],
  [
    "right keys not the primary key",
    (v) => {
      v.query!.joins[1]!.on = [];
      v.query!.joins[1]!.leftOn = ["merchant_id"];
      v.query!.joins[1]!.rightOn = ["bank_id"];
    },
    'join keys must be feature group "merchants" version 1\'s primary key (merchant_id)',
    `${J1}.right_on`,
  ],
  [
    "a key column twice",
    (v) => {
      v.query!.joins[1]!.on = ["merchant_id", "merchant_id"];
    },
    'join keys must be feature group "merchants" version 1\'s primary key',
    `${J1}.on`,
  ],
  [
    "key types differ",
    (v) => {
      v.query!.joins[1]!.on = [];
      v.query!.joins[1]!.leftOn = ["amount"];
      v.query!.joins[1]!.rightOn = ["merchant_id"];
    },
    'key "amount" of feature group "transactions" version 1 is double but "merchant_id" of feature group "merchants" version 1 is string',
    `${J1}.left_on[0]`,
  ],
  [
    "keys cannot be inferred",
    join({ query: { featureGroup: ref("banks") } }),
    'cannot infer join keys: feature group "transactions" version 1 has no column "bank_id" of feature group "banks" version 1\'s primary key; give on or left_on/right_on',
    `${Q}.joins[2]`,
  ],
  // prefixes and clashes
  [
    "prefix not lower-case",
    (v) => {
      v.query!.joins[0]!.prefix = "Card_";
    },
    'prefixed column name "Card_count_10m" must be an identifier',
    `${Q}.joins[0].prefix`,
  ],
  [
    "prefix too long",
    (v) => {
      v.query!.joins[0]!.prefix = "p".repeat(60);
    },
    "must be an identifier",
    `${Q}.joins[0].prefix`,
  ],
  [
    "nested prefix invalid",
    (v) => {
      v.query!.joins[1]!.prefix = "m_";
      v.query!.joins[1]!.query!.joins[0]!.prefix = "B";
    },
    '"m_Bcredit_rating" must be an identifier',
    `${J1}.query.joins[0].prefix`,
  ],
  [
    "name clash",
    join({ query: { featureGroup: ref("card_aggs") } }),
    'column "count_10m" of feature group "card_aggs" version 1 clashes with "count_10m" of feature group "card_aggs" version 1; give the join a prefix',
    `${Q}.joins[2].prefix`,
  ],
  [
    "clash of prefixed names",
    (v) => {
      v.query!.joins[1]!.prefix = "x_";
      join({ prefix: "x_", query: { featureGroup: ref("merchants") } })(v);
    },
    'column "x_bank_id" of feature group "merchants" version 1 clashes with "x_bank_id" of feature group "merchants" version 1',
    `${Q}.joins[2].prefix`,
  ],
  [
    "no columns",
    (v) => {
      v.query!.joins = [];
      v.query!.selection = selection(
        SelectionMode.EXCEPT,
        transactions.columns.map((c) => c.name),
      );
      v.labels = [];
      v.trainingHelperColumns = [];
      v.inferenceHelperColumns = [];
      v.transformations = [];
      v.onDemandFeatures = [];
    },
    "the view selects no columns",
    Q,
  ],
  // filters
  ["filter without kind", setFilter({}), "a filter needs one of condition, and, or", `${Q}.filter`],
  ["empty and", setFilter({ kind: { case: "and", value: {} } }), "and needs at least one filter", `${Q}.filter.and`],
  ["empty or", setFilter({ kind: { case: "or", value: {} } }), "or needs at least one filter", `${Q}.filter.or`],
  ["condition without column", setFilter(condition("", FilterOperator.IS_NULL)), "a condition needs a column", `${Q}.filter.condition.column`],
  [
    "filter on another group's column",
    setFilter(condition("country", FilterOperator.IS_NULL)),
    '"country" is not a column of feature group "transactions" version 1',
    `${Q}.filter.condition.column`,
  ],
  [
    "condition without operator",
    setFilter(condition("amount", FilterOperator.UNSPECIFIED, { value: dbl(1) })),
    "a condition needs an operator",
    `${Q}.filter.condition.operator`,
  ],
  ["EQ without value", setFilter(condition("amount", FilterOperator.EQ)), "EQ needs a value", `${Q}.filter.condition.value`],
  ["EQ with null", setFilter(condition("amount", FilterOperator.EQ, { value: {} })), "compare with null using IS_NULL", `${Q}.filter.condition.value`],
  ["EQ with values", setFilter(condition("amount", FilterOperator.EQ, { values: [dbl(1)] })), "EQ takes value, not values", `${Q}.filter.condition.values`],
  [
    "value of the wrong type",
    setFilter(condition("amount", FilterOperator.EQ, { value: str("1") })),
    'string_value does not fit "amount" of type double',
    `${Q}.filter.condition.value`,
  ],
  [
    "int64 value for a string",
    setFilter(condition("cc_num", FilterOperator.NE, { value: { kind: { case: "int64Value", value: 1n } } })),
    'int64_value does not fit "cc_num" of type string',
    `${Q}.filter.condition.value`,
  ],
  [
    "LT on bool",
    setFilter(condition("is_fraud", FilterOperator.LT, { value: { kind: { case: "boolValue", value: true } } })),
    'LT does not apply to "is_fraud" of type bool',
    `${Q}.filter.condition.operator`,
  ],
  [
    "GE on a list",
    setFilter(condition("tags", FilterOperator.GE, { value: str("a") })),
    'GE does not apply to "tags" of type list of string',
    `${Q}.filter.condition.operator`,
  ],
  ["IN without values", setFilter(condition("category", FilterOperator.IN)), "IN needs at least one value in values", `${Q}.filter.condition.values`],
  ["IN with value", setFilter(condition("category", FilterOperator.IN, { value: str("a") })), "IN takes values, not value", `${Q}.filter.condition.value`],
  [
    "IN value of the wrong type",
    setFilter(condition("category", FilterOperator.IN, { values: [str("a"), dbl(2)] })),
    'double_value does not fit "category" of type string',
    `${Q}.filter.condition.values[1]`,
  ],
  [
    "IS_NULL with a value",
    setFilter(condition("category", FilterOperator.IS_NULL, { value: str("a") })),
    "IS_NULL takes no value",
    `${Q}.filter.condition.value`,
  ],
  [
    "IS_NOT_NULL with values",
    setFilter(condition("category", FilterOperator.IS_NOT_NULL, { values: [str("a")] })),
    "IS_NOT_NULL takes no value",
    `${Q}.filter.condition.values`,
  ],
  [
    "nested condition",
    setFilter({
      kind: {
        case: "or",
        value: {
          filters: [condition("amount", FilterOperator.IS_NULL), { kind: { case: "and", value: { filters: [condition("zip", FilterOperator.IS_NULL)] } } }],
        },
      },
    }),
    '"zip" is not a column',
    `${Q}.filter.or.filters[1].and.filters[0].condition.column`,
  ],
  [
    "joined query's filter",
    (v) => {
      v.query!.joins[1]!.query!.joins[0]!.query!.filter = create(FilterSchema, condition("credit_rating", FilterOperator.GT, { value: str("A") }));
    },
    'does not fit "credit_rating" of type int32',
    `${J1}.query.joins[0].query.filter.condition.value`,
  ],
  // roles
  [
    "label not in the output",
    (v) => {
      v.query!.selection!.columns.push("is_fraud");
    },
    'labels[0]: "is_fraud" is not a column of the view',
    "feature_view.labels[0]",
  ],
  ["label twice", patch({ labels: ["is_fraud"] }), '"is_fraud" is listed twice', "feature_view.labels[1]"],
  ["on-demand label", patch({ labels: ["distance_km"] }), '"distance_km" is an on-demand feature and cannot be a label', "feature_view.labels[1]"],
  [
    "label and helper",
    patch({ inferenceHelperColumns: ["is_fraud"] }),
    '"is_fraud" is already a label; a column has one role',
    "feature_view.inference_helper_columns[1]",
  ],
  [
    "two helper roles",
    patch({ trainingHelperColumns: ["country"] }),
    '"country" is already an inference helper column',
    "feature_view.training_helper_columns[1]",
  ],
  ["unknown helper", patch({ inferenceHelperColumns: ["m_country"] }), '"m_country" is not a column of the view', "feature_view.inference_helper_columns[1]"],
  // on-demand features
  [
    "on-demand name not an identifier",
    (v) => {
      v.onDemandFeatures[0]!.name = "Distance";
    },
    'on-demand feature name "Distance" must be an identifier',
    `${ODF}[0].name`,
  ],
  [
    "on-demand name clashes with a column",
    (v) => {
      v.onDemandFeatures[0]!.name = "amount";
    },
    '"amount" clashes with an output column',
    `${ODF}[0].name`,
  ],
  [
    "on-demand name clashes with a parameter",
    patch({ onDemandFeatures: [{ name: "lat", type: t(DOUBLE), expression: "1.0" }] }),
    '"lat" clashes with a request parameter',
    `${ODF}[1].name`,
  ],
  [
    "on-demand feature twice",
    patch({ onDemandFeatures: [{ name: "distance_km", type: t(DOUBLE), expression: "1.0" }] }),
    '"distance_km" is defined twice',
    `${ODF}[1].name`,
  ],
  [
    "on-demand without type",
    (v) => {
      v.onDemandFeatures[0]!.type = undefined;
    },
    'on-demand feature "distance_km" needs a type',
    `${ODF}[0].type`,
  ],
  [
    "on-demand with unspecified type",
    (v) => {
      v.onDemandFeatures[0]!.type = t(ScalarType.UNSPECIFIED);
    },
    "needs a type",
    `${ODF}[0].type`,
  ],
  [
    "parameter name not an identifier",
    (v) => {
      v.onDemandFeatures[0]!.requestParameters[1]!.name = "2lon";
    },
    'request parameter name "2lon" must be an identifier',
    `${ODF}[0].request_parameters[1].name`,
  ],
  [
    "parameter twice",
    (v) => {
      v.onDemandFeatures[0]!.requestParameters[1]!.name = "lat";
    },
    '"lat" is declared twice',
    `${ODF}[0].request_parameters[1].name`,
  ],
  [
    "parameter without type",
    (v) => {
      v.onDemandFeatures[0]!.requestParameters[0]!.type = undefined;
    },
    'request parameter "lat" needs a type',
    `${ODF}[0].request_parameters[0].type`,
  ],
  [
    "parameter named like a column",
    (v) => {
      v.onDemandFeatures[0]!.requestParameters[0]!.name = "prev_lat";
    },
    '"prev_lat" clashes with an output column',
    `${ODF}[0].request_parameters[0].name`,
  ],
  [
    "parameter types differ",
    patch({ onDemandFeatures: [{ name: "lat_int", type: t(INT64), expression: "lat", requestParameters: [{ name: "lat", type: t(INT64) }] }] }),
    `request parameter "lat" is int64 here but double at ${ODF}[0].request_parameters[0]`,
    `${ODF}[1].request_parameters[0].type`,
  ],
  [
    "empty expression",
    (v) => {
      v.onDemandFeatures[0]!.expression = " ";
    },
    'on-demand feature "distance_km" needs an expression',
    `${ODF}[0].expression`,
  ],
  [
    "expression reads a label",
    (v) => {
      v.onDemandFeatures[0]!.expression = "is_fraud ? 1.0 : 0.0";
    },
    `on_demand_features[0].expression: expression uses unknown variable "is_fraud"`,
    `${ODF}[0].expression`,
  ],
  [
    "expression reads another feature's parameter",
    patch({ onDemandFeatures: [{ name: "lat2", type: t(DOUBLE), expression: "lat * 2.0" }] }),
    'unknown variable "lat"',
    `${ODF}[1].expression`,
  ],
  [
    "expression of the wrong type",
    (v) => {
      v.onDemandFeatures[0]!.type = t(STRING);
    },
    "expression yields double but the feature is declared string",
    `${ODF}[0].expression`,
  ],
  [
    "expression does not parse",
    (v) => {
      v.onDemandFeatures[0]!.expression = "lat +";
    },
    "expression does not parse",
    `${ODF}[0].expression`,
  ],
  // transformations
  [
    "transformation without column",
    patch({ transformations: [{ function: TransformationFunction.STANDARD_SCALER }] }),
    "a transformation needs a column",
    "feature_view.transformations[1].column",
  ],
  [
    "transformation of an unknown column",
    patch({ transformations: [{ column: "amt", function: TransformationFunction.STANDARD_SCALER }] }),
    '"amt" is not a column of the view',
    "feature_view.transformations[1].column",
  ],
  [
    "transformation of a helper",
    patch({ transformations: [{ column: "country", function: TransformationFunction.ONE_HOT_ENCODER }] }),
    '"country" is a helper column',
    "feature_view.transformations[1].column",
  ],
  [
    "two transformations",
    patch({ transformations: [{ column: "amount", function: TransformationFunction.STANDARD_SCALER }] }),
    '"amount" already has a transformation',
    "feature_view.transformations[1].column",
  ],
  [
    "transformation without function",
    patch({ transformations: [{ column: "sum_10m" }] }),
    'the transformation of "sum_10m" needs a function',
    "feature_view.transformations[1].function",
  ],
  [
    "scaler on a string",
    patch({ transformations: [{ column: "category", function: TransformationFunction.STANDARD_SCALER }] }),
    'standard_scaler takes int32, int64, float or double, but "category" is string',
    "feature_view.transformations[1].function",
  ],
  [
    "encoder on a double",
    patch({ transformations: [{ column: "sum_10m", function: TransformationFunction.LABEL_ENCODER }] }),
    'label_encoder takes string, bool, int32 or int64, but "sum_10m" is double',
    "feature_view.transformations[1].function",
  ],
  [
    "scaler on a timestamp",
    patch({ transformations: [{ column: "prev_ts", function: TransformationFunction.MIN_MAX_SCALER }] }),
    '"prev_ts" is timestamp',
    "feature_view.transformations[1].function",
  ],
];

describe("resolveFeatureView rejects", () => {
  it.each(REJECTIONS)("%s", (_what, mutate, message, field) => {
    const view = fraudView();
    mutate(view);
    const err = rejection(view);
    expect(err.message).toContain(message);
    expect(err.field).toBe(field);
    expect(err.message.startsWith(`${field}: `)).toBe(true);
  });

  it("an encoder on a list column", () => {
    const view = viewOf({ featureGroup: ref("transactions"), selection: { mode: SelectionMode.INCLUDE, columns: ["tid", "tags"] } }, [
      { column: "tags", function: TransformationFunction.ONE_HOT_ENCODER },
    ]);
    const err = rejection(view);
    expect(err.message).toContain('one_hot_encoder takes string, bool, int32 or int64, but "tags" is list of string');
    expect(err.field).toBe("feature_view.transformations[0].function");
  });

  it("one serving key name needed with two types", () => {
    // Offline root and offline right groups, each holding a column "code" of a different type,
    // both used as left keys without a prefix: the caller could not pass one value for both.
    const root = group(
      "events",
      [
        ["id", STRING],
        ["code", STRING],
      ],
      ["id"],
    );
    const mid = group(
      "devices",
      [
        ["id", STRING],
        ["code", INT64],
      ],
      ["id"],
    );
    const byString = group(
      "codes",
      [
        ["code", STRING],
        ["label", STRING],
      ],
      ["code"],
      { online: true },
    );
    const byInt = group(
      "int_codes",
      [
        ["code", INT64],
        ["weight", DOUBLE],
      ],
      ["code"],
      { online: true },
    );
    const view = viewOf({
      featureGroup: ref("events"),
      joins: [
        { query: { featureGroup: ref("codes") } },
        {
          on: ["id"],
          query: {
            featureGroup: ref("devices"),
            selection: { mode: SelectionMode.EXCEPT, columns: ["code"] },
            joins: [{ query: { featureGroup: ref("int_codes") } }],
          },
        },
      ],
    });
    const all = [root, mid, byString, byInt];
    let err: unknown;
    try {
      resolveFeatureView(view, (r) => all.find((g) => g.name === r.name));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).message).toContain('serving key "code" is needed as string and as int64; give the join a prefix');
    expect((err as InvalidArgumentError).field).toBe("feature_view.query.joins[1].query.joins[0]");
  });
});

describe("collectGroupRefs", () => {
  it("lists every group once, root first, then joins depth first", () => {
    const view = viewOf({
      featureGroup: ref("transactions"),
      joins: [
        { query: { featureGroup: ref("merchants"), joins: [{ query: { featureGroup: ref("banks") } }, { query: { featureGroup: ref("merchants", 2) } }] } },
        { query: { featureGroup: ref("card_aggs") } },
        { query: { featureGroup: ref("banks") } },
        { query: undefined },
        { query: { featureGroup: undefined } },
      ],
    });
    expect(collectGroupRefs(view.query!).map((r) => `${r.name}@${r.version}`)).toEqual([
      "transactions@1",
      "merchants@1",
      "banks@1",
      "merchants@2",
      "card_aggs@1",
    ]);
  });
});
