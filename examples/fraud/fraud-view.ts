// The feature view the fraud model is trained on and served from: transactions (the label group)
// joined point-in-time to card aggregates and merchants, and through cards → accounts → banks
// (a snowflake of nested joins); on-demand features in CEL computed from the request (where and
// when the card is used) and the joined values, the same expression online and offline; the
// amount min-max scaled with the training split's statistics.
import { typeName, type FeatureView, type Project } from "@granary/client";
import { WINDOWS } from "./card-aggregates.js";
import type { FraudGroups } from "./feature-pipeline.js";

export const VIEW_NAME = "cc_fraud_fv";

/** The model's inputs: view columns, all numeric. */
export const MODEL_INPUTS = [
  "amount",
  ...Object.keys(WINDOWS).flatMap((w) => [`count_${w}`, `sum_${w}`]),
  "merchant_chargeback_rate",
  "card_account_credit_limit",
  "card_account_bank_credit_rating",
  "distance_from_prev_km",
  "hours_since_prev",
  "speed_kmh",
  "distance_from_home_km",
  "days_to_expiry",
] as const;

/** Inputs with a heavy right tail: the model takes their log1p. */
export const LOG_INPUTS = ["sum_10m", "sum_1h", "sum_1d", "sum_7d", "distance_from_prev_km", "hours_since_prev", "speed_kmh", "distance_from_home_km"];

const SECONDS_SINCE_PREV = "double(int(datetime) - int(prev_ts_transaction))";
const TIME = [{ name: "datetime", type: "timestamp" }];

export async function createFraudView(project: Project, groups: FraudGroups): Promise<FeatureView> {
  const bank = groups.banks.select(["credit_rating"]);
  const account = groups.accounts.select(["home_lat", "home_lon", "credit_limit"]).join(bank, { on: ["bank_id"], prefix: "bank_" });
  const card = groups.cards.select(["expiry_date"]).join(account, { on: ["account_id"], prefix: "account_" });
  const query = groups.transactions
    .select(["amount", "category", "lat", "lon", "is_fraud"])
    .join(groups.aggregates.selectFeatures(), { on: ["cc_num"] })
    .join(groups.merchants.select(["chargeback_rate"]), { on: ["merchant_id"], prefix: "merchant_" })
    .join(card, { on: ["cc_num"], prefix: "card_" });
  return project.getOrCreateFeatureView({
    name: VIEW_NAME,
    description: "Is this card transaction fraud? Served by cc_num and merchant_id; where and when the card is used come with the request",
    query,
    labels: ["is_fraud"],
    transformations: { amount: "min_max_scaler" },
    // Where the card is used (lat, lon) is a feature of the transaction, passed by the caller online.
    // When is the request parameter datetime: given by the caller online, read offline from the
    // label group's column of that name (its event time).
    onDemand: [
      { name: "distance_from_prev_km", type: "double", expression: "geo.haversine_km(lat, lon, prev_lat_transaction, prev_lon_transaction)" },
      { name: "hours_since_prev", type: "double", expression: `${SECONDS_SINCE_PREV} / 3600.0`, requestParameters: TIME },
      {
        name: "speed_kmh",
        type: "double",
        expression: `geo.haversine_km(lat, lon, prev_lat_transaction, prev_lon_transaction) / math.max(${SECONDS_SINCE_PREV} / 3600.0, 0.01)`,
        requestParameters: TIME,
      },
      { name: "distance_from_home_km", type: "double", expression: "geo.haversine_km(lat, lon, card_account_home_lat, card_account_home_lon)" },
      // Dates are days since 1970-01-01 in CEL, timestamps convert to seconds with int().
      { name: "days_to_expiry", type: "double", expression: "double(card_expiry_date - int(datetime) / 86400)", requestParameters: TIME },
    ],
  });
}

/** The model signature's inputs: the view's names and types. */
export function modelInputSchema(view: FeatureView): { name: string; type: string }[] {
  return MODEL_INPUTS.map((name) => {
    const column = view.definition.outputColumns.find((c) => c.name === name);
    if (!column) throw new Error(`view ${view.name} has no column "${name}" (columns: ${view.columns.join(", ")})`);
    // Model-dependent transformations produce doubles.
    return { name, type: name === "amount" ? "double" : typeName(column.type) };
  });
}
