import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { FieldMaskSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { create } from "@bufbuild/protobuf";
import { callUpstream } from "@granary/service-clients";
import type {
  Commit,
  FeatureGroup,
  FeatureView,
  MetadataService,
  MonitoringReport,
  Statistics,
  StatisticsSubject,
  TrainingDataset,
  ValidationReport,
} from "@granary/proto/metadata";
import type { FeatureViewRef } from "@granary/proto/types";

/** What the offline service records in the metadata service. */
export interface MetadataWriter {
  createCommit(commit: Commit): Promise<Commit>;
  updateCommit(commit: Commit, paths: readonly string[]): Promise<Commit>;
  createValidationReport(report: ValidationReport): Promise<ValidationReport>;
  putStatistics(statistics: Statistics): Promise<Statistics>;
  /** Whether statistics of the subject are stored (start-up looks for commits left without them). */
  hasStatistics(project: string, subject: StatisticsSubject): Promise<boolean>;
  /** A group's commits ingested at or after `since` (the write-log consumer's check after a CreateCommit of unknown outcome). */
  commitsSince(project: string, group: { name: string; version: number }, since: Date): Promise<Commit[]>;
  createTrainingDataset(dataset: TrainingDataset): Promise<TrainingDataset>;
  updateTrainingDataset(dataset: TrainingDataset, paths: readonly string[]): Promise<TrainingDataset>;
  /** Stores a drift report (ComputeDrift); the id is assigned. */
  createMonitoringReport(report: MonitoringReport): Promise<MonitoringReport>;
  /** A view version as the catalogue holds it now (ComputeDrift reads thresholds just set, ahead of the change stream). */
  getFeatureView(project: string, view: { name: string; version: number }): Promise<FeatureView>;
  /** Get-or-create a view version's logging feature group (LogFeatures on first use). */
  enableFeatureLogging(project: string, view: FeatureViewRef): Promise<{ featureView: FeatureView; group: FeatureGroup }>;
}

/** The metadata service over gRPC; its outages become UNAVAILABLE, its other errors pass through. */
export function metadataWriter(client: Client<typeof MetadataService>, timeoutMs = 30_000): MetadataWriter {
  const call = <T>(what: string, run: () => Promise<T>): Promise<T> => callUpstream(run, { service: "the metadata service", what });
  const options = { timeoutMs };
  return {
    createCommit: (commit) => call("record the commit", async () => (await client.createCommit({ commit }, options)).commit!),
    updateCommit: (commit, paths) =>
      call(
        "update the commit",
        async () => (await client.updateCommit({ commit, updateMask: create(FieldMaskSchema, { paths: [...paths] }) }, options)).commit!,
      ),
    createValidationReport: (report) => call("store the validation report", async () => (await client.createValidationReport({ report }, options)).report!),
    createMonitoringReport: (report) => call("store the monitoring report", async () => (await client.createMonitoringReport({ report }, options)).report!),
    getFeatureView: (project, view) =>
      call("read the feature view", async () => (await client.getFeatureView({ project, name: view.name, version: view.version }, options)).featureView!),
    putStatistics: (statistics) => call("store statistics", async () => (await client.putStatistics({ statistics }, options)).statistics!),
    hasStatistics: (project, subject) =>
      call("read statistics", () =>
        client.getStatistics({ project, subject }, options).then(
          () => true,
          (err: unknown) => {
            if (err instanceof ConnectError && err.code === Code.NotFound) return false;
            throw err;
          },
        ),
      ),
    commitsSince: (project, group, since) =>
      call("list commits", async () => {
        const out: Commit[] = [];
        let pageToken = "";
        do {
          const page = await client.listCommits(
            {
              project,
              featureGroup: { name: group.name, version: group.version },
              pageSize: 1000,
              pageToken,
              ingestionTimeRange: { start: timestampFromDate(since) },
            },
            options,
          );
          out.push(...page.commits);
          pageToken = page.nextPageToken;
        } while (pageToken !== "");
        return out;
      }),
    createTrainingDataset: (trainingDataset) =>
      call("record the training dataset", async () => (await client.createTrainingDataset({ trainingDataset }, options)).trainingDataset!),
    updateTrainingDataset: (trainingDataset, paths) =>
      call(
        "update the training dataset",
        async () =>
          (await client.updateTrainingDataset({ trainingDataset, updateMask: create(FieldMaskSchema, { paths: [...paths] }) }, options)).trainingDataset!,
      ),
    enableFeatureLogging: (project, featureView) =>
      call("create the logging feature group", async () => {
        const res = await client.enableFeatureLogging({ project, featureView: { name: featureView.name, version: featureView.version } }, options);
        return { featureView: res.featureView!, group: res.loggingFeatureGroup! };
      }),
  };
}
