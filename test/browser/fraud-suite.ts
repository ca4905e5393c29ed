// The suite on free ports holding the fraud demo's data (examples/fraud), smaller than its CI size:
// enough for every console page to have something real to show (groups with commits and
// statistics, a view with a join tree, a training dataset, a model with lineage and an alias).
import { readFileSync } from "node:fs";
import { connect, type Granary, type Project } from "@granary/client";
import { startSuiteOnFreePorts, type RunningSuite } from "@granary/suite";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir } from "@granary/testing";
import { generateFraudData, type FraudData, type FraudDataSize } from "../../examples/fraud/data.js";
import { runFraudDemo, SMALL_SIZE, type FraudDemoSummary } from "../../examples/fraud/main.js";

/**
 * A quarter of the demo's CI size (SMALL_SIZE): every page still has data (the model trains on ~500
 * rows, a few of them fraud), and the suite is ready seconds sooner.
 */
export const BROWSER_SIZE: FraudDataSize = { ...SMALL_SIZE, cards: 50, merchants: 16, days: 4, transactions: 600, stream: 8 };

/** The groups whose statistics are computed after the demo (it leaves statistics off). */
export const STATISTICS_GROUPS = ["cc_trans_fg"] as const;

export interface FraudSuite {
  readonly suite: RunningSuite;
  /** The admin API key, read from the file the metadata service wrote on first start. */
  readonly adminKey: string;
  readonly granary: Granary;
  readonly project: Project;
  readonly summary: FraudDemoSummary;
  /** The data the demo ingested (the same seed gives the same rows). */
  readonly data: FraudData;
  stop(): Promise<void>;
}

export async function startFraudSuite(name: string, size: FraudDataSize = BROWSER_SIZE): Promise<FraudSuite> {
  const db = await createTestDatabase(name);
  const dir = scratchDir(name);
  let suite: RunningSuite | undefined;
  let granary: Granary | undefined;
  const stop = async () => {
    granary?.close();
    await suite?.stop();
    await db.drop();
    dir.remove();
  };
  try {
    // No bootstrap key: the metadata service writes an admin key to a file in the data directory, as
    // on a first `npm start`, and the console's login is tested with what a user would find there.
    suite = await startSuiteOnFreePorts(
      { GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url, GRANARY_LOG_LEVEL: "warn" },
      createLogger({ level: "warn", service: name }),
    );
    if (!suite.adminKeyFile) throw new Error("the suite wrote no admin key file (authentication off?)");
    const adminKey = readFileSync(suite.adminKeyFile, "utf8").trim();
    granary = connect({ addresses: suite.addresses, apiKey: adminKey, timeoutMs: 20_000 });
    await granary.waitUntilServing(30_000);
    const summary = await runFraudDemo({ granary, size, log: () => {} });
    const project = await granary.project(summary.project, { create: false });
    for (const group of STATISTICS_GROUPS) await (await project.getFeatureGroup(group)).computeStatistics();
    return { suite, adminKey, granary, project, summary, data: generateFraudData(size), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
