import { describe, expect, it } from "@jest/globals";
import { TrainingDatasetStatus, type TrainingDataset } from "@granary/proto/metadata";
import type { Logger } from "@granary/telemetry";
import { markFailed } from "./training-datasets.js";

const ref = { project: "shop", featureView: { $typeName: "granary.types.v1.FeatureViewRef", name: "fraud", version: 1 }, version: 3 } as Pick<
  TrainingDataset,
  "project" | "featureView" | "version"
>;

function recorder() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => lines.push({ level, obj, msg });
  return { lines, logger: { warn: at("warn"), error: at("error") } as unknown as Logger };
}

describe("markFailed", () => {
  it("retries a failed update until the dataset is recorded FAILED with the reason", async () => {
    const calls: { status: TrainingDatasetStatus; message: string; paths: readonly string[] }[] = [];
    let failures = 2;
    const metadata = {
      updateTrainingDataset: async (d: TrainingDataset, paths: readonly string[]) => {
        calls.push({ status: d.status, message: d.statusMessage, paths });
        if (failures-- > 0) throw new Error("metadata unavailable");
        return d;
      },
    };
    const { lines, logger } = recorder();
    expect(await markFailed(metadata, ref, "DuckDB ran out of memory", logger, [0, 0, 0])).toBe(true);
    expect(calls).toHaveLength(3);
    expect(calls[2]).toEqual({ status: TrainingDatasetStatus.FAILED, message: "DuckDB ran out of memory", paths: ["status", "status_message"] });
    expect(lines.map((l) => l.level)).toEqual(["warn", "warn"]);
  });

  it("gives up after bounded attempts and logs an error naming the dataset (never silently)", async () => {
    let calls = 0;
    const metadata = {
      updateTrainingDataset: async () => {
        calls++;
        throw new Error("metadata unavailable");
      },
    };
    const { lines, logger } = recorder();
    expect(await markFailed(metadata, ref, "boom", logger, [0, 0])).toBe(false);
    expect(calls).toBe(3);
    const error = lines.find((l) => l.level === "error");
    expect(error?.obj).toMatchObject({ project: "shop", view: "fraud", viewVersion: 1, dataset: 3, attempts: 3, reason: "boom" });
    expect(error?.msg).toMatch(/stays CREATING/);
  });
});
