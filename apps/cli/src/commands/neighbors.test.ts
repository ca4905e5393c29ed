import { describe, expect, it } from "@jest/globals";
import { runCli } from "../program.js";
import { formatNeighbors, parseQueryVector } from "./neighbors.js";

async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["node", "granary", ...args], {
    output: () => ({ out: (t) => out.push(t), err: (t) => err.push(t), interactive: false }),
    env: {},
  });
  return { code, out, err };
}

describe("granary neighbors: arguments and output", () => {
  it("reads --vector as a JSON array of finite numbers", () => {
    expect(parseQueryVector("[0.5, -1, 2e-3]")).toEqual([0.5, -1, 0.002]);
    expect(() => parseQueryVector("0.5,1")).toThrow("is not a JSON array of numbers");
    expect(() => parseQueryVector("[]")).toThrow("non-empty JSON array");
    expect(() => parseQueryVector('[1, "x"]')).toThrow('--vector item 1 is not a finite number: "x"');
  });

  it("refuses a missing or double query and a bad -k in one line with exit 2, before calling anything", async () => {
    const nowhere = ["--metadata", "127.0.0.1:1", "--online", "127.0.0.1:2", "--offline", "127.0.0.1:3", "--registry", "127.0.0.1:4"];
    const none = await cli([...nowhere, "neighbors", "items", "--column", "emb"]);
    expect(none).toEqual({ code: 2, out: [], err: ["granary: give the query as --vector '[…]' or as --like key=value (one of them)"] });
    const both = await cli([...nowhere, "neighbors", "items", "--column", "emb", "--vector", "[1]", "--like", "id=1"]);
    expect(both.code).toBe(2);
    const bigK = await cli([...nowhere, "neighbors", "items", "--column", "emb", "--vector", "[1]", "-k", "5000"]);
    expect(bigK).toMatchObject({ code: 2, out: [] });
    expect(bigK.err.join("\n")).toContain("-k must be at most 1000");
  });

  it("prints neighbours as rank, keys, distance, and an embedding cell shortened", () => {
    const neighbors = [
      { key: { item_id: 7n, shop: "a" }, distance: 0, vector: { emb: [0.5, 0.25, 0.125, 1, 2] } },
      { key: { item_id: 3n, shop: null }, distance: 0.125, vector: { emb: [1, 2] } },
    ];
    expect(formatNeighbors(neighbors).split("\n")).toEqual([
      "#  item_id  shop  distance  emb",
      "1  7        a     0.000000  [0.5, 0.25, 0.125, … 5 items]",
      "2  3        null  0.125000  [1,2]",
    ]);
    expect(formatNeighbors([])).toBe("no neighbours (no row has an embedding in this column, or none matches --where)");
  });
});
