import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { resolveFeatureView } from "@granary/catalogue-rules";
import { FeatureViewSchema, SelectionMode, type FeatureGroup, type FeatureView } from "@granary/proto/metadata";
import { DataTypeSchema, ScalarType, ValueStatus } from "@granary/proto/types";
import { KeyEncoder, type KeyValue } from "../store/key-codec.js";
import { RowEncoder, type CellValue } from "../store/row-codec.js";
import type { ColumnReader } from "./column-reader.js";
import type { LookupInput } from "./lookup.js";
import { lookupVectors } from "./lookup.js";
import { compileViewPlan } from "./view-plan.js";
import { cardGroups } from "../testing/card-groups.js";

// The core of online serving against an in-memory store: keys of nested joins read from the
// parent's row, TTL, key columns filled from the request, passed features, on-demand features.
const T = (scalar: ScalarType) => create(DataTypeSchema, { scalar });
const NOW = 1_700_000_000_000_000n;
const HOUR = 3_600_000_000n;

const { cards, accounts } = cardGroups("p", { accountsTtlMs: 60 * 60 * 1000 });
const GROUPS = [cards, accounts];

function view(): FeatureView {
  const v = create(FeatureViewSchema, {
    project: "p",
    name: "v",
    version: 1,
    query: {
      featureGroup: { name: "cards", version: 1 },
      selection: { mode: SelectionMode.INCLUDE, columns: ["cc_num", "avg_amount", "account_id"] },
      joins: [
        { on: ["account_id"], query: { featureGroup: { name: "accounts", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["balance"] } } },
      ],
    },
    onDemandFeatures: [
      {
        name: "share",
        type: T(ScalarType.DOUBLE),
        expression: "amount / balance",
        requestParameters: [{ name: "amount", type: T(ScalarType.DOUBLE) }],
      },
    ],
  });
  const resolved = resolveFeatureView(v, (ref) => GROUPS.find((g) => g.name === ref.name && g.version === ref.version));
  v.outputColumns = resolved.outputColumns;
  v.servingKeys = resolved.servingKeys;
  v.resolved = resolved.resolved;
  return v;
}

/** An OnlineStore's get over a Map, rows encoded as the LMDB store holds them. */
class MemoryStore {
  readonly #rows = new Map<string, Buffer>();
  put(g: FeatureGroup, key: KeyValue[], eventMicros: bigint, values: CellValue[]): void {
    const encoder = new KeyEncoder().begin(g.id);
    key.forEach((k, i) => encoder.add(g.columns.find((c) => c.name === g.primaryKey[i])!.type!, k));
    this.#rows.set(Buffer.from(encoder.view()).toString("hex"), new RowEncoder(g.columns.map((c) => c.type!)).encode(eventMicros, values));
  }
  get(key: Buffer): Buffer | undefined {
    return this.#rows.get(Buffer.from(key).toString("hex"));
  }
}

const reader =
  (values: CellValue[]): ColumnReader =>
  (row) =>
    values[row] ?? null;

function input(over: Partial<LookupInput> & { cc: CellValue[] }): LookupInput {
  return {
    rowCount: over.cc.length,
    servingKeys: new Map([["cc_num", reader(over.cc)], ...(over.servingKeys ?? new Map<string, ColumnReader>())]),
    passedFeatures: over.passedFeatures ?? new Map(),
    requestParameters: over.requestParameters ?? new Map(),
    includeEventTimes: over.includeEventTimes ?? false,
    includeInferenceHelpers: false,
    transformations: undefined,
    nowMicros: NOW,
  };
}

function table(result: ReturnType<typeof lookupVectors>) {
  return Array.from({ length: result.rowCount }, (_, r) =>
    Object.fromEntries(result.columns.map((c) => [c.name, [ValueStatus[c.builder.statuses[r]!], c.builder.get(r)]])),
  );
}

const store = new MemoryStore();
// Card 1 → account 10 (fresh); card 2 → account 20 (its row is older than the 1 h TTL); card 4 has
// a null account; account 30 is fresh but no card points at it.
store.put(cards, [1n], NOW - HOUR, [1n, 10n, 12.5, NOW - HOUR]);
store.put(cards, [2n], NOW - HOUR, [2n, 20n, 7.0, NOW - HOUR]);
store.put(cards, [4n], NOW - HOUR, [4n, null, 3.0, NOW - HOUR]);
store.put(accounts, [10n], NOW - 10n, [10n, 100.0, NOW - 10n]);
store.put(accounts, [20n], NOW - 2n * HOUR, [20n, 200.0, NOW - 2n * HOUR]);
store.put(accounts, [30n], NOW - 10n, [30n, 300.0, NOW - 10n]);

