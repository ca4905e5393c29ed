import { describe, expect, it } from "@jest/globals";
import { toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { InvalidArgumentError } from "@granary/errors";
import { ColumnarRowsSchema } from "@granary/proto/types";
import { FORMAT, HEADER, PoisonMessageError, deadLetterMessage, decodeMessage, encodeBatch } from "./log-message.js";
import { LogSubjects } from "./subjects.js";
import { sampleBatch, sampleRows } from "./testing/rows.js";

const subjects = new LogSubjects("granary", "granary-dead");
const stored = (overrides: { subject?: string; headers?: Record<string, string | undefined>; data?: Uint8Array } = {}) => {
  const message = encodeBatch(sampleBatch("shop", "orders", 2, { msgId: "m-1" }), subjects);
  const headers = Object.fromEntries(Object.entries({ ...message.headers, ...overrides.headers }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return { subject: overrides.subject ?? message.subject, headers, data: overrides.data ?? message.data, sequence: 9n };
};
const reasonOf = (message: ReturnType<typeof stored>) => {
  try {
    decodeMessage(message, subjects);
  } catch (err) {
    if (err instanceof PoisonMessageError) return err.message;
    throw err;
  }
  return undefined;
};

describe("log messages", () => {
  it("encodes a batch as subject, headers and a ColumnarRows payload, and decodes it back", () => {
    const message = encodeBatch(sampleBatch("shop", "orders", 2, { msgId: "m-1", version: 3, kind: "delete", origin: "insert" }), subjects);
    expect(message.subject).toBe("granary.shop.orders.v3");
    expect(message.headers).toEqual({
      [HEADER.msgId]: "m-1",
      [HEADER.format]: FORMAT,
      [HEADER.kind]: "delete",
      [HEADER.origin]: "insert",
      [HEADER.groupVersion]: "3",
    });
    const entry = decodeMessage({ ...message, sequence: 4n }, subjects);
    expect(entry).toMatchObject({ sequence: 4n, project: "shop", group: "orders", version: 3, kind: "delete", origin: "insert", msgId: "m-1" });
    expect(entry.rows).toEqual(sampleRows(2));
  });

  it("generates a msgId when the batch has none", () => {
    const a = encodeBatch(sampleBatch("shop", "orders"), subjects);
    const b = encodeBatch(sampleBatch("shop", "orders"), subjects);
    expect(a.msgId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.msgId).not.toBe(b.msgId);
  });

  it("refuses a batch whose names would not be one subject token each, naming the field", () => {
    for (const [patch, field] of [
      [{ project: "shop.eu" }, "project"],
      [{ project: "shop>" }, "project"],
      [{ group: "or*ders" }, "feature_group.name"],
      [{ group: "orders\n" }, "feature_group.name"],
      [{ version: -1 }, "feature_group.version"],
      [{ version: 2 ** 31 }, "feature_group.version"],
    ] as const) {
      let error: unknown;
      try {
        encodeBatch({ ...sampleBatch("shop", "orders"), ...patch }, subjects);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).code).toBe(Code.InvalidArgument);
      expect((error as InvalidArgumentError).field).toBe(field);
    }
  });

  it("takes what an external producer sends: lower-case header names, no origin, no group version", () => {
    const entry = decodeMessage(
      {
        subject: "granary.shop.orders.v1",
        headers: { "granary-format": FORMAT, "granary-kind": "upsert", "nats-msg-id": "py-1" },
        data: toBinary(ColumnarRowsSchema, sampleRows(1)),
        sequence: 1n,
      },
      subjects,
    );
    expect(entry).toMatchObject({ origin: "external", kind: "upsert", msgId: "py-1", version: 1 });
  });

  it("says why a message is poison", () => {
    expect(reasonOf(stored({ subject: "granary.shop.orders" }))).toContain('subject "granary.shop.orders" is not granary.<project>.<group>.v<version>');
    expect(reasonOf(stored({ subject: "granary.Shop.orders.v1" }))).toContain("is not granary.<project>.<group>.v<version>");
    expect(reasonOf(stored({ subject: "granary.shop.orders.v01" }))).toContain("is not granary.<project>.<group>.v<version>");
    expect(reasonOf(stored({ headers: { [HEADER.format]: undefined } }))).toBe(`header ${HEADER.format} is missing, expected "${FORMAT}"`);
    expect(reasonOf(stored({ headers: { [HEADER.kind]: "merge" } }))).toBe(`header ${HEADER.kind} is "merge", expected one of upsert, delete`);
    expect(reasonOf(stored({ headers: { [HEADER.origin]: "spark" } }))).toContain(`header ${HEADER.origin} is "spark"`);
    expect(reasonOf(stored({ headers: { [HEADER.groupVersion]: "2" } }))).toBe(`header ${HEADER.groupVersion} is "2" but the subject says version 1`);
    expect(reasonOf(stored({ data: new Uint8Array([0xff, 0xff]) }))).toContain(`payload is not a ${FORMAT} protobuf`);
    const short = sampleRows(2);
    short.rowCount = 3;
    expect(reasonOf(stored({ data: toBinary(ColumnarRowsSchema, short) }))).toBe('payload column "entity_id" has 2 values for 3 rows');
    const empty = sampleRows(1);
    empty.rowCount = 0;
    expect(reasonOf(stored({ data: toBinary(ColumnarRowsSchema, empty) }))).toBe("payload has no rows");
  });

  it("files a dead letter under the same group, keeps the message's headers, and derives its id from origin and reason", () => {
    const message = stored();
    const dead = deadLetterMessage(message, "rule r1:\namount < 0", subjects);
    expect(dead.subject).toBe("granary-dead.shop.orders.v1");
    expect(dead.headers).toMatchObject({
      [HEADER.deadReason]: "rule r1: amount < 0",
      [HEADER.deadSequence]: "9",
      [HEADER.deadMsgId]: "m-1",
      [HEADER.deadSubject]: "granary.shop.orders.v1",
      [HEADER.kind]: "upsert",
    });
    expect(dead.msgId).toBe(deadLetterMessage(message, "rule r1:\namount < 0", subjects).msgId);
    expect(dead.msgId).not.toBe(deadLetterMessage(message, "rule r2", subjects).msgId);
    expect(deadLetterMessage({ ...message, subject: "granary.shop.orders" }, "x", subjects).subject).toBe("granary-dead.shop._invalid");
    expect(deadLetterMessage({ ...message, subject: "granary.Shop.orders.v1" }, "x", subjects).subject).toBe("granary-dead._invalid");
  });

  it("refuses subject prefixes that overlap or are not subject tokens", () => {
    expect(() => new LogSubjects("granary", "granary.dead")).toThrow("must not overlap");
    expect(() => new LogSubjects("granary.*", "dead")).toThrow("dot-separated tokens");
  });
});
