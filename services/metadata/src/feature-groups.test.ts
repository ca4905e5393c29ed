import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ColumnSchema, ScalarType } from "@granary/proto/types";
import { ValidationPolicy, ValidationRuleSchema } from "@granary/proto/metadata";
import { createTestDatabase, type TestDatabase } from "@granary/testing";
import { transactionsGroup, type GroupInit } from "./testing/fixtures.js";
import { startTestMetadata, type TestMetadata } from "./testing/start-test-metadata.js";

let db: TestDatabase;
let md: TestMetadata;
const P = "fraud";

beforeAll(async () => {
  db = await createTestDatabase("md_groups");
  md = await startTestMetadata(db.url);
  await md.client.createProject({ name: P, description: "card fraud" });
});
afterAll(async () => {
  await md.stop();
  await db.drop();
});

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConnectError)) throw new Error(`expected the call to fail, got ${String(err)}`);
  return err;
}

const rule = (init: MessageInitShape<typeof ValidationRuleSchema>) => create(ValidationRuleSchema, init);
const base = transactionsGroup(P);
const cols = base.columns;
const badDefinitions: { what: string; change: GroupInit; code: Code; field: RegExp }[] = [
  { what: "name not an identifier", change: { name: "Transactions" }, code: Code.InvalidArgument, field: /name.*identifier/ },
  { what: "version 0", change: { version: 0 }, code: Code.InvalidArgument, field: /version must be 1 or more/ },
  { what: "no columns", change: { columns: [], primaryKey: [], eventTime: "" }, code: Code.InvalidArgument, field: /columns/ },
  {
    what: "duplicate column",
    change: { columns: [...cols, create(ColumnSchema, { name: "amount", type: { scalar: ScalarType.FLOAT } })] },
    code: Code.InvalidArgument,
    field: /columns\[7\]\.name.*twice/,
  },
  { what: "column without type", change: { columns: [...cols, create(ColumnSchema, { name: "x" })] }, code: Code.InvalidArgument, field: /columns\[7\]\.type/ },
  {
    what: "column name with a quote",
    change: { columns: [...cols, create(ColumnSchema, { name: "a'b", type: { scalar: ScalarType.INT32 } })] },
    code: Code.InvalidArgument,
    field: /columns\[7\]\.name/,
  },
  { what: "no primary key", change: { primaryKey: [] }, code: Code.InvalidArgument, field: /primary_key/ },
  { what: "unknown key column", change: { primaryKey: ["nope"] }, code: Code.InvalidArgument, field: /primary_key\[0\].*"nope"/ },
  { what: "float key", change: { primaryKey: ["amount"] }, code: Code.InvalidArgument, field: /primary_key\[0\].*cannot be a key/ },
  { what: "unknown event time", change: { eventTime: "when" }, code: Code.InvalidArgument, field: /event_time.*"when"/ },
  { what: "string event time", change: { eventTime: "category" }, code: Code.InvalidArgument, field: /event_time.*timestamp or date/ },
  { what: "partition column in key", change: { partitionKey: ["tid"] }, code: Code.InvalidArgument, field: /partition_key\[0\].*primary key/ },
  { what: "unknown partition column", change: { partitionKey: ["day"] }, code: Code.InvalidArgument, field: /partition_key\[0\]/ },
  {
    what: "float partition column",
    change: { partitionKey: ["amount"] },
    code: Code.InvalidArgument,
    field: /partition_key\[0\]: column "amount" of type double cannot be a partition column/,
  },
  {
    what: "timestamp partition column",
    change: { partitionKey: ["category", "datetime"] },
    code: Code.InvalidArgument,
    field: /partition_key\[1\]: column "datetime" is a timestamp.*one partition per instant.*date column/,
  },
  {
    what: "list partition column",
    change: { columns: [...cols, create(ColumnSchema, { name: "tags", type: { scalar: ScalarType.STRING, list: true } })], partitionKey: ["tags"] },
    code: Code.InvalidArgument,
    field: /partition_key\[0\]: column "tags" of type .* cannot be a partition column/,
  },
  {
    what: "bytes partition column",
    change: { columns: [...cols, create(ColumnSchema, { name: "blob", type: { scalar: ScalarType.BYTES } })], partitionKey: ["blob"] },
    code: Code.InvalidArgument,
    field: /partition_key\[0\]: column "blob" .* cannot be a partition column/,
  },
  {
    what: "five partition columns",
    change: {
      columns: [...cols, ...["p1", "p2", "p3"].map((name) => create(ColumnSchema, { name, type: { scalar: ScalarType.INT32 } }))],
      partitionKey: ["category", "is_fraud", "p1", "p2", "p3"],
    },
    code: Code.InvalidArgument,
    field: /partition_key: at most 4 partition columns, got 5/,
  },
  { what: "repeated partition column", change: { partitionKey: ["category", "category"] }, code: Code.InvalidArgument, field: /partition_key\[1\].*twice/ },
  {
    what: "default of the wrong type",
    change: {
      columns: [
        ...cols,
        create(ColumnSchema, { name: "flag", type: { scalar: ScalarType.BOOL }, defaultValue: { kind: { case: "stringValue", value: "yes" } } }),
      ],
    },
    code: Code.InvalidArgument,
    field: /columns\[7\]\.default_value/,
  },
  {
    what: "rule on unknown column",
    change: { validationRules: [rule({ name: "r", column: "zzz", policy: ValidationPolicy.FAIL, rule: { case: "notNull", value: {} } })] },
    code: Code.InvalidArgument,
    field: /validation_rules\[0\]\.column/,
  },
  {
    what: "between on a string",
    change: { validationRules: [rule({ name: "r", column: "category", policy: ValidationPolicy.WARN, rule: { case: "between", value: { min: 0 } } })] },
    code: Code.InvalidArgument,
    field: /validation_rules\[0\]\.between/,
  },
  {
    what: "between min > max",
    change: { validationRules: [rule({ name: "r", column: "amount", policy: ValidationPolicy.WARN, rule: { case: "between", value: { min: 5, max: 1 } } })] },
    code: Code.InvalidArgument,
    field: /min 5 is greater than max 1/,
  },
  {
    what: "rule without policy",
    change: { validationRules: [rule({ name: "r", column: "amount", rule: { case: "notNull", value: {} } })] },
    code: Code.InvalidArgument,
    field: /policy/,
  },
  {
    what: "bad regex",
    change: {
      validationRules: [rule({ name: "r", column: "category", policy: ValidationPolicy.FAIL, rule: { case: "regexMatch", value: { pattern: "([a-" } } })],
    },
    code: Code.InvalidArgument,
    field: /regex_match\.pattern/,
  },
  { what: "unknown project", change: { project: "nowhere" }, code: Code.NotFound, field: /project "nowhere" does not exist/ },
];

