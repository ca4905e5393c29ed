import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { CommitKind, FeatureGroupSchema, FilterOperator, FilterSchema, OnlineSyncState, type FeatureGroup, type Filter } from "@granary/proto/metadata";
import { ScalarType, type Value } from "@granary/proto/types";
import type { CommitEntry } from "./commit-log.js";
import { commitDirOfFile, sequenceOfFile } from "./commit-paths.js";
import { recordedDirs } from "./commit-layout.js";
import { decodePartitionValue, encodePartitionValue, partitionSegment, partitionTextsOfFile } from "./partition-paths.js";
import { filterPredicate, partitionValuesOf, pruneEventTimeRange, prunedFilesOf, pruneRead, pruneSpineRange } from "./partitions.js";

const SEQ = "00000000000000000042";
const DAY = 86_400_000_000n;

const group: FeatureGroup = create(FeatureGroupSchema, {
  project: "p",
  name: "g",
  version: 1,
  primaryKey: ["id"],
  eventTime: "day",
  partitionKey: ["day", "region"],
  columns: [
    { name: "id", type: { scalar: ScalarType.INT64 } },
    { name: "day", type: { scalar: ScalarType.DATE } },
    { name: "region", type: { scalar: ScalarType.STRING } },
    { name: "amount", type: { scalar: ScalarType.DOUBLE } },
  ],
});

const file = (day: string, region: string | null, seq = SEQ) =>
  `p/g/v1/${seq}/day=${encodePartitionValue(day)}/${partitionSegment("region", region)}/part-00000.parquet`;
const days = (iso: string) => BigInt(Date.parse(`${iso}T00:00:00Z`) / 86_400_000);

let nextId = 1n;
function commit(files: string[], over: Partial<CommitEntry> = {}): CommitEntry {
  const id = nextId++;
  return {
    id,
    kind: CommitKind.INSERT,
    sequence: id,
    files,
    ingestionMicros: id,
    rowsUpdated: 0n,
    minEventMicros: undefined,
    maxEventMicros: undefined,
    onlineSyncState: OnlineSyncState.NOT_APPLICABLE,
    erase: false,
    ...over,
  } as CommitEntry;
}

const str = (value: string): Value => ({ $typeName: "granary.types.v1.Value", kind: { case: "stringValue", value } });
const date = (iso: string): Value => ({ $typeName: "granary.types.v1.Value", kind: { case: "dateValue", value: Number(days(iso)) } });
const cond = (column: string, operator: FilterOperator, value?: Value, values: Value[] = []): Filter =>
  create(FilterSchema, { kind: { case: "condition", value: { column, operator, value, values } } });
const and = (...filters: Filter[]): Filter => create(FilterSchema, { kind: { case: "and", value: { filters } } });
const or = (...filters: Filter[]): Filter => create(FilterSchema, { kind: { case: "or", value: { filters } } });