describe("lookupVectors", () => {
  const plan = compileViewPlan(view(), (name) => GROUPS.find((g) => g.name === name));

  it("reads a nested join's key from the parent's row, masks expired rows and fills key columns from the request", () => {
    const rows = table(lookupVectors(plan, store, input({ cc: [1n, 2n, 3n, 4n] })));
    expect(rows.map((r) => [r.cc_num, r.avg_amount, r.account_id, r.balance])).toEqual([
      [
        ["PRESENT", 1n],
        ["PRESENT", 12.5],
        ["PRESENT", 10n],
        ["PRESENT", 100],
      ],
      [
        ["PRESENT", 2n],
        ["PRESENT", 7],
        ["PRESENT", 20n],
        ["EXPIRED", null],
      ],
      // No card 3: its key is still the entity's, the rest is NOT_FOUND, and the join has no key.
      [
        ["PRESENT", 3n],
        ["NOT_FOUND", null],
        ["NOT_FOUND", null],
        ["NOT_FOUND", null],
      ],
      // A null foreign key: nothing to join.
      [
        ["PRESENT", 4n],
        ["PRESENT", 3],
        ["NULL", null],
        ["NOT_FOUND", null],
      ],
    ]);
  });

  it("lets a caller's serving key override the key read from the parent's row", () => {
    const rows = table(lookupVectors(plan, store, input({ cc: [1n, 3n], servingKeys: new Map([["account_id", reader([30n, 30n])]]) })));
    expect(rows.map((r) => r.balance)).toEqual([
      ["PRESENT", 300],
      ["PRESENT", 300],
    ]);
  });

  it("fills a join column of a group that is not online (a label group) with the serving key the caller gave", () => {
    const labels = { ...cards, onlineEnabled: false };
    const groups = [labels, accounts];
    const labelPlan = compileViewPlan(view(), (name) => groups.find((g) => g.name === name));
    const rows = table(lookupVectors(labelPlan, store, input({ cc: [1n, 3n], servingKeys: new Map([["account_id", reader([10n, null])]]) })));
    expect(rows.map((r) => [r.cc_num, r.avg_amount, r.account_id, r.balance])).toEqual([
      [
        ["PRESENT", 1n],
        ["NOT_FOUND", null],
        ["PRESENT", 10n],
        ["PRESENT", 100],
      ],
      // No key given: nothing to fill, nothing to join.
      [
        ["PRESENT", 3n],
        ["NOT_FOUND", null],
        ["NOT_FOUND", null],
        ["NOT_FOUND", null],
      ],
    ]);
    // An online group's join column stays what its row says (the row is the truth, not the request).
    const online = table(lookupVectors(plan, store, input({ cc: [3n], servingKeys: new Map([["account_id", reader([30n])]]) })));
    expect(online.map((r) => r.account_id)).toEqual([["NOT_FOUND", null]]);
  });

  it("replaces looked-up values with passed features and computes on-demand features from the result", () => {
    const rows = table(
      lookupVectors(
        plan,
        store,
        input({
          cc: [1n, 1n, 3n],
          passedFeatures: new Map([["avg_amount", reader([99, null, 5])]]),
          requestParameters: new Map([["amount", reader([50, null, 10])]]),
        }),
      ),
    );
    expect(rows.map((r) => [r.avg_amount, r.share])).toEqual([
      [
        ["PRESENT", 99],
        ["PRESENT", 0.5],
      ],
      // A passed null is a null; a missing request parameter makes the on-demand feature null.
      [
        ["NULL", null],
        ["NULL", null],
      ],
      // A passed value fills an entity the store does not know; share reads balance, which is missing.
      [
        ["PRESENT", 5],
        ["NULL", null],
      ],
    ]);
  });

  it("returns each group's event time when asked", () => {
    const result = lookupVectors(plan, store, input({ cc: [1n, 3n], includeEventTimes: true }));
    expect(result.eventTimes.map((e) => [e.name, Array.from(e.micros)])).toEqual([
      ["cards", [NOW - HOUR, 0n]],
      ["accounts", [NOW - 10n, 0n]],
    ]);
  });
});
