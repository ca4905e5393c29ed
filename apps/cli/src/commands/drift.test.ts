import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DriftStatus, MonitoringReportSchema } from "@granary/proto/metadata";
import { runCli } from "../program.js";
import { driftReference, driftReportJson, driftWindow, formatDriftReport, formatReportList, parseDuration } from "./drift.js";

async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["node", "granary", ...args], {
    output: () => ({ out: (t) => out.push(t), err: (t) => err.push(t), interactive: false }),
    env: {},
  });
  return { code, out, err };
}

const ts = (iso: string) => timestampFromDate(new Date(iso));

const report = create(MonitoringReportSchema, {
  id: 12n,
  project: "shop",
  featureView: { name: "fraud", version: 2 },
  window: { start: ts("2026-12-06T00:00:00Z"), end: ts("2026-12-07T00:00:00Z") },
  reference: { case: "trainingDatasetVersion", value: 1 },
  rowCount: 500n,
  referenceRowCount: 2000n,
  status: DriftStatus.DRIFT,
  createTime: ts("2026-12-07T01:02:03Z"),
  features: [
    { column: "amount", psi: 1.23456, ks: 0.51, nullShare: 0, referenceNullShare: 0, status: DriftStatus.DRIFT, exceeded: ["psi", "ks"], count: 500n },
    { column: "category", categorical: true, psi: 0.012, nullShare: 0.02, referenceNullShare: 0.01, status: DriftStatus.OK, count: 490n },
  ],
});

describe("granary drift: arguments", () => {
  it("reads windows as --since durations or --start/--end instants, and refuses mixtures", () => {
    const now = new Date("2026-12-07T12:00:00Z");
    expect(parseDuration("90m", "--since")).toBe(5_400_000);
    expect(parseDuration("2w", "--since")).toBe(14 * 86_400_000);
    expect(driftWindow({}, now)).toEqual({ start: new Date("2026-12-06T12:00:00Z") });
    expect(driftWindow({ since: "12h" }, now)).toEqual({ start: new Date("2026-12-07T00:00:00Z") });
    expect(driftWindow({ start: "2026-12-01", end: "2026-12-02T06:00:00+02:00" }, now)).toEqual({
      start: new Date("2026-12-01T00:00:00Z"),
      end: new Date("2026-12-02T04:00:00Z"),
    });
    expect(() => driftWindow({ since: "1d", start: "2026-12-01" }, now)).toThrow("either --since or --start/--end");
    expect(() => driftWindow({ since: "0d" }, now)).toThrow('--since "0d" is not a duration');
    expect(() => driftWindow({ since: "yesterday" }, now)).toThrow("is not a duration");
    expect(() => driftWindow({ end: "2026-12-01" }, now)).toThrow("--end needs --start");
    expect(() => driftWindow({ start: "2026-12-02", end: "2026-12-01" }, now)).toThrow("is not after");
  });

  it("reads a training dataset or an earlier window as the reference; the latest training dataset by default", () => {
    expect(driftReference({})).toEqual({ trainingDatasetVersion: 0 });
    expect(driftReference({ reference: "td:3" })).toEqual({ trainingDatasetVersion: 3 });
    expect(driftReference({ reference: "td:latest" })).toEqual({ trainingDatasetVersion: 0 });
    expect(driftReference({ referenceWindow: "2026-11-01..2026-11-08" })).toEqual({
      window: { start: new Date("2026-11-01T00:00:00Z"), end: new Date("2026-11-08T00:00:00Z") },
    });
    expect(() => driftReference({ reference: "3" })).toThrow('--reference "3" is not td:<version>');
    expect(() => driftReference({ referenceWindow: "2026-11-01" })).toThrow("is not <start>..<end>");
    expect(() => driftReference({ reference: "td:1", referenceWindow: "2026-11-01..2026-11-02" })).toThrow("not both");
  });

  it("refuses bad flags in one line with exit 2 before calling anything", async () => {
    // Ports nobody listens on: the refusal must come before any call.
    const nowhere = ["--metadata", "127.0.0.1:1", "--online", "127.0.0.1:2", "--offline", "127.0.0.1:3", "--registry", "127.0.0.1:4"];
    const mixed = await cli([...nowhere, "drift", "fraud", "--since", "1d", "--start", "2026-12-01"]);
    expect(mixed).toEqual({ code: 2, out: [], err: ["granary: give either --since or --start/--end, not both"] });
    const badRef = await cli([...nowhere, "drift", "fraud", "--reference", "dataset1"]);
    expect(badRef).toEqual({
      code: 2,
      out: [],
      err: ['granary: --reference "dataset1" is not td:<version> (a training dataset of the view, td:latest for the newest)'],
    });
    const versions = await cli([...nowhere, "drift", "fraud:1", "--version", "2"]);
    expect(versions).toEqual({ code: 2, out: [], err: ['granary: "fraud:1" and --version 2 name different versions'] });
  });
});

describe("--version", () => {
  it("is the CLI's version first on the line, and a command's own option after the command", async () => {
    const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
    const [long, short] = await Promise.all([cli(["--version"]), cli(["-V"])]);
    expect(long).toEqual({ code: 0, out: [version], err: [] });
    expect(short.code).toBe(0);
    // Before, the program's --version answered here and the command never ran.
    const bad = await cli(["drift", "fraud", "--version", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.err.join("\n")).toContain("--version must be a positive integer");
  });
});

describe("granary drift: output", () => {
  it("prints the report's header and one row per feature with psi, ks, null shares and status", () => {
    expect(formatDriftReport(report).split("\n")).toEqual([
      "drift of fraud v2: DRIFT",
      "  window 2026-12-06T00:00:00Z .. 2026-12-07T00:00:00Z (500 rows) against training dataset v1 (2000 rows)",
      "  report 12, 2026-12-07T01:02:03Z",
      "",
      "column    psi     ks      null share         status  exceeded",
      "amount    1.2346  0.5100  0.000 (ref 0.000)  DRIFT   psi,ks",
      "category  0.0120          0.020 (ref 0.010)  OK",
    ]);
  });

  it("lists stored reports one per line, and gives --json plain numbers and names", () => {
    expect(formatReportList([report]).split("\n")).toEqual([
      "id  created               window                                        reference            rows  status  drifted",
      "12  2026-12-07T01:02:03Z  2026-12-06T00:00:00Z .. 2026-12-07T00:00:00Z  training dataset v1  500   DRIFT   amount",
    ]);
    const json = driftReportJson(report);
    expect(json).toMatchObject({ id: 12, status: "DRIFT", reference: { training_dataset_version: 1 }, row_count: 500, reference_row_count: 2000 });
    expect(json.features[1]).toMatchObject({ column: "category", categorical: true, psi: 0.012, ks: null, status: "OK", exceeded: [] });
  });
});