describe("partition directory names", () => {
  it.each([
    ["plain", "plain"],
    ["2025-01-31", "2025-01-31"],
    ["-12", "-12"],
    ["a/b", "a%2Fb"],
    ["..", "%2E%2E"],
    ["x=y", "x%3Dy"],
    ["50%", "50%25"],
    ["\u0000", "%00"],
    ["a*b?[c]{d}\\", "a%2Ab%3F%5Bc%5D%7Bd%7D%5C"],
    ["é", "%C3%A9"],
    ["", ""],
    ["NULL", "%4E%55%4C%4C"],
    ["nuLL", "%6E%75%4C%4C"],
  ])("encodes %j as %j and decodes it back", (text, encoded) => {
    expect(encodePartitionValue(text)).toBe(encoded);
    expect(decodePartitionValue(encoded)).toBe(text);
  });

  it("writes a null as NULL and reads NULL in any case as a null", () => {
    expect(encodePartitionValue(null)).toBe("NULL");
    expect(decodePartitionValue("NULL")).toBeNull();
    expect(decodePartitionValue("null")).toBeNull();
  });

  it("never makes a separator, a dot segment or a second '=' whatever the value", () => {
    for (let code = 0; code < 0x250; code++) {
      const text = `${String.fromCharCode(code)}..${String.fromCharCode(code)}/=`;
      const segment = partitionSegment("c", text);
      expect(segment).toMatch(/^c=[A-Za-z0-9_%-]*$/);
      expect(decodePartitionValue(segment.slice(2))).toBe(text);
    }
  });

  it("names a value too long for a directory (255 bytes) by its SHA-256, which reads as unknown", () => {
    const fits = "a".repeat(253);
    expect(partitionSegment("c", fits)).toBe(`c=${fits}`);
    const long = "é".repeat(43);
    const segment = partitionSegment("c", long);
    expect(segment).toMatch(/^c=~[0-9a-f]{64}$/);
    expect(partitionSegment("c", `${long}x`)).not.toBe(segment);
    expect(partitionTextsOfFile(["c"], `p/g/v1/${SEQ}/${segment}/part-00000.parquet`)).toBeUndefined();
  });

  it("leaves names it did not write unread", () => {
    for (const raw of ["a b", "a%2", "%zz", "a.b", "%FF", "__HIVE_DEFAULT_PARTITION__"]) expect(decodePartitionValue(raw)).toBeUndefined();
  });

  it("reads the values of a file path in partition-key order, absolute or relative", () => {
    expect(partitionTextsOfFile(["day", "region"], file("2025-01-02", "eu/west"))).toEqual(["2025-01-02", "eu/west"]);
    expect(partitionTextsOfFile(["day", "region"], `/data/root/${file("2025-01-02", null)}`)).toEqual(["2025-01-02", null]);
    // Not this layout: another key order, an unpartitioned file, the schema file, a missing level.
    expect(partitionTextsOfFile(["region", "day"], file("2025-01-02", "eu"))).toBeUndefined();
    expect(partitionTextsOfFile(["day", "region"], `p/g/v1/${SEQ}/part-00000.parquet`)).toBeUndefined();
    expect(partitionTextsOfFile(["day", "region"], `p/g/v1/${SEQ}/schema.parquet`)).toBeUndefined();
    expect(partitionTextsOfFile(["day", "region"], `p/g/v1/${SEQ}/day=2025-01-02/part-00000.parquet`)).toBeUndefined();
  });

  it("types the values by their columns", () => {
    const values = partitionValuesOf(group, file("2024-02-29", "eu"))!;
    expect(values.get("day")).toBe(days("2024-02-29"));
    expect(values.get("region")).toBe("eu");
    expect(partitionValuesOf(group, file("2023-02-29", "eu"))).toBeUndefined();
    expect(partitionValuesOf(group, `p/g/v1/${SEQ}/day=0044-03-15%20%28BC%29/region=eu/part-00000.parquet`)).toBeUndefined();
  });

  it("finds the commit directory and sequence of nested files", () => {
    const nested = file("2025-01-02", "eu");
    expect(sequenceOfFile(nested)).toBe(42n);
    expect(commitDirOfFile(nested)).toBe(`p/g/v1/${SEQ}`);
    expect(sequenceOfFile(`p/g/v1/${SEQ}/part-00000.parquet`)).toBe(42n);
    expect([...recordedDirs([nested, `p/g/v1/${SEQ}/schema.parquet`, `p/g/v1/00000000000000000043/part-00000.parquet`])]).toEqual([
      `p/g/v1/${SEQ}`,
      "p/g/v1/00000000000000000043",
    ]);
  });
});

