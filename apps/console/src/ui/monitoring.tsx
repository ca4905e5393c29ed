import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { DriftStatus, type FeatureDrift, type FeatureView, type MonitoringReport } from "@granary/proto/metadata";
import type { TimeRange } from "@granary/proto/types";
import { api } from "./api";
import { Async, Badge, EmptyState } from "./components";
import { formatNumber, formatTime } from "./format";
import { href, Link } from "./router";
import { useCall } from "./use-call";

const STATUS: Record<DriftStatus, { label: string; tone: "ok" | "bad" | "muted" | "warn" }> = {
  [DriftStatus.UNSPECIFIED]: { label: "unknown", tone: "muted" },
  [DriftStatus.OK]: { label: "OK", tone: "ok" },
  [DriftStatus.DRIFT]: { label: "DRIFT", tone: "bad" },
  [DriftStatus.INSUFFICIENT_DATA]: { label: "insufficient data", tone: "warn" },
};

function StatusBadge({ status }: { status: DriftStatus }): JSX.Element {
  const s = STATUS[status] ?? STATUS[DriftStatus.UNSPECIFIED];
  return <Badge tone={s.tone}>{s.label}</Badge>;
}

const stat = (v: number | undefined, digits = 3) => (v === undefined ? "—" : v.toFixed(digits));
const share = (v: number) => `${(100 * v).toFixed(1)} %`;
const range = (r: TimeRange | undefined) => `${r?.start ? formatTime(r.start) : "…"} – ${r?.end ? formatTime(r.end) : "now"}`;

function referenceText(r: MonitoringReport): string {
  if (r.reference.case === "trainingDatasetVersion") return `training dataset v${r.reference.value}`;
  if (r.reference.case === "referenceWindow") return `logs of ${range(r.reference.value)}`;
  return "no reference";
}

/**
 * A feature view version's logging state and drift reports (newest first): the report chosen shows
 * each feature's PSI, KS and null share against its thresholds. Reports are computed by
 * ComputeDrift (SDK fv.computeDrift, `granary drift`); the console only reads them.
 */
export function MonitoringPanel({ project, view }: { project: string; view: FeatureView }): JSX.Element {
  const [state, retry] = useCall(
    async (signal) =>
      (await api.metadata.listMonitoringReports({ project, featureView: { name: view.name, version: view.version }, pageSize: 20 }, { signal })).reports,
    [project, view.name, view.version],
  );
  const [chosen, setChosen] = useState(0);
  const logging = view.logging;
  const group = view.loggingFeatureGroup;
  return (
    <div data-testid="monitoring">
      <p class="small" data-testid="logging-state">
        Feature logging:{" "}
        {group?.name ? (
          <>
            logs in{" "}
            <Link href={href("projects", project, "groups", group.name, group.version)} data-testid="logging-group">
              {group.name} v{group.version}
            </Link>
            {" · "}
            {logging?.onlineEnabled ? (
              <Badge tone="info">online service logs {share(logging.sampleRate || 1)} of served vectors</Badge>
            ) : (
              <Badge tone="muted">client logging only</Badge>
            )}
          </>
        ) : (
          <span class="muted">nothing logged yet (fv.log in the SDK, or enable online logging)</span>
        )}
      </p>
      <Async state={state} retry={retry} what="drift reports">
        {(reports) =>
          reports.length === 0 ? (
            <EmptyState>
              No drift reports yet: compute one with granary drift {view.name}:{view.version} or fv.computeDrift().
            </EmptyState>
          ) : (
            <>
              <table class="table compact" data-testid="drift-reports">
                <thead>
                  <tr>
                    <th>report</th>
                    <th>created</th>
                    <th>window</th>
                    <th>reference</th>
                    <th class="num">rows</th>
                    <th>status</th>
                  </tr>
                </thead>
                <tbody>
                  {reports.map((r, i) => (
                    <tr key={String(r.id)} class={i === chosen ? "selected" : ""} data-testid="drift-report" data-status={STATUS[r.status]?.label}>
                      <td>
                        <button type="button" class="link-button" onClick={() => setChosen(i)} aria-pressed={i === chosen}>
                          #{String(r.id)}
                        </button>
                      </td>
                      <td>{formatTime(r.createTime)}</td>
                      <td class="small">{range(r.window)}</td>
                      <td>{referenceText(r)}</td>
                      <td class="num">
                        {formatNumber(r.rowCount)} / {formatNumber(r.referenceRowCount)}
                      </td>
                      <td>
                        <StatusBadge status={r.status} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {reports[chosen] && <FeatureDriftTable report={reports[chosen]} />}
            </>
          )
        }
      </Async>
    </div>
  );
}

function thresholdText(f: FeatureDrift): string {
  const t = f.thresholds;
  if (!t) return "";
  return [
    t.psi !== undefined ? `psi ${t.psi}` : "",
    t.ks !== undefined ? `ks ${t.ks}` : "",
    t.nullShareIncrease !== undefined ? `nulls +${t.nullShareIncrease}` : "",
  ]
    .filter((s) => s !== "")
    .join(", ");
}

function FeatureDriftTable({ report }: { report: MonitoringReport }): JSX.Element {
  return (
    <table class="table" data-testid="feature-drift" aria-label={`drift of report ${String(report.id)}`}>
      <thead>
        <tr>
          <th>feature</th>
          <th>kind</th>
          <th class="num">PSI</th>
          <th class="num">KS</th>
          <th class="num">null share</th>
          <th class="num">reference nulls</th>
          <th>thresholds</th>
          <th>status</th>
        </tr>
      </thead>
      <tbody>
        {report.features.map((f) => (
          <tr key={f.column} data-testid="feature-drift-row" data-column={f.column} data-status={STATUS[f.status]?.label}>
            <td class="mono">{f.column}</td>
            <td class="muted">{f.categorical ? "categorical" : "numeric"}</td>
            <td class={`num${f.exceeded.includes("psi") ? " over" : ""}`}>{stat(f.psi)}</td>
            <td class={`num${f.exceeded.includes("ks") ? " over" : ""}`}>{stat(f.ks)}</td>
            <td class={`num${f.exceeded.includes("null_share_increase") ? " over" : ""}`}>{share(f.nullShare)}</td>
            <td class="num muted">{share(f.referenceNullShare)}</td>
            <td class="small muted">{thresholdText(f)}</td>
            <td>
              <StatusBadge status={f.status} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