describe("feature group definitions", () => {
  it.each(badDefinitions)("rejects $what", async ({ change, code, field }) => {
    const err = await failure(md.client.createFeatureGroup({ featureGroup: transactionsGroup(P, { name: "bad_group", ...change }) }));
    expect(Code[err.code]).toBe(Code[code]);
    expect(err.rawMessage).toMatch(field);
  });

  it("rejects hostile names without storing anything", async () => {
    const names = ["tx'; DROP TABLE feature_groups; --", 'tx"quoted"', "tränsactions", "t".repeat(200), "with space", ""];
    for (const name of names) {
      const err = await failure(md.client.createFeatureGroup({ featureGroup: transactionsGroup(P, { name }) }));
      expect(Code[err.code]).toBe("InvalidArgument");
      expect(err.rawMessage).toContain("identifier");
      await failure(md.client.createProject({ name }));
    }
    const { featureGroups } = await md.client.listFeatureGroups({ project: P, pageSize: 1000 });
    expect(featureGroups.filter((g) => g.name !== "transactions" && !g.name.startsWith("g_"))).toEqual([]);
    const { projects } = await md.client.listProjects({});
    expect(projects.map((p) => p.name)).toEqual([P]);
  });
});

describe("get-or-create", () => {
  it("returns the stored version for an identical definition and refuses a different one", async () => {
    const first = await md.client.createFeatureGroup({ featureGroup: transactionsGroup(P) });
    expect(first.created).toBe(true);
    const again = await md.client.createFeatureGroup({ featureGroup: transactionsGroup(P) });
    expect(again.created).toBe(false);
    expect(again.featureGroup?.id).toBe(first.featureGroup?.id);
    expect(again.featureGroup?.etag).toBe(first.featureGroup?.etag);
    const different = await failure(md.client.createFeatureGroup({ featureGroup: transactionsGroup(P, { primaryKey: ["tid", "cc_num"] }) }));
    expect(Code[different.code]).toBe("AlreadyExists");
    expect(different.rawMessage).toContain("create version 2");
    const v2 = await md.client.createFeatureGroup({ featureGroup: transactionsGroup(P, { version: 2, primaryKey: ["tid", "cc_num"] }) });
    expect(v2.created).toBe(true);
    const latest = await md.client.getFeatureGroup({ project: P, name: "transactions" });
    expect(latest.featureGroup?.version).toBe(2);
  });
});

