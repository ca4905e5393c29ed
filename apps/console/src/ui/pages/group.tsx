import type { JSX } from "preact";
import { useMemo } from "preact/hooks";
import { CommitChart } from "../charts";
import { CommitKind, CommitState, OnlineSyncState, ValidationPolicy, type Commit, type FeatureGroup } from "@granary/proto/metadata";
import { api, orNotFound } from "../api";
import { Async, Badge, EmptyState, Section, Tags } from "../components";
import { enumLabel, formatDuration, formatNumber, formatTime, formatValue, typeName } from "../format";
import { href, Link } from "../router";
import { allPages, useCall } from "../use-call";
import { StatisticsView } from "../statistics";
import { SampleRows } from "../sample-rows";
import { timestampDate } from "@bufbuild/protobuf/wkt";

export function GroupPage({ project, name, version }: { project: string; name: string; version: number }): JSX.Element {
  const [state, retry] = useCall(
    async (signal) => (await api.metadata.getFeatureGroup({ project, name, version }, { signal })).featureGroup,
    [project, name, version],
  );
  return (
    <div class="page">
      <Async state={state} retry={retry} what="the feature group">
        {(group) => (group ? <GroupDetail project={project} group={group} /> : <EmptyState>No such feature group.</EmptyState>)}
      </Async>
    </div>
  );
}

