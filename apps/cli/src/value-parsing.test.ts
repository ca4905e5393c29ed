import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { DataTypeSchema, ScalarType } from "@granary/proto/types";
import { parseAssignments } from "./assignments.js";
import { UsageError } from "./cli-error.js";
import { parseRef } from "./refs.js";
import { parseTimestampMicros, parseValue } from "./value-parsing.js";

const T = (scalar: ScalarType, list = false) => create(DataTypeSchema, { scalar, list });
const us = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

describe("parseValue", () => {
  it("reads empty text as null whatever the type", () => {
    for (const s of [ScalarType.STRING, ScalarType.INT64, ScalarType.TIMESTAMP, ScalarType.BOOL]) expect(parseValue(T(s), "")).toBeNull();
  });

  it("reads integers exactly, int64 as bigint beyond 2^53", () => {
    expect(parseValue(T(ScalarType.INT32), " 42 ")).toBe(42);
    expect(parseValue(T(ScalarType.INT64), "9007199254740993")).toBe(9007199254740993n);
    expect(() => parseValue(T(ScalarType.INT32), "3000000000")).toThrow(/out of range for int32/);
    expect(() => parseValue(T(ScalarType.INT64), "1.5")).toThrow(/"1.5" is not an int64/);
  });

  it("reads floats, with nan and inf", () => {
    expect(parseValue(T(ScalarType.DOUBLE), "-1.5e3")).toBe(-1500);
    expect(parseValue(T(ScalarType.DOUBLE), ".5")).toBe(0.5);
    expect(parseValue(T(ScalarType.FLOAT), "inf")).toBe(Infinity);
    expect(Number.isNaN(parseValue(T(ScalarType.DOUBLE), "NaN"))).toBe(true);
    expect(() => parseValue(T(ScalarType.DOUBLE), "abc")).toThrow('"abc" is not a double');
  });

  it("reads booleans in the usual spellings", () => {
    expect(["true", "T", "1", "yes"].map((t) => parseValue(T(ScalarType.BOOL), t))).toEqual([true, true, true, true]);
    expect(["false", "F", "0", "no"].map((t) => parseValue(T(ScalarType.BOOL), t))).toEqual([false, false, false, false]);
    expect(() => parseValue(T(ScalarType.BOOL), "maybe")).toThrow(/not a bool/);
  });

  it("keeps strings as they are, spaces included", () => {
    expect(parseValue(T(ScalarType.STRING), " a b ")).toBe(" a b ");
  });

  it("reads timestamps as UTC microseconds, honouring zones and fractions", () => {
    expect(parseValue(T(ScalarType.TIMESTAMP), "2025-01-02T03:04:05Z")).toBe(us("2025-01-02T03:04:05Z"));
    expect(parseValue(T(ScalarType.TIMESTAMP), "2025-01-02 03:04:05")).toBe(us("2025-01-02T03:04:05Z"));
    expect(parseValue(T(ScalarType.TIMESTAMP), "2025-01-02T03:04:05.123456+02:00")).toBe(us("2025-01-02T01:04:05Z") + 123_456n);
    expect(parseValue(T(ScalarType.TIMESTAMP), "2025-01-02")).toBe(us("2025-01-02T00:00:00Z"));
    expect(parseValue(T(ScalarType.TIMESTAMP), "1700000000000")).toBe(1_700_000_000_000_000n);
    expect(() => parseValue(T(ScalarType.TIMESTAMP), "2025-02-30")).toThrow(/not a timestamp/);
    expect(parseTimestampMicros("yesterday")).toBeUndefined();
  });

  it("reads dates as days since the epoch, before 1970 too", () => {
    expect(parseValue(T(ScalarType.DATE), "1970-01-02")).toBe(1);
    expect(parseValue(T(ScalarType.DATE), "1969-12-31")).toBe(-1);
    expect(parseValue(T(ScalarType.DATE), "2025-01-01T23:00:00-02:00")).toBe(20090);
  });

  it("reads bytes from base64 and lists from JSON arrays", () => {
    expect(parseValue(T(ScalarType.BYTES), "aGk=")).toEqual(new Uint8Array([104, 105]));
    expect(() => parseValue(T(ScalarType.BYTES), "!!")).toThrow(/base64/);
    expect(parseValue(T(ScalarType.INT64, true), "[1, 2]")).toEqual([1n, 2n]);
    expect(parseValue(T(ScalarType.STRING, true), '["a","b"]')).toEqual(["a", "b"]);
    expect(() => parseValue(T(ScalarType.DOUBLE, true), "1,2")).toThrow(/JSON array/);
    expect(() => parseValue(T(ScalarType.DOUBLE, true), "[1, null]")).toThrow(/item 1 is null/);
  });
});

describe("parseRef", () => {
  it("reads name and name:version", () => {
    expect(parseRef("fraud", "feature view")).toEqual({ name: "fraud", version: 0 });
    expect(parseRef("fraud:3", "feature view")).toEqual({ name: "fraud", version: 3 });
  });
  it("refuses anything else as a usage error", () => {
    expect(() => parseRef("Fraud", "feature view")).toThrow(UsageError);
    expect(() => parseRef("fraud:0", "feature view")).toThrow(/versions start at 1/);
    expect(() => parseRef("fraud:x", "feature group")).toThrow(/not a feature group/);
  });
});

describe("parseAssignments", () => {
  const types = new Map([
    ["cc_num", T(ScalarType.INT64)],
    ["ts", T(ScalarType.TIMESTAMP)],
  ]);
  it("parses each value by the type of its name", () => {
    expect(parseAssignments(["cc_num=12", "ts=2025-01-01"], types, "serving key")).toEqual({ cc_num: 12n, ts: us("2025-01-01T00:00:00Z") });
  });
  it("names the mistake", () => {
    expect(() => parseAssignments(["cc_numb=1"], types, "serving key")).toThrow('"cc_numb" is not a serving key (did you mean "cc_num"?)');
    expect(() => parseAssignments(["cc_num"], types, "serving key")).toThrow(/not serving key=value/);
    expect(() => parseAssignments(["cc_num=x"], types, "serving key")).toThrow('serving key cc_num: "x" is not an int64');
    expect(() => parseAssignments(["cc_num=1", "cc_num=2"], types, "serving key")).toThrow(/given twice/);
  });
});
