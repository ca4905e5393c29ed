import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DeadLetterSchema } from "@granary/proto/online";
import { toJson } from "../output.js";
import { runCli } from "../program.js";
import { deadLetterJson, formatDeadLetters } from "./dead-letters.js";
import { describeWriteLog } from "./status.js";

async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["node", "granary", ...args], {
    output: () => ({ out: (t) => out.push(t), err: (t) => err.push(t), interactive: false }),
    env: {},
  });
  return { code, out, err };
}

const letters = [
  create(DeadLetterSchema, {
    sequence: 7n,
    subject: "granary.shop.orders.v1",
    reason: 'column "amount": "x" is not a double',
    originalSequence: 1042n,
    fileTime: timestampFromDate(new Date("2026-12-07T04:10:05.123Z")),
    headers: { "Granary-Kind": "upsert", "Granary-Dead-Reason": 'column "amount": "x" is not a double' },
    data: new Uint8Array(2048),
  }),
  create(DeadLetterSchema, {
    sequence: 8n,
    subject: "granary.shop.nope.v1",
    reason: 'feature group "nope" version 1 does not exist',
    fileTime: timestampFromDate(new Date("2026-12-07T04:11:00Z")),
    data: new Uint8Array(12),
  }),
];

describe("granary dead-letters: output", () => {
  it("prints when each was filed, its subject, original sequence, payload size and reason", () => {
    expect(formatDeadLetters(letters).split("\n")).toEqual([
      "filed                 subject                 original seq  payload  reason",
      '2026-12-07T04:10:05Z  granary.shop.orders.v1  1042          2.0 KiB  column "amount": "x" is not a double',
      '2026-12-07T04:11:00Z  granary.shop.nope.v1    -             12 B     feature group "nope" version 1 does not exist',
    ]);
  });

  it("gives --json the headers and the payload as base64", () => {
    expect(JSON.parse(toJson(letters.map(deadLetterJson)))).toEqual([
      expect.objectContaining({
        sequence: 7,
        file_time: "2026-12-07T04:10:05.123Z",
        original_sequence: 1042,
        payload_bytes: 2048,
        headers: letters[0]!.headers,
      }),
      {
        sequence: 8,
        file_time: "2026-12-07T04:11:00.000Z",
        subject: "granary.shop.nope.v1",
        reason: 'feature group "nope" version 1 does not exist',
        original_sequence: null,
        payload_bytes: 12,
        headers: {},
        data: Buffer.alloc(12).toString("base64"),
      },
    ]);
  });

  it("refuses a --limit outside 1..1000 before calling anything", async () => {
    const nowhere = ["--online", "127.0.0.1:1"];
    for (const limit of ["0", "1001", "ten"]) {
      const run = await cli([...nowhere, "dead-letters", "shop", "--limit", limit]);
      expect(run.code).toBe(2);
      expect(run.err.join("\n")).toMatch(/--limit must be (a positive integer|at most 1000) \(see granary dead-letters --help\)/);
    }
  });
});

describe("granary status: the write log", () => {
  it("says where the online replica stands, or that there is no log", () => {
    expect(describeWriteLog({ replica: "online-0", log: "jetstream", appliedSequence: 1240n, logSequence: 1242n, lag: 2n, withinBound: true })).toBe(
      "online write log: jetstream, replica online-0: applied 1240 of 1242, lag 2 (within bound)",
    );
    expect(describeWriteLog({ replica: "online-1", log: "jetstream", appliedSequence: 10n, logSequence: 5010n, lag: 5000n, withinBound: false })).toMatch(
      /lag 5000 \(over GRANARY_ONLINE_MAX_LAG: the replica is not ready until it catches up\)$/,
    );
    expect(describeWriteLog({ replica: "", log: "none", appliedSequence: 0n, logSequence: 0n, lag: 0n, withinBound: false })).toMatch(
      /^online write log: none \(/,
    );
    expect(describeWriteLog({ error: "[unimplemented] no such method" })).toBe("online write log: not known ([unimplemented] no such method)");
  });
});
