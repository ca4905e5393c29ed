import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { CatalogueCache } from "@granary/catalogue-cache";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, ResourceExhaustedError, UnavailableError } from "@granary/errors";
import { eventTimeBounds } from "@granary/arrow";
import { Durability, type EntityRows, type FeatureVectorOptions, type OnlineService } from "@granary/proto/online";
import type { DataType, FeatureGroupRef } from "@granary/proto/types";
import type { OnlineStore, Durability as StoreDurability } from "./store/online-store.js";
import { arrowToColumnarRows, readArrowRows } from "./vectors/arrow-rows.js";
import { columnReader, type ColumnReader } from "./vectors/column-reader.js";
import { featureVectorsResponse, modelFeatureVectorsResponse } from "./vectors/encode-vectors.js";
import { withLookup, type LookupInput } from "./vectors/lookup.js";
import type { ModelResolver } from "./upstream/model-resolver.js";
import type { PlanCache } from "./vectors/plan-cache.js";
import type { ViewPlan } from "./vectors/view-plan.js";
import { keysOf, storedRowsOf } from "./write/stored-rows.js";
import { lookupInSpan, recordWrite } from "./online-metrics.js";
import { storedRowsOfArrow } from "./write/arrow-stored-rows.js";
import type { ReplicaLog } from "./write/replica-log.js";
import { findNeighbors } from "./ann/find-neighbors.js";
import type { NeighborSource } from "./ann/neighbor-search.js";
import type { FeatureLogger } from "./logging/feature-logger.js";

export interface OnlineHandlerDeps {
  readonly store: OnlineStore;
  readonly models: ModelResolver;
  readonly catalogue: CatalogueCache;
  readonly plans: PlanCache;
  readonly maxRows: number;
  /** How far past now an event time may be (GRANARY_MAX_FUTURE_EVENT_TIME_S). */
  readonly maxFutureEventTimeS: number;
  /** The write log this replica follows (GRANARY_NATS_URL); absent, writes go to the store directly. */
  readonly replicaLog?: ReplicaLog | undefined;
  /** The nearest-neighbour indexes FindNeighbors asks (this process's, or the cluster primary's); absent, it scans rows. */
  readonly neighbors?: NeighborSource | undefined;
  /** The service's own feature logging of the vectors it serves (views with logging.online_enabled). */
  readonly featureLog?: FeatureLogger | undefined;
}

/**
 * Handlers of granary.online.v1.OnlineService, every RPC listed (a missing one fails the build);
 * definitions come from the catalogue cache only.
 */