describe("changing a version", () => {
  it("appends nullable and defaulted columns, refuses clashes, and rejects other schema changes", async () => {
    const { featureGroup } = await md.client.createFeatureGroup({ featureGroup: transactionsGroup(P, { name: "appendable" }) });
    const appended = await md.client.appendFeatures({
      project: P,
      name: "appendable",
      version: 1,
      columns: [
        { name: "channel", type: { scalar: ScalarType.STRING } },
        { name: "risk", type: { scalar: ScalarType.DOUBLE }, defaultValue: { kind: { case: "doubleValue", value: 0.5 } } },
      ],
    });
    expect(appended.featureGroup?.columns.map((c) => c.name).slice(-2)).toEqual(["channel", "risk"]);
    expect(appended.featureGroup?.etag).not.toBe(featureGroup?.etag);
    const clash = await failure(
      md.client.appendFeatures({ project: P, name: "appendable", version: 1, columns: [{ name: "amount", type: { scalar: ScalarType.DOUBLE } }] }),
    );
    expect(Code[clash.code]).toBe("InvalidArgument");
    const changedKey = await failure(
      md.client.updateFeatureGroup({ featureGroup: { ...appended.featureGroup!, primaryKey: ["cc_num"] }, updateMask: { paths: ["primary_key"] } }),
    );
    expect(Code[changedKey.code]).toBe("FailedPrecondition");
    expect(changedKey.rawMessage).toContain("create version 2");
    const noMask = await failure(md.client.updateFeatureGroup({ featureGroup: { ...appended.featureGroup!, eventTime: "" } }));
    expect(Code[noMask.code]).toBe("FailedPrecondition");
    const described = await md.client.updateFeatureGroup({
      featureGroup: { ...appended.featureGroup!, description: "now described", tags: ["gold"] },
      updateMask: { paths: ["description", "tags"] },
    });
    expect(described.featureGroup?.description).toBe("now described");
    expect(described.featureGroup?.columns).toHaveLength(9);
  });

  it("lets exactly one of 20 concurrent updates with the same etag win", async () => {
    const { featureGroup } = await md.client.createFeatureGroup({ featureGroup: transactionsGroup(P, { name: "contended" }) });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        md.client.updateFeatureGroup({ featureGroup: { ...featureGroup!, description: `writer ${i}` }, updateMask: { paths: ["description"] } }),
      ),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const l of lost) expect(Code[ConnectError.from(l.reason).code]).toBe("Aborted");
    const stored = await md.client.getFeatureGroup({ project: P, name: "contended", version: 1 });
    expect(stored.featureGroup?.description).toBe(
      (won[0] as PromiseFulfilledResult<{ featureGroup?: { description: string } }>).value.featureGroup?.description,
    );
  });

  it("deletes with the current etag only", async () => {
    const { featureGroup } = await md.client.createFeatureGroup({ featureGroup: transactionsGroup(P, { name: "doomed" }) });
    const stale = await failure(md.client.deleteFeatureGroup({ project: P, name: "doomed", version: 1, etag: "1" }));
    expect(Code[stale.code]).toBe("Aborted");
    await md.client.deleteFeatureGroup({ project: P, name: "doomed", version: 1, etag: featureGroup!.etag });
    const gone = await failure(md.client.getFeatureGroup({ project: P, name: "doomed", version: 1 }));
    expect(Code[gone.code]).toBe("NotFound");
  });
});

