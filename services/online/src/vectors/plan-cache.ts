import type { CatalogueCache } from "@granary/catalogue-cache";
import { FailedPreconditionError, NotFoundError } from "@granary/errors";
import { fitTransformations, type FittedTransformation } from "@granary/transformations";
import { compileViewPlan, type ViewPlan } from "./view-plan.js";

/**
 * Compiled view plans and fitted transformations, kept until the catalogue changes. Compiling a
 * plan (CEL included) happens once per view version, never per request.
 */
export class PlanCache {
  readonly #catalogue: CatalogueCache;
  readonly #plans = new Map<string, ViewPlan>();
  readonly #fitted = new Map<string, ReadonlyMap<string, FittedTransformation>>();

  constructor(catalogue: CatalogueCache) {
    this.#catalogue = catalogue;
  }

  /** Drops everything compiled (called on every catalogue change: changes are rare). */
  invalidate(): void {
    this.#plans.clear();
    this.#fitted.clear();
  }

  plan(project: string, name: string, version: number): ViewPlan {
    const view = this.#catalogue.featureView(project, name, version);
    if (!view) {
      throw new NotFoundError(`feature view "${name}"${version ? ` version ${version}` : ""} does not exist in project "${project}"`);
    }
    const key = `${project}/${name}/${view.version}`;
    let plan = this.#plans.get(key);
    if (!plan) {
      plan = compileViewPlan(view, (g, v) => this.#catalogue.featureGroup(project, g, v));
      this.#plans.set(key, plan);
    }
    return plan;
  }

  /** The view's transformations fitted on a training dataset's statistics (0: the latest). */
  transformations(plan: ViewPlan, datasetVersion: number): ReadonlyMap<string, FittedTransformation> | undefined {
    const view = plan.view;
    if (view.transformations.length === 0) return undefined;
    const dataset = this.#catalogue.trainingDataset(view.project, view.name, view.version, datasetVersion);
    if (!dataset) {
      throw new FailedPreconditionError(
        datasetVersion
          ? `feature view "${view.name}" version ${view.version} has no training dataset ${datasetVersion}`
          : `feature view "${view.name}" version ${view.version} has model-dependent transformations but no training dataset to take their statistics from; create one, or ask for untransformed values`,
      );
    }
    const key = `${view.project}/${view.name}/${view.version}/${dataset.version}`;
    let fitted = this.#fitted.get(key);
    if (!fitted) {
      fitted = fitTransformations(
        view.transformations.map((t) => ({ column: t.column, fn: t.function })),
        dataset.statistics,
      );
      this.#fitted.set(key, fitted);
    }
    return fitted;
  }
}