export function createOnlineHandlers({
  store,
  models,
  catalogue,
  plans,
  maxRows,
  maxFutureEventTimeS,
  replicaLog,
  featureLog,
  neighbors,
}: OnlineHandlerDeps): ServiceImpl<typeof OnlineService> {
  const requireCatalogue = () => {
    if (!catalogue.current && catalogue.revision === 0n) throw new UnavailableError("the online service has not loaded the catalogue yet; retry shortly");
  };
  const groupFor = (project: string, ref: FeatureGroupRef | undefined) => {
    requireCatalogue();
    const group = catalogue.featureGroup(project, ref?.name ?? "", ref?.version ?? 0);
    if (!group) throw new NotFoundError(`feature group "${ref?.name}" version ${ref?.version} does not exist in project "${project}"`);
    if (!group.onlineEnabled) {
      throw new FailedPreconditionError(
        `feature group "${group.name}" version ${group.version} is not online-enabled; create a version with online_enabled to serve it`,
      );
    }
    return group;
  };
  const checkRows = (n: number) => {
    if (n > maxRows) throw new ResourceExhaustedError(`${n} rows in one request; the limit is ${maxRows} (GRANARY_ONLINE_MAX_ROWS)`);
  };

  return {
    async writeRows(req, ctx) {
      const group = groupFor(req.project, req.featureGroup);
      if (req.rows.case === "arrowIpc" && !replicaLog) {
        // Straight from Arrow's buffers to stored rows: the offline outbox's pushes come this way.
        const arrowRows = readArrowRows(req.rows.value, group);
        checkRows(arrowRows.rowCount);
        const now = BigInt(Date.now()) * 1000n;
        const stored = storedRowsOfArrow(group, arrowRows, now, eventTimeBounds(now, maxFutureEventTimeS));
        const { written, ignored } = await store.upsert(stored, durabilityOf(req.durability));
        recordWrite(req.project, group, stored, written, ignored);
        return { writtenCount: BigInt(written), ignoredCount: BigInt(ignored) };
      }
      const rows = req.rows.case === "arrowIpc" ? arrowToColumnarRows(req.rows.value, group) : req.rows.value!;
      checkRows(rows.rowCount);
      const now = BigInt(Date.now()) * 1000n;
      // Validated here in full, so a batch in the log is one every replica can apply.
      const stored = storedRowsOf(group, rows, now, eventTimeBounds(now, maxFutureEventTimeS));
      if (replicaLog) {
        const { sequence, written, ignored } = await replicaLog.write(group, req.project, "upsert", rows, ctx.signal);
        recordWrite(req.project, group, stored, written, ignored);
        return { writtenCount: BigInt(written), ignoredCount: BigInt(ignored), logSequence: sequence };
      }
      const { written, ignored } = await store.upsert(stored, durabilityOf(req.durability));
      recordWrite(req.project, group, stored, written, ignored);
      return { writtenCount: BigInt(written), ignoredCount: BigInt(ignored) };
    },

    async deleteRows(req, ctx) {
      const group = groupFor(req.project, req.featureGroup);
      checkRows(req.keys!.rowCount);
      const keys = keysOf(group, req.keys!);
      if (replicaLog) {
        const { sequence, deleted } = await replicaLog.write(group, req.project, "delete", req.keys!, ctx.signal);
        return { deletedCount: BigInt(deleted), logSequence: sequence };
      }
      const deleted = await store.delete(keys, durabilityOf(req.durability));
      return { deletedCount: BigInt(deleted) };
    },

    getFeatureVectors(req, ctx) {
      requireCatalogue();
      const entities = req.entities!;
      checkRows(entities.rowCount);
      const answer = () => {
        const plan = plans.plan(req.project, req.featureView!.name, req.featureView!.version);
        const input = lookupInput(plan, entities, req.options);
        const served = { model: "", modelVersion: 0, trainingDatasetVersion: input.transformations ? (req.options?.trainingDatasetVersion ?? 0) : 0 };
        return lookupInSpan(req.project, plan, entities.rowCount, () =>
          withLookup(plan, store, input, (result) => {
            featureLog?.offer(req.project, plan, entities, result, served);
            return featureVectorsResponse(result);
          }),
        );
      };
      const minSequence = req.options?.minLogSequence ?? 0n;
      // The hot path stays synchronous: only a read ahead of this replica waits.
      if (minSequence === 0n || caughtUp(minSequence)) return answer();
      return replicaLog!.caughtUp(minSequence, ctx.signal).then(answer);
    },

    async getModelFeatureVectors(req, ctx) {
      requireCatalogue();
      const entities = req.entities!;
      checkRows(entities.rowCount);
      const minSequence = req.options?.minLogSequence ?? 0n;
      if (minSequence > 0n && !caughtUp(minSequence)) await replicaLog!.caughtUp(minSequence, ctx.signal);
      const selector = req.modelVersion.case === "alias" ? { alias: req.modelVersion.value } : { version: req.modelVersion.value ?? 0 };
      const model = await models.resolve(req.project, req.model, selector);
      const plan = plans.plan(req.project, model.featureView.name, model.featureView.version);
      // The model's own training dataset parameterises its transformations, unless the caller asks otherwise.
      const options = { ...req.options, trainingDatasetVersion: req.options?.trainingDatasetVersion || model.trainingDatasetVersion } as FeatureVectorOptions;
      const served = { model: req.model, modelVersion: model.version, trainingDatasetVersion: options.trainingDatasetVersion ?? 0 };
      return lookupInSpan(req.project, plan, entities.rowCount, () =>
        withLookup(plan, store, lookupInput(plan, entities, options), (result) => {
          featureLog?.offer(req.project, plan, entities, result, served);
          return modelFeatureVectorsResponse(result, model);
        }),
      );
    },

    getReplicaStatus() {
      const counts = featureLog?.counts();
      const featureLogging = counts && { logged: BigInt(counts.logged), dropped: BigInt(counts.dropped), queued: BigInt(counts.queued) };
      if (!replicaLog) return { replica: "", log: "none", featureLogging };
      return { ...replicaLog.status(), log: "jetstream", featureLogging };
    },

    async findNeighbors(req, ctx) {
      requireCatalogue();
      const minSequence = req.options?.minLogSequence ?? 0n;
      if (minSequence > 0n && !caughtUp(minSequence)) await replicaLog!.caughtUp(minSequence, ctx.signal);
      const { count, keys, distances, vectors } = await findNeighbors(req, { store, source: neighbors ?? NO_INDEX, catalogue, plans });
      return { count, keys, distances, vectors };
    },

    async listDeadLetters(req) {
      if (!replicaLog)
        throw new FailedPreconditionError("this online service runs without a write log (GRANARY_NATS_URL is not set), so it has no dead letters");
      const letters = await replicaLog.listDeadLetters(req.project, req.limit || 100);
      return {
        deadLetters: letters.map((d) => ({
          sequence: d.sequence,
          subject: d.subject,
          reason: d.reason,
          originalSequence: d.originalSequence ?? 0n,
          fileTime: timestampFromDate(d.time),
          headers: d.headers,
          data: d.data,
        })),
      };
    },
  };

  /** Whether this replica has applied the log up to a read's minimum sequence; refuses one it can never reach. */
  function caughtUp(minSequence: bigint): boolean {
    if (!replicaLog) {
      throw new FailedPreconditionError(
        "min_log_sequence asks for a write-log position, but this online service runs without a write log (GRANARY_NATS_URL is not set); its writes are visible once acknowledged",
      );
    }
    return replicaLog.hasApplied(minSequence);
  }

  /** What a lookup of the plan reads from a request: its keys, checked against the view, and options. */
  function lookupInput(plan: ViewPlan, entities: EntityRows, options: FeatureVectorOptions | undefined): LookupInput {
    const n = entities.rowCount;
    const servingKeys = readers(entities.servingKeys, (name) => plan.servingKeyTypes.get(name), n, "serving key");
    for (const name of plan.requiredServingKeys) {
      if (!servingKeys.has(name)) {
        throw new InvalidArgumentError(`serving key "${name}" is missing; feature view "${plan.view.name}" needs ${plan.requiredServingKeys.join(", ")}`);
      }
    }
    const outputTypes = new Map(plan.outputs.map((o) => [o.column.name, o.column.type!]));
    const parameterTypes = new Map(plan.onDemand.flatMap((o) => [...o.parameters]));
    return {
      rowCount: n,
      servingKeys,
      passedFeatures: readers(entities.passedFeatures, (name) => outputTypes.get(name), n, "passed feature"),
      requestParameters: readers(entities.requestParameters, (name) => parameterTypes.get(name), n, "request parameter"),
      includeEventTimes: options?.includeEventTimes ?? false,
      includeInferenceHelpers: options?.includeInferenceHelpers ?? false,
      transformations: options?.untransformed ? undefined : plans.transformations(plan, options?.trainingDatasetVersion ?? 0),
      nowMicros: BigInt(Date.now()) * 1000n,
    };
  }
}

function readers(columns: EntityRows["servingKeys"], typeOf: (name: string) => DataType | undefined, rows: number, what: string): Map<string, ColumnReader> {
  const out = new Map<string, ColumnReader>();
  for (const column of columns) {
    const type = typeOf(column.name);
    if (!type) throw new InvalidArgumentError(`${what} "${column.name}" is not one the feature view knows`);
    out.set(column.name, columnReader(column.name, column.data, type, rows, what));
  }
  return out;
}

/** Without indexes every search scans the group's rows. */
const NO_INDEX: NeighborSource = { candidates: () => undefined };

function durabilityOf(d: Durability): StoreDurability {
  return d === Durability.COMMITTED ? "committed" : "flushed";
}