function GroupDetail({ project, group }: { project: string; group: FeatureGroup }): JSX.Element {
  const ref = { name: group.name, version: group.version };
  const [commits, retryCommits] = useCall(
    (signal) =>
      allPages(async (pageToken) => {
        const r = await api.metadata.listCommits({ project, featureGroup: ref, pageSize: 500, pageToken }, { signal });
        return { items: r.commits, next: r.nextPageToken };
      }, 2000),
    [project, group.name, group.version],
  );
  return (
    <>
      <div class="page-head">
        <div>
          <h1>
            {group.name} <span class="muted">v{group.version}</span>
          </h1>
          <p>{group.description || <span class="muted">no description</span>}</p>
          <Tags tags={group.tags} />
        </div>
        <div class="head-links">
          <Link href={href("projects", project, "lineage", "group", group.name, group.version)} data-testid="lineage-link">
            Lineage →
          </Link>
        </div>
      </div>
      <Section title="Freshness" testid="freshness">
        <Freshness group={group} commits={commits.status === "done" ? commits.value : undefined} />
      </Section>
      <Section title="Schema">
        <table class="table" data-testid="group-schema">
          <thead>
            <tr>
              <th>column</th>
              <th>type</th>
              <th>role</th>
              <th>description</th>
              <th>default</th>
            </tr>
          </thead>
          <tbody>
            {group.columns.map((c) => (
              <tr key={c.name} data-testid="schema-row" data-column={c.name}>
                <td class="mono">{c.name}</td>
                <td class="mono">{typeName(c.type)}</td>
                <td>
                  {columnRoles(group, c.name).map((r) => (
                    <Badge key={r} tone="info">
                      {r}
                    </Badge>
                  ))}
                </td>
                <td>{c.description}</td>
                <td class="mono">{c.defaultValue ? formatValue(c.defaultValue) : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {group.validationRules.length > 0 && (
          <p class="muted small">
            Validation rules:{" "}
            {group.validationRules.map((r) => `${r.name} (${r.column}: ${r.rule.case ?? "rule"}, ${enumLabel(ValidationPolicy[r.policy])})`).join("; ")}
          </p>
        )}
      </Section>
      <Section title="Commits">
        <Async state={commits} retry={retryCommits} what="commits">
          {(list) => <CommitTimeline commits={list} />}
        </Async>
      </Section>
      <Section title="Feature statistics">
        <GroupStatistics project={project} group={group} />
      </Section>
      <Section title="Validation reports">
        <ValidationReports project={project} group={group} />
      </Section>
      <Section title="Sample rows">
        <SampleRows project={project} group={group} />
      </Section>
    </>
  );
}

function columnRoles(group: FeatureGroup, column: string): string[] {
  const roles: string[] = [];
  if (group.primaryKey.includes(column)) roles.push("primary key");
  if (group.eventTime === column) roles.push("event time");
  if (group.partitionKey.includes(column)) roles.push("partition");
  if (roles.length === 0) roles.push("feature");
  return roles;
}

function Freshness({ group, commits }: { group: FeatureGroup; commits: readonly Commit[] | undefined }): JSX.Element {
  const committed = (commits ?? []).filter((c) => c.state !== CommitState.FAILED);
  const latest = committed.reduce<Commit | undefined>((a, c) => (a === undefined || c.id > a.id ? c : a), undefined);
  const maxEvent = committed.reduce<Date | undefined>((a, c) => {
    if (!c.maxEventTime) return a;
    const d = timestampDate(c.maxEventTime);
    return a === undefined || d > a ? d : a;
  }, undefined);
  return (
    <dl class="facts">
      <div>
        <dt>Online</dt>
        <dd>{group.onlineEnabled ? <Badge tone="ok">on</Badge> : <Badge tone="muted">off</Badge>}</dd>
      </div>
      <div>
        <dt>Online TTL</dt>
        <dd>{formatDuration(group.onlineTtl)}</dd>
      </div>
      <div>
        <dt>Latest event time</dt>
        <dd data-testid="freshness-event-time">
          {commits === undefined ? "…" : maxEvent ? maxEvent.toISOString().replace("T", " ") : group.eventTime ? "no rows yet" : "no event time column"}
        </dd>
      </div>
      <div>
        <dt>Latest commit</dt>
        <dd data-testid="freshness-commit-time">
          {commits === undefined ? "…" : latest ? `#${latest.id} at ${formatTime(latest.ingestionTime)}` : "none yet"}
        </dd>
      </div>
      {latest && group.onlineEnabled && (
        <div>
          <dt>Online sync</dt>
          <dd>{enumLabel(OnlineSyncState[latest.onlineSyncState])}</dd>
        </div>
      )}
      <div>
        <dt>Offline retention</dt>
        <dd>{group.offlineRetention ? formatDuration(group.offlineRetention) : "forever"}</dd>
      </div>
    </dl>
  );
}

function CommitTimeline({ commits }: { commits: readonly Commit[] }): JSX.Element {
  if (commits.length === 0) return <EmptyState>No commits yet: rows inserted into this group appear here, one commit per insert.</EmptyState>;
  const newestFirst = [...commits].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const chart = useMemo(
    () =>
      newestFirst
        .slice(0, 60)
        .reverse()
        .map((c) => ({ id: String(c.id), inserted: Number(c.rowsInserted), updated: Number(c.rowsUpdated), deleted: Number(c.rowsDeleted) })),
    [commits],
  );
  return (
    <>
      <CommitChart commits={chart} />
      <ol class="timeline" data-testid="group-commits">
        {newestFirst.map((c) => (
          <li key={String(c.id)} data-testid="commit-item" data-commit={String(c.id)} class={c.state === CommitState.FAILED ? "failed" : undefined}>
            <span class="dot" aria-hidden="true" />
            <div>
              <strong>#{String(c.id)}</strong> <span class="kind">{enumLabel(CommitKind[c.kind])}</span>{" "}
              <span class="muted">{formatTime(c.ingestionTime)}</span>
              {c.state === CommitState.FAILED && <Badge tone="bad">failed</Badge>}
              {c.erase && <Badge tone="warn">erase</Badge>}
            </div>
            <div class="small">
              <span class="ins">+{formatNumber(c.rowsInserted)} inserted</span> · <span class="upd">{formatNumber(c.rowsUpdated)} updated</span> ·{" "}
              <span class="del">−{formatNumber(c.rowsDeleted)} deleted</span>
              {c.minEventTime && (
                <span class="muted">
                  {" "}
                  · events {formatTime(c.minEventTime)} → {formatTime(c.maxEventTime)}
                </span>
              )}
              {c.compaction && (
                <span class="muted">
                  {" "}
                  · files {String(c.compaction.filesBefore)} → {String(c.compaction.filesAfter)}
                </span>
              )}
            </div>
            {c.failureReason && <div class="small error-text">{c.failureReason}</div>}
          </li>
        ))}
      </ol>
    </>
  );
}

function GroupStatistics({ project, group }: { project: string; group: FeatureGroup }): JSX.Element {
  const [state, retry] = useCall(
    // A group without statistics yet answers NOT_FOUND: an empty state here, not an error.
    (signal) =>
      orNotFound(
        async () =>
          (
            await api.metadata.getStatistics(
              { project, subject: { kind: { case: "featureGroup", value: { name: group.name, version: group.version } } } },
              { signal },
            )
          ).statistics,
      ),
    [project, group.name, group.version],
  );
  return (
    <Async state={state} retry={retry} what="statistics">
      {(stats) =>
        stats && stats.columns.length > 0 ? (
          <>
            <p class="muted small">
              {formatNumber(stats.rowCount)} rows, computed {formatTime(stats.computeTime)}
            </p>
            <StatisticsView columns={stats.columns} types={new Map(group.columns.map((c) => [c.name, c.type]))} />
          </>
        ) : (
          <EmptyState>No statistics yet. They are computed after inserts when the group's statistics are enabled.</EmptyState>
        )
      }
    </Async>
  );
}

function ValidationReports({ project, group }: { project: string; group: FeatureGroup }): JSX.Element {
  const [state, retry] = useCall(
    async (signal) =>
      (await api.metadata.listValidationReports({ project, featureGroup: { name: group.name, version: group.version }, pageSize: 20 }, { signal })).reports,
    [project, group.name, group.version],
  );
  return (
    <div data-testid="validation-reports">
      <Async state={state} retry={retry} what="validation reports">
        {(reports) =>
          reports.length === 0 ? (
            <EmptyState>
              {group.validationRules.length === 0 ? "This group has no validation rules, so inserts are not validated." : "No validation reports yet."}
            </EmptyState>
          ) : (
            <ul class="reports">
              {reports.map((r) => (
                <li key={r.id} data-testid="validation-report">
                  <div>
                    {r.success ? <Badge tone="ok">passed</Badge> : <Badge tone="bad">failed</Badge>} commit #{String(r.commitId)} · {formatTime(r.createTime)}{" "}
                    {r.ingested ? "" : <Badge tone="warn">not ingested</Badge>}
                  </div>
                  <table class="table compact">
                    <tbody>
                      {r.results.map((x, i) => (
                        <tr key={i}>
                          <td>{x.success ? "✓" : "✗"}</td>
                          <td class="mono">{x.rule}</td>
                          <td class="mono">{x.column}</td>
                          <td class="num">
                            {formatNumber(x.unexpectedCount)} / {formatNumber(x.evaluatedCount)} unexpected
                          </td>
                          <td>{x.message}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </div>
  );
}
