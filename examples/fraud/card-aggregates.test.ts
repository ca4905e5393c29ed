import { describe, expect, it } from "@jest/globals";
import { CardAggregator, PROCESSING_LAG_MS } from "./card-aggregates.js";
import { generateFraudData, MIN_GAP_MS, type Transaction } from "./data.js";

const at = (minutes: number) => new Date(Date.UTC(2025, 2, 1) + minutes * 60_000);
const tx = (tid: number, cc_num: number, minutes: number, amount: number): Transaction => ({
  tid,
  cc_num,
  merchant_id: 1,
  amount,
  category: "grocery",
  lat: 59 + tid,
  lon: 18,
  datetime: at(minutes),
  is_fraud: false,
});

describe("CardAggregator", () => {
  it("counts and sums each window up to and including the transaction, per card", () => {
    const agg = new CardAggregator();
    agg.add(tx(1, 7, 0, 10));
    agg.add(tx(2, 8, 1, 1000));
    agg.add(tx(3, 7, 30, 20));
    const row = agg.add(tx(4, 7, 35, 5));
    expect(row).toMatchObject({ cc_num: 7, count_10m: 2, sum_10m: 25, count_1h: 3, sum_1h: 35, count_1d: 3, count_7d: 3 });
    // Windows slide: eight days later only the new one counts in the week.
    expect(agg.add(tx(5, 7, 8 * 24 * 60, 1))).toMatchObject({ count_1d: 1, count_7d: 1, sum_7d: 1 });
  });

  it("remembers where and when the card was used, stamped after the transaction", () => {
    const row = new CardAggregator().add(tx(3, 7, 30, 20));
    expect(row.prev_ts_transaction).toEqual(at(30));
    expect(row.prev_lat_transaction).toBe(62);
    expect(row.event_time.getTime()).toBe(at(30).getTime() + PROCESSING_LAG_MS);
  });

  it("refuses a card's transactions out of order", () => {
    const agg = new CardAggregator();
    agg.add(tx(1, 7, 10, 1));
    expect(() => agg.add(tx(2, 7, 5, 1))).toThrow(/older than the card's last one/);
  });
});

describe("generateFraudData", () => {
  const size = { cards: 40, merchants: 24, days: 4, transactions: 400, stream: 30, seed: 3 };

  it("is deterministic for a seed", () => {
    expect(generateFraudData(size)).toEqual(generateFraudData(size));
    expect(generateFraudData({ ...size, seed: 4 }).transactions).not.toEqual(generateFraudData(size).transactions);
  });

  it("keeps a card's uses further apart than the aggregates' lag, so the point-in-time join sees the card before each transaction", () => {
    expect(MIN_GAP_MS).toBeGreaterThan(PROCESSING_LAG_MS);
    const data = generateFraudData(size);
    const last = new Map<number, number>();
    for (const t of [...data.transactions, ...data.stream]) {
      const before = last.get(t.cc_num);
      if (before !== undefined) expect(t.datetime.getTime() - before).toBeGreaterThanOrEqual(MIN_GAP_MS);
      last.set(t.cc_num, t.datetime.getTime());
    }
    expect(data.stream).toHaveLength(30);
    expect(data.stream[0]!.datetime.getTime()).toBeGreaterThanOrEqual(data.end.getTime());
    expect(data.transactions.some((t) => t.is_fraud)).toBe(true);
  });
});
