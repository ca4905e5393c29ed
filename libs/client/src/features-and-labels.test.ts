import { describe, expect, it } from "@jest/globals";
import * as arrow from "apache-arrow";
import { featuresAndLabels } from "./features-and-labels.js";

describe("featuresAndLabels", () => {
  const table = new arrow.Table({
    amount: arrow.vectorFromArray([1.5, 2.5], new arrow.Float64()),
    is_fraud: arrow.vectorFromArray([true, false], new arrow.Bool()),
    card_spend: arrow.vectorFromArray([10, 20], new arrow.Float64()),
    chargeback: arrow.vectorFromArray([0, 1], new arrow.Int32()),
  });

  it("puts the labels in y, in the order given, and every other column in x, row for row", () => {
    const { x, y } = featuresAndLabels(table, ["chargeback", "is_fraud"]);
    expect(x.schema.fields.map((f) => f.name)).toEqual(["amount", "card_spend"]);
    expect(y.schema.fields.map((f) => f.name)).toEqual(["chargeback", "is_fraud"]);
    expect(x.toArray().map((r) => r.toJSON())).toEqual([
      { amount: 1.5, card_spend: 10 },
      { amount: 2.5, card_spend: 20 },
    ]);
    expect(y.toArray().map((r) => r.toJSON())).toEqual([
      { chargeback: 0, is_fraud: true },
      { chargeback: 1, is_fraud: false },
    ]);
  });

  it("with no labels, y has no columns but the same rows", () => {
    const { x, y } = featuresAndLabels(table, []);
    expect(x.numCols).toBe(4);
    expect([y.numCols, y.numRows]).toEqual([0, 2]);
  });

  it("refuses data that lacks a label, and splits an empty result into empty tables", () => {
    expect(() => featuresAndLabels(table, ["nope"])).toThrow('label "nope" is not a column of the data');
    const { x, y } = featuresAndLabels(new arrow.Table(), ["is_fraud"]);
    expect([x.numRows, y.numRows]).toEqual([0, 0]);
  });
});