describe("listing", () => {
  it("returns every group exactly once for random page sizes", async () => {
    const names = Array.from({ length: 37 }, (_, i) => `g_${String(i).padStart(2, "0")}`);
    for (const name of names) await md.client.createFeatureGroup({ featureGroup: transactionsGroup(P, { name, tags: name.endsWith("7") ? ["seven"] : [] }) });
    for (const pageSize of [1, 2, 5, 7, 13, 36, 37, 100]) {
      const seen: string[] = [];
      let pageToken = "";
      do {
        const page = await md.client.listFeatureGroups({ project: P, pageSize, pageToken });
        expect(page.featureGroups.length).toBeLessThanOrEqual(pageSize);
        seen.push(...page.featureGroups.map((g) => `${g.name}@${g.version}`));
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      expect(new Set(seen).size).toBe(seen.length);
      for (const name of names) expect(seen).toContain(`${name}@1`);
    }
    const tagged = await md.client.listFeatureGroups({ project: P, tag: "seven" });
    expect(tagged.featureGroups.map((g) => g.name).sort()).toEqual(["g_07", "g_17", "g_27"]);
  });

  it("refuses a page token used with other filters", async () => {
    const page = await md.client.listFeatureGroups({ project: P, pageSize: 1 });
    const err = await failure(md.client.listFeatureGroups({ project: P, pageSize: 1, tag: "seven", pageToken: page.nextPageToken }));
    expect(Code[err.code]).toBe("InvalidArgument");
  });

  it("refuses NUL characters in free-text filters", async () => {
    for (const call of [
      () => md.client.listFeatureGroups({ project: P, tag: "se\0ven" }),
      () => md.client.listFeatureGroups({ project: P, name: "g\0" }),
      () => md.client.search({ project: P, query: "g_\0" }),
      () => md.client.search({ project: P, tags: ["se\0ven"] }),
    ]) {
      const err = await failure(call());
      expect(Code[err.code]).toBe("InvalidArgument");
    }
  });

  it("refuses a forged or altered page token", async () => {
    const page = await md.client.listFeatureGroups({ project: P, pageSize: 1 });
    const [payload, signature] = page.nextPageToken.split(".");
    const body = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8")) as { k: unknown[] };
    const altered = Buffer.from(JSON.stringify({ ...body, k: ["' OR 1=1 --", 0] })).toString("base64url");
    for (const pageToken of [`${altered}.${signature}`, altered, "bm90IGEgdG9rZW4"]) {
      const err = await failure(md.client.listFeatureGroups({ project: P, pageSize: 1, pageToken }));
      expect(Code[err.code]).toBe("InvalidArgument");
      expect(err.rawMessage).toBe("invalid page token");
    }
  });
});

describe("partition keys", () => {
  it("accepts up to four partition columns of date, string, integer and bool types, and keeps them", async () => {
    const columns = [...cols, create(ColumnSchema, { name: "day", type: { scalar: ScalarType.DATE } })];
    const created = await md.client.createFeatureGroup({
      featureGroup: transactionsGroup(P, { name: "partitioned", columns, partitionKey: ["day", "category", "merchant_id", "is_fraud"] }),
    });
    expect(created.featureGroup?.partitionKey).toEqual(["day", "category", "merchant_id", "is_fraud"]);
    const got = await md.client.getFeatureGroup({ project: P, name: "partitioned", version: 1 });
    expect(got.featureGroup?.partitionKey).toEqual(["day", "category", "merchant_id", "is_fraud"]);
  });
});
