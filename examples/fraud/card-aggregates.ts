// The card aggregates of cc_trans_aggs_fg, computed incrementally: after each transaction of a
// card, its windowed counts and sums and where and when it was last used. The same code serves
// the batch backfill (feature pipeline) and the stream (inference pipeline), so both write the
// same rows.
import type { Transaction } from "./data.js";

/** Aggregation windows, by column suffix. */
export const WINDOWS = { "10m": 10 * 60_000, "1h": 3_600_000, "1d": 86_400_000, "7d": 7 * 86_400_000 } as const;
export type WindowName = keyof typeof WINDOWS;

/**
 * Rows are stamped this long after the transaction they include: the stream processor writes them
 * after it has seen the transaction. A transaction's point-in-time join (inclusive) therefore finds
 * the card as it was before the transaction, exactly what the online store holds when the
 * transaction is scored. The generator keeps a card's transactions further apart than this.
 */
export const PROCESSING_LAG_MS = 1_000;

export interface CardAggregateRow {
  [column: string]: number | Date;
  cc_num: number;
  prev_ts_transaction: Date;
  prev_lat_transaction: number;
  prev_lon_transaction: number;
  event_time: Date;
}

interface Recent {
  readonly t: number;
  readonly amount: number;
}

/** Per-card state over the longest window; feed transactions in time order. */
export class CardAggregator {
  readonly #recent = new Map<number, Recent[]>();

  /** The card's aggregate row after this transaction. */
  add(tx: Transaction): CardAggregateRow {
    const t = tx.datetime.getTime();
    const kept = (this.#recent.get(tx.cc_num) ?? []).filter((r) => r.t > t - WINDOWS["7d"]);
    const last = kept[kept.length - 1];
    if (last && last.t > t) throw new RangeError(`card ${tx.cc_num}: transaction ${tx.tid} at ${tx.datetime.toISOString()} is older than the card's last one`);
    kept.push({ t, amount: tx.amount });
    this.#recent.set(tx.cc_num, kept);
    const row: CardAggregateRow = {
      cc_num: tx.cc_num,
      prev_ts_transaction: tx.datetime,
      prev_lat_transaction: tx.lat,
      prev_lon_transaction: tx.lon,
      event_time: new Date(t + PROCESSING_LAG_MS),
    };
    for (const [name, ms] of Object.entries(WINDOWS)) {
      const inWindow = kept.filter((r) => r.t > t - ms);
      row[`count_${name}`] = inWindow.length;
      row[`sum_${name}`] = Math.round(inWindow.reduce((s, r) => s + r.amount, 0) * 100) / 100;
    }
    return row;
  }

  /** Rows for transactions in time order. */
  addAll(transactions: readonly Transaction[]): CardAggregateRow[] {
    return transactions.map((tx) => this.add(tx));
  }
}
