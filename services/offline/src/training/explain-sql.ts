import { join } from "node:path";
import { ColumnRole, type Commit, type FeatureGroup, type FeatureView } from "@granary/proto/metadata";
import { filesOf } from "../store/commit-files.js";
import { CommitLog, type CommitEntry } from "../store/commit-log.js";
import { pathProblem } from "../store/confined-path.js";
import { requestParameters } from "./on-demand.js";
import { pitSql } from "./pit-sql.js";
import { compileViewPlan } from "./view-plan.js";

export interface PointInTimeSqlInput {
  readonly view: FeatureView;
  readonly groups: readonly FeatureGroup[];
  /** The recorded commits of the view's groups. */
  readonly commits: readonly Commit[];
  readonly dataRoot: string;
  readonly startMicros?: bigint;
  readonly endMicros?: bigint;
}

/**
 * The DuckDB SQL GetTrainingData runs for a view over the left group's rows in a time range
 * (untransformed, no split): for inspecting a query, and for the benchmark's DuckDB floor.
 */
export function pointInTimeSql(input: PointInTimeSqlInput): string {
  const log = new CommitLog();
  for (const c of input.commits) log.apply(c);
  const plan = compileViewPlan(input.view, (name, version) => input.groups.find((g) => g.name === name && g.version === version));
  // Only the lexical part of the check: this builds SQL text and opens nothing.
  const files = new Map<CommitEntry, string[]>();
  for (const g of input.groups) {
    const prefix = `${input.view.project}/${g.name}/v${g.version}/`;
    for (const c of log.commits(input.view.project, g.name, g.version)) {
      files.set(
        c,
        c.files.map((f) => {
          const problem = pathProblem(f, prefix);
          if (problem) throw new Error(`commit ${c.id} of feature group "${g.name}" version ${g.version} lists ${problem}`);
          return join(input.dataRoot, f);
        }),
      );
    }
  }
  return pitSql(
    plan,
    { kind: "range", startMicros: input.startMicros, endMicros: input.endMicros },
    (g) => log.commits(input.view.project, g.name, g.version),
    filesOf(files),
    {
      roles: new Set([ColumnRole.FEATURE, ColumnRole.LABEL]),
      includeEventTimes: false,
      requestParameters: requestParameters(input.view),
    },
  ).sql;
}
