// The quickstart's CLI steps through the TypeScript SDK (docs/quickstart.md), after `granary apply`
// and `granary ingest` of this folder: npx tsx examples/quickstart/quickstart.ts
import { connect } from "@granary/client";

// Addresses and API key as the CLI finds them: GRANARY_HOST or GRANARY_<SERVICE>_ADDRESS, then
// GRANARY_API_KEY, GRANARY_API_KEY_FILE or .granary/admin.key (written by `npm start`).
const granary = connect();
const project = await granary.project("quickstart", { create: false });
const view = await project.getFeatureView("fraud_features");

// A stored training dataset split at random; the view's transformations are fitted on its train split.
const { version, train, test } = await view.trainTestSplit({ testSize: 0.25, seed: 7 });
console.log(`training dataset ${version}: ${train.numRows} train rows, ${test.numRows} test rows`);

// The simplest model there is: fraud when the standardised amount is above a threshold.
const threshold = 1.5;
const amounts = test.getChild("amount")!.toArray() as Float64Array;
const labels = test.getChild("is_fraud")!.toArray() as boolean[];
const correct = labels.filter((fraud, i) => fraud === amounts[i]! > threshold).length;
const accuracy = correct / test.numRows;
console.log(`accuracy on the test split: ${accuracy.toFixed(3)}`);

// Online: the features of customer 102, with the amount of the transaction being scored.
const vector = await view.getFeatureVector({ customer_id: 102 }, { passedFeatures: { amount: 480, category: "online" }, trainingDatasetVersion: version });
const { amount, age, plan, avg_amount_30d } = vector;
console.log("feature vector:", { amount, age, plan, avg_amount_30d }, "fraud:", (amount as number) > threshold);

const draft = await project.modelRegistry.createModel({
  name: "fraud_threshold",
  framework: "rule",
  metrics: { accuracy },
  featureView: { name: view.name, version: view.version },
  trainingDatasetVersion: version,
});
const model = await draft.save({ "model.json": JSON.stringify({ feature: "amount", threshold }) });
console.log(`registered fraud_threshold version ${model.version}`);
granary.close();