describe("filterPredicate", () => {
  const may = (filter: Filter, day: string, region: string | null) => filterPredicate(group, filter)!(partitionValuesOf(group, file(day, region))!);

  it("judges equality, IN, ranges and null tests on partition values", () => {
    expect(may(cond("region", FilterOperator.EQ, str("eu")), "2025-01-01", "eu")).toBe(true);
    expect(may(cond("region", FilterOperator.EQ, str("eu")), "2025-01-01", "us")).toBe(false);
    expect(may(cond("region", FilterOperator.EQ, str("eu")), "2025-01-01", null)).toBe(false);
    expect(may(cond("region", FilterOperator.NE, str("eu")), "2025-01-01", null)).toBe(false);
    expect(may(cond("region", FilterOperator.IN, undefined, [str("us"), str("eu")]), "2025-01-01", "eu")).toBe(true);
    expect(may(cond("region", FilterOperator.IN, undefined, [str("us"), str("ap")]), "2025-01-01", "eu")).toBe(false);
    expect(may(cond("region", FilterOperator.IS_NULL), "2025-01-01", null)).toBe(true);
    expect(may(cond("region", FilterOperator.IS_NULL), "2025-01-01", "eu")).toBe(false);
    expect(may(cond("region", FilterOperator.IS_NOT_NULL), "2025-01-01", null)).toBe(false);
    expect(may(cond("day", FilterOperator.GE, date("2025-01-02")), "2025-01-01", "eu")).toBe(false);
    expect(may(cond("day", FilterOperator.GE, date("2025-01-02")), "2025-01-02", "eu")).toBe(true);
    expect(may(cond("day", FilterOperator.LT, date("2025-01-02")), "2025-01-02", "eu")).toBe(false);
    expect(may(cond("day", FilterOperator.LE, date("2025-01-02")), "2025-01-02", "eu")).toBe(true);
    expect(may(cond("day", FilterOperator.GT, date("2025-01-02")), "2025-01-03", "eu")).toBe(true);
  });

  it("compares strings by their UTF-8 bytes, as DuckDB does", () => {
    // JavaScript's < compares UTF-16 code units: U+1F600 (0xD83D…) sorts before U+FF61 there, after it in UTF-8.
    const a = "\uFF61";
    const b = "\u{1F600}";
    expect(a > b).toBe(true);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(-1);
    expect(may(cond("region", FilterOperator.LT, str(b)), "2025-01-01", a)).toBe(true);
    expect(may(cond("region", FilterOperator.GT, str(b)), "2025-01-01", a)).toBe(false);
  });

  it("combines through AND and OR; other columns and uncomparable values may always match", () => {
    const eu = cond("region", FilterOperator.EQ, str("eu"));
    const big = cond("amount", FilterOperator.GT, { $typeName: "granary.types.v1.Value", kind: { case: "doubleValue", value: 5 } });
    expect(may(and(eu, big), "2025-01-01", "us")).toBe(false);
    expect(may(and(eu, big), "2025-01-01", "eu")).toBe(true);
    expect(may(or(eu, big), "2025-01-01", "us")).toBe(true);
    expect(may(or(eu, cond("region", FilterOperator.EQ, str("ap"))), "2025-01-01", "us")).toBe(false);
    expect(may(cond("region", FilterOperator.EQ, date("2025-01-01")), "2025-01-01", "us")).toBe(true);
    expect(filterPredicate(group, big)).toBeUndefined();
    expect(filterPredicate(group, undefined)).toBeUndefined();
  });
});

