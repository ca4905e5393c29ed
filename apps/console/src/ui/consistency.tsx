import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { FeatureView } from "@granary/proto/metadata";
import type { ConsistencyProgress, ConsistencyReport } from "@granary/proto/offline";
import { api } from "./api";
import { Async, Badge, ErrorMessage } from "./components";
import { formatNumber, formatValue } from "./format";
import { useCall } from "./use-call";

/** The online replica's position in the write log (GetReplicaStatus). */
export function ReplicaStatus(): JSX.Element {
  const [state, retry] = useCall(async (signal) => api.online.getReplicaStatus({}, { signal }), []);
  return (
    <div data-testid="replica-status" class="replica">
      <Async state={state} retry={retry} what="replica status">
        {(s) =>
          s.log === "" || s.log === "none" ? (
            <p class="muted small">Online replica: writes go straight to the online store (no write log), so there is no replica lag.</p>
          ) : (
            <p class="small">
              Online replica <span class="mono">{s.replica}</span> on log <span class="mono">{s.log}</span>: applied {String(s.appliedSequence)} of{" "}
              {String(s.logSequence)}, lag <strong data-testid="replica-lag">{String(s.lag)}</strong>{" "}
              {s.withinBound ? <Badge tone="ok">within bound</Badge> : <Badge tone="warn">behind</Badge>}
            </p>
          )
        }
      </Async>
    </div>
  );
}

type Run =
  | { readonly status: "idle" }
  | { readonly status: "running"; readonly progress?: ConsistencyProgress }
  | { readonly status: "error"; readonly error: unknown }
  | { readonly status: "done"; readonly report: ConsistencyReport };

/**
 * Compares the online store with a point-in-time read of the offline store for a sample of
 * entities (CheckConsistency). Results are not stored by the service, so the check runs on request.
 */
export function ConsistencyCheck({ project, view }: { project: string; view: FeatureView }): JSX.Element {
  const [run, setRun] = useState<Run>({ status: "idle" });
  const [sample, setSample] = useState("100");
  const start = (e: Event): void => {
    e.preventDefault();
    const n = Math.min(100_000, Math.max(1, Number.parseInt(sample, 10) || 100));
    setRun({ status: "running" });
    void (async () => {
      try {
        for await (const m of api.offline.checkConsistency({
          project,
          featureView: { name: view.name, version: view.version },
          entities: { case: "sampleSize", value: n },
          maxExamples: 5,
        })) {
          if (m.message.case === "progress") setRun({ status: "running", progress: m.message.value });
          else if (m.message.case === "report") setRun({ status: "done", report: m.message.value });
        }
      } catch (error) {
        setRun({ status: "error", error });
      }
    })();
  };
  return (
    <div data-testid="consistency">
      <form class="inline-form" onSubmit={start}>
        <label>
          Sample of{" "}
          <input
            type="number"
            min="1"
            max="100000"
            value={sample}
            onInput={(e) => setSample(e.currentTarget.value)}
            class="narrow"
            aria-label="entities to sample"
          />{" "}
          entities
        </label>
        <button type="submit" data-testid="consistency-run" disabled={run.status === "running"}>
          Run consistency check
        </button>
      </form>
      {run.status === "running" && (
        <p class="loading" data-testid="loading">
          Checking… {run.progress ? `${formatNumber(run.progress.entitiesChecked)} of ${formatNumber(run.progress.entitiesTotal)} entities` : ""}
        </p>
      )}
      {run.status === "error" && <ErrorMessage error={run.error} />}
      {run.status === "done" && <Report report={run.report} />}
    </div>
  );
}

function Report({ report }: { report: ConsistencyReport }): JSX.Element {
  return (
    <div data-testid="consistency-report">
      <p>
        {report.mismatches === 0n ? <Badge tone="ok">consistent</Badge> : <Badge tone="bad">{formatNumber(report.mismatches)} mismatches</Badge>}{" "}
        {formatNumber(report.entitiesChecked)} entities checked, {formatNumber(report.entitiesCompared)} compared, {formatNumber(report.entitiesMismatched)}{" "}
        with a mismatch; missing online {formatNumber(report.missingOnline?.count ?? 0n)}, missing offline {formatNumber(report.missingOffline?.count ?? 0n)},
        online ahead {formatNumber(report.onlineRowsAhead)}.
      </p>
      <table class="table compact">
        <thead>
          <tr>
            <th>feature</th>
            <th>compared</th>
            <th>mismatches</th>
            <th>example (online vs offline)</th>
          </tr>
        </thead>
        <tbody>
          {report.features.map((f) => (
            <tr key={f.name}>
              <td class="mono">{f.name}</td>
              <td class="num">{f.notComparedReason ? <span class="muted">{f.notComparedReason}</span> : formatNumber(f.compared)}</td>
              <td class="num">{formatNumber(f.mismatches)}</td>
              <td class="mono small">{f.examples[0] ? `${formatValue(f.examples[0].onlineValue)} vs ${formatValue(f.examples[0].offlineValue)}` : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
