import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@granary/errors";
import { CreateApiKeyRequestSchema, ListCommitsRequestSchema } from "@granary/proto/metadata";
import { validateRequest } from "./request-validator.js";

// Found by test/fuzz: these reached Date.toISOString and timestamptz and came back INTERNAL.
const listCommits = (seconds: bigint, nanos = 0) =>
  create(ListCommitsRequestSchema, { project: "p", featureGroup: { name: "g", version: 1 }, ingestionTimeRange: { start: { seconds, nanos } } });

describe("timestamps and durations outside their defined range", () => {
  it.each([
    ["int64 max", 9223372036854775807n, 0],
    ["int64 min", -9223372036854775808n, 0],
    ["year 0", -62167219200n, 0],
    ["year 10000", 253402300800n, 0],
    ["negative nanos", 0n, -1],
    ["nanos of a whole second", 0n, 1_000_000_000],
  ])("are refused as INVALID_ARGUMENT naming the field (%s)", (_, seconds, nanos) => {
    const run = () => validateRequest(ListCommitsRequestSchema, listCommits(seconds, nanos));
    expect(run).toThrow(InvalidArgumentError);
    expect(run).toThrow(/ingestion_time_range\.start/);
  });

  it("accept the edges of the range", () => {
    expect(() => validateRequest(ListCommitsRequestSchema, listCommits(-62135596800n))).not.toThrow();
    expect(() => validateRequest(ListCommitsRequestSchema, listCommits(253402300799n, 999_999_999))).not.toThrow();
  });

  it("refuse an expiry past year 9999 on CreateApiKey", () => {
    const request = create(CreateApiKeyRequestSchema, { user: "u", expireTime: { seconds: 9223372036854775807n } });
    expect(() => validateRequest(CreateApiKeyRequestSchema, request)).toThrow(/expire_time/);
  });
});