describe("prunedFilesOf and pruneRead", () => {
  const eu = filterPredicate(group, cond("region", FilterOperator.EQ, str("eu")))!;
  const schema = `p/g/v1/${SEQ}/schema.parquet`;

  it("drops only files of inserts that replaced nothing; tombstones, replacing commits and compaction parts holding replaced rows stay whole", () => {
    const plain = commit([schema, file("2025-01-01", "eu"), file("2025-01-01", "us")]);
    const replacing = commit([file("2025-01-01", "us")], { rowsUpdated: 3n });
    const tombstones = commit([`p/g/v1/${SEQ}/part-00000.parquet`], { kind: CommitKind.DELETE });
    // A compaction's rows part prunes like an insert when none of its rows is replaced by another of them.
    const part = commit([file("2025-01-01", "us")], { part: { compaction: plain, covered: [] } });
    const partWithReplaced = commit([file("2025-01-01", "us")], { rowsUpdated: 2n, part: { compaction: plain, covered: [] } });
    const legacy = commit([`p/g/v1/${SEQ}/part-00000.parquet`]);
    const filesOf = prunedFilesOf((c) => c.files, group, eu);
    expect(filesOf(plain)).toEqual([schema, file("2025-01-01", "eu")]);
    expect(filesOf(replacing)).toEqual(replacing.files);
    expect(filesOf(tombstones)).toEqual(tombstones.files);
    expect(filesOf(part)).toEqual([]);
    expect(filesOf(partWithReplaced)).toEqual(partWithReplaced.files);
    expect(filesOf(legacy)).toEqual(legacy.files);
  });

  it("drops a plain insert left with only its schema file, and counts data files", () => {
    const us = commit([schema, file("2025-01-01", "us"), file("2025-01-02", "us")]);
    const mixed = commit([schema, file("2025-01-01", "eu"), file("2025-01-01", "us")]);
    const replacing = commit([schema, file("2025-01-01", "us")], { rowsUpdated: 1n });
    const read = pruneRead([us, mixed, replacing], (c) => c.files, group, eu);
    expect(read.commits).toEqual([mixed, replacing]);
    expect([read.insertFiles, read.scannedFiles]).toEqual([5, 2]);
    const none = pruneRead([us, mixed], (c) => c.files, group, undefined);
    expect([none.commits.length, none.insertFiles, none.scannedFiles]).toEqual([2, 4, 4]);
  });
});

describe("pruneEventTimeRange", () => {
  it("drops plain inserts whose recorded event times lie outside [start, end), and other days' files", () => {
    const at = (iso: string) => days(iso) * DAY;
    const before = commit([file("2025-01-01", "eu")], { minEventMicros: at("2025-01-01"), maxEventMicros: at("2025-01-01") });
    const spanning = commit([file("2025-01-01", "eu"), file("2025-01-05", "eu")], { minEventMicros: at("2025-01-01"), maxEventMicros: at("2025-01-05") });
    const replacing = commit([file("2025-01-01", "eu")], { rowsUpdated: 1n, minEventMicros: at("2025-01-01"), maxEventMicros: at("2025-01-01") });
    const after = commit([file("2025-01-10", "eu")], { minEventMicros: at("2025-01-10"), maxEventMicros: at("2025-01-10") });
    const unknown = commit([file("2025-01-10", "eu")]);
    const out = pruneEventTimeRange(group, [before, spanning, replacing, after, unknown], (c) => c.files, at("2025-01-03"), at("2025-01-10"));
    expect(out.commits).toEqual([spanning, replacing]);
    expect(out.filesOf(spanning)).toEqual([file("2025-01-05", "eu")]);
    expect(out.filesOf(replacing)).toEqual(replacing.files);
  });

  it("prunes the root group of a range spine only, and only when the view reads it once", () => {
    const other = create(FeatureGroupSchema, { ...group, name: "other" });
    const old = commit([file("2024-01-01", "eu")], { minEventMicros: 0n, maxEventMicros: 1n });
    const theirs = commit([file("2024-01-01", "eu")], { minEventMicros: 0n, maxEventMicros: 1n });
    const commitsOf = (g: FeatureGroup) => (g.name === "g" ? [old] : [theirs]);
    const spine = { kind: "range", startMicros: 10n, endMicros: undefined };
    const pruned = pruneSpineRange([group, other], commitsOf, (c) => c.files, spine);
    expect(pruned.commitsOf(group)).toEqual([]);
    expect(pruned.commitsOf(other)).toEqual([theirs]);
    expect(pruneSpineRange([group, other, group], commitsOf, (c) => c.files, spine).commitsOf(group)).toEqual([old]);
    expect(pruneSpineRange([group], commitsOf, (c) => c.files, { kind: "latest" }).commitsOf(group)).toEqual([old]);
  });
});
