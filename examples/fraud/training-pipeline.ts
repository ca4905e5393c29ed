// Training pipeline: a reproducible train/test split from the feature view, a logistic regression
// fitted on it, evaluated on the test split, and registered with metrics, signature, an input
// example and lineage (view version + training dataset version); alias "production" moves to it.
import type { FeatureView, Project } from "@granary/client";
import { classificationMetrics, type ClassificationMetrics } from "./evaluation.js";
import type { FraudGroups } from "./feature-pipeline.js";
import { createFraudView, LOG_INPUTS, MODEL_INPUTS, modelInputSchema } from "./fraud-view.js";
import { fitLogisticRegression, predictProbability, type LogisticModel } from "./logistic-regression.js";
import { tableRows } from "./table-rows.js";

export const MODEL_NAME = "cc_fraud_model";
export const PRODUCTION = "production";

export interface TrainingOptions {
  readonly seed: number;
  readonly testSize?: number;
  readonly epochs?: number;
}

export interface TrainingResult {
  readonly view: FeatureView;
  readonly trainingDatasetVersion: number;
  readonly trainRows: number;
  readonly testRows: number;
  readonly fraudShare: number;
  /** On the test split. */
  readonly metrics: ClassificationMetrics;
  /** A model that always says "legitimate": its accuracy is the share of legitimate rows, its AUC 0.5. */
  readonly baseline: { readonly accuracy: number; readonly auc: number };
  readonly model: LogisticModel;
  readonly modelVersion: number;
}

export async function runTrainingPipeline(
  project: Project,
  groups: FraudGroups,
  options: TrainingOptions,
  log: (line: string) => void,
): Promise<TrainingResult> {
  const view = await createFraudView(project, groups);
  log(
    `  view ${view.name} v${view.version}: ${view.featureNames.length} features, label ${view.labels.join(", ")}, serving keys ${view.servingKeys
      .filter((k) => k.required)
      .map((k) => k.name)
      .join(", ")}`,
  );

  const split = await view.trainTestSplit({ testSize: options.testSize ?? 0.2, seed: options.seed, description: "fraud demo: random 80/20 split" });
  const train = tableRows(split.train);
  const test = tableRows(split.test);
  const label = (r: Record<string, unknown>) => r["is_fraud"] === true;
  const fraudShare = train.filter(label).length / Math.max(1, train.length);
  log(`  training dataset v${split.version}: ${train.length} train / ${test.length} test rows, ${(100 * fraudShare).toFixed(2)} % fraud`);

  const started = performance.now();
  const epochs = options.epochs ?? 400;
  const model = fitLogisticRegression(train, train.map(label), MODEL_INPUTS, { epochs, logInputs: LOG_INPUTS });
  const testLabels = test.map(label);
  const metrics = classificationMetrics(
    test.map((r) => predictProbability(model, r)),
    testLabels,
    model.threshold,
  );
  const baseline = { accuracy: testLabels.filter((l) => !l).length / Math.max(1, testLabels.length), auc: 0.5 };
  log(
    `  logistic regression (${MODEL_INPUTS.length} inputs, ${epochs} epochs) in ${Math.round(performance.now() - started)} ms, threshold ${model.threshold.toFixed(3)}`,
  );
  log(
    `  test: AUC ${metrics.auc.toFixed(3)} (baseline 0.5)  accuracy ${metrics.accuracy.toFixed(3)} (baseline ${baseline.accuracy.toFixed(3)})  precision ${metrics.precision.toFixed(3)}  recall ${metrics.recall.toFixed(3)}`,
  );

  const inputs = modelInputSchema(view);
  const draft = await project.modelRegistry.createModel({
    name: MODEL_NAME,
    description: "Credit-card fraud: logistic regression on card aggregates, merchant, bank and on-demand distance/time features",
    framework: "granary-demo-logistic-regression",
    metrics: { ...metrics, threshold: model.threshold, baseline_accuracy: baseline.accuracy, train_rows: train.length, test_rows: test.length },
    parameters: { epochs: String(epochs), learning_rate: "0.5", l2: "0.001", class_weight: "balanced", split_seed: String(options.seed) },
    schema: { inputs, outputs: [{ name: "fraud_probability", type: "double" }] },
    inputExample: test.slice(0, 3).map((r) => Object.fromEntries(MODEL_INPUTS.map((name) => [name, (r[name] ?? null) as number | bigint | null]))),
    featureView: { name: view.name, version: view.version },
    trainingDatasetVersion: split.version,
    tags: ["demo", "fraud"],
  });
  const ready = await draft.save({ "model.json": JSON.stringify(model, null, 2) });
  await project.modelRegistry.setAlias(MODEL_NAME, PRODUCTION, ready.version);
  log(`  registered ${MODEL_NAME} v${ready.version} (lineage: ${view.name} v${view.version}, training dataset v${split.version}) → alias ${PRODUCTION}`);

  return {
    view,
    trainingDatasetVersion: split.version,
    trainRows: train.length,
    testRows: test.length,
    fraudShare,
    metrics,
    baseline,
    model,
    modelVersion: ready.version,
  };
}
