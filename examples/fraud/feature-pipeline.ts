// Feature pipeline: the groups of the fraud example (SPEC.md) and their data. Transactions are the
// label group; card aggregates are computed from them; cards → accounts → banks and merchants
// are the dimension tables a snowflake join reaches through foreign keys.
import type { FeatureGroup, Project } from "@granary/client";
import { CardAggregator, WINDOWS } from "./card-aggregates.js";
import type { FraudData, Transaction } from "./data.js";

export interface FraudGroups {
  readonly transactions: FeatureGroup;
  readonly aggregates: FeatureGroup;
  readonly cards: FeatureGroup;
  readonly accounts: FeatureGroup;
  readonly banks: FeatureGroup;
  readonly merchants: FeatureGroup;
}

export interface FeaturePipelineResult {
  readonly groups: FraudGroups;
  /** Card state after the history: the stream continues from it. */
  readonly aggregator: CardAggregator;
  /** Rows inserted per group. */
  readonly rows: Record<keyof FraudGroups, number>;
}

/** Creates (or finds) the feature groups. Idempotent: an identical definition returns the existing version. */
export async function createFraudGroups(project: Project): Promise<FraudGroups> {
  const windowColumns = Object.keys(WINDOWS).flatMap((w) => [
    { name: `count_${w}`, type: "int32", description: `transactions in the ${w} up to and including the last one` },
    { name: `sum_${w}`, type: "double", description: `amount spent in the ${w} up to and including the last transaction` },
  ]);
  const [transactions, aggregates, cards, accounts, banks, merchants] = await Promise.all([
    project.getOrCreateFeatureGroup({
      name: "cc_trans_fg",
      description: "Credit-card transactions with their fraud label (the label group)",
      columns: [
        { name: "tid", type: "int64" },
        { name: "cc_num", type: "int64" },
        { name: "merchant_id", type: "int64" },
        { name: "amount", type: "double" },
        { name: "category", type: "string" },
        { name: "lat", type: "double", description: "where the card was used" },
        { name: "lon", type: "double" },
        { name: "datetime", type: "timestamp" },
        { name: "is_fraud", type: "bool" },
      ],
      primaryKey: ["tid"],
      eventTime: "datetime",
    }),
    project.getOrCreateFeatureGroup({
      name: "cc_trans_aggs_fg",
      description: "Per card, after each transaction: windowed counts and sums, and when and where it was last used",
      columns: [
        { name: "cc_num", type: "int64" },
        ...windowColumns,
        { name: "prev_ts_transaction", type: "timestamp" },
        { name: "prev_lat_transaction", type: "double" },
        { name: "prev_lon_transaction", type: "double" },
        { name: "event_time", type: "timestamp" },
      ],
      primaryKey: ["cc_num"],
      eventTime: "event_time",
      onlineEnabled: true,
    }),
    project.getOrCreateFeatureGroup({
      name: "card_fg",
      description: "Cards: owning account and expiry",
      columns: [
        { name: "cc_num", type: "int64" },
        { name: "account_id", type: "int64" },
        { name: "expiry_date", type: "date" },
        { name: "issued_at", type: "timestamp" },
      ],
      primaryKey: ["cc_num"],
      eventTime: "issued_at",
      onlineEnabled: true,
    }),
    project.getOrCreateFeatureGroup({
      name: "account_fg",
      description: "Accounts: bank, the holder's home, credit limit",
      columns: [
        { name: "account_id", type: "int64" },
        { name: "bank_id", type: "int64" },
        { name: "home_lat", type: "double" },
        { name: "home_lon", type: "double" },
        { name: "credit_limit", type: "double" },
        { name: "created_at", type: "timestamp" },
      ],
      primaryKey: ["account_id"],
      eventTime: "created_at",
      onlineEnabled: true,
    }),
    project.getOrCreateFeatureGroup({
      name: "bank_fg",
      description: "Issuing banks",
      columns: [
        { name: "bank_id", type: "int64" },
        { name: "name", type: "string" },
        { name: "country", type: "string" },
        { name: "credit_rating", type: "int32", description: "1 (weak) to 10 (strong)" },
        { name: "updated_at", type: "timestamp" },
      ],
      primaryKey: ["bank_id"],
      eventTime: "updated_at",
      onlineEnabled: true,
    }),
    project.getOrCreateFeatureGroup({
      name: "merchant_fg",
      description: "Merchants: category, location, chargeback rate",
      columns: [
        { name: "merchant_id", type: "int64" },
        { name: "name", type: "string" },
        { name: "category", type: "string" },
        { name: "lat", type: "double" },
        { name: "lon", type: "double" },
        { name: "chargeback_rate", type: "double" },
        { name: "updated_at", type: "timestamp" },
      ],
      primaryKey: ["merchant_id"],
      eventTime: "updated_at",
      onlineEnabled: true,
    }),
  ]);
  return { transactions, aggregates, cards, accounts, banks, merchants };
}

/** Creates the groups and backfills them from the history. */
export async function runFeaturePipeline(project: Project, data: FraudData, log: (line: string) => void): Promise<FeaturePipelineResult> {
  const groups = await createFraudGroups(project);
  const aggregator = new CardAggregator();
  const aggregates = aggregator.addAll(data.transactions);
  const inserts = [
    ["banks", data.banks],
    ["accounts", data.accounts],
    ["cards", data.cards],
    ["merchants", data.merchants],
    ["transactions", data.transactions],
    ["aggregates", aggregates],
  ] as const;
  const rows = {} as Record<keyof FraudGroups, number>;
  for (const [key, batch] of inserts) {
    const group = groups[key];
    const started = performance.now();
    const res = await group.insert(batch);
    rows[key] = res.rowsInserted + res.rowsUpdated;
    log(`  ${group.name.padEnd(17)} ${String(batch.length).padStart(7)} rows  (${Math.round(performance.now() - started)} ms)`);
  }
  return { groups, aggregator, rows };
}

/**
 * The streaming step: new transactions into the label group and the cards' new aggregates into
 * cc_trans_aggs_fg (offline and online), both in one round each.
 */
export async function ingestTransactions(groups: FraudGroups, aggregator: CardAggregator, transactions: readonly Transaction[]): Promise<void> {
  if (transactions.length === 0) return;
  const aggregates = aggregator.addAll(transactions);
  await Promise.all([groups.transactions.insert(transactions), groups.aggregates.insert(aggregates)]);
}
