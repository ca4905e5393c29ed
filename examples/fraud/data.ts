// A seeded synthetic credit-card world (no downloads): banks, accounts, cards, merchants, and
// transactions with a fraud pattern a small model can learn. Card holders shop near home, a few
// of them travel; a compromised card sees a burst of large purchases minutes apart, usually far
// from home and from the previous purchase, at risky merchants. Legitimate travel, big-ticket
// purchases and fraud near home keep the problem from being trivially separable.
import { gaussian, seededRandom } from "../shared/demo-runtime.js";

export interface FraudDataSize {
  readonly cards: number;
  readonly merchants: number;
  /** Days of history (the feature and training pipelines' data). */
  readonly days: number;
  /** About how many transactions the history holds (each card shops at its own rate around transactions / (cards · days) a day). */
  readonly transactions: number;
  /** New transactions after the history: the stream the inference pipeline scores. */
  readonly stream: number;
  readonly seed: number;
}

// Row shapes are type aliases, not interfaces, so they fit the SDK's Row (an index signature).
export type Bank = {
  bank_id: number;
  name: string;
  country: string;
  credit_rating: number;
  updated_at: Date;
};

export type Account = {
  account_id: number;
  bank_id: number;
  home_lat: number;
  home_lon: number;
  credit_limit: number;
  created_at: Date;
};

export type Card = {
  cc_num: number;
  account_id: number;
  /** Last valid day (UTC midnight). */
  expiry_date: Date;
  issued_at: Date;
};

export type Merchant = {
  merchant_id: number;
  name: string;
  category: string;
  lat: number;
  lon: number;
  chargeback_rate: number;
  updated_at: Date;
};

export type Transaction = {
  tid: number;
  cc_num: number;
  merchant_id: number;
  amount: number;
  category: string;
  /** Where the card was used (the merchant's terminal). */
  lat: number;
  lon: number;
  datetime: Date;
  is_fraud: boolean;
};

export interface FraudData {
  readonly banks: Bank[];
  readonly accounts: Account[];
  readonly cards: Card[];
  readonly merchants: Merchant[];
  /** The history, in time order. */
  readonly transactions: Transaction[];
  /** The stream after the history, in time order. */
  readonly stream: Transaction[];
  readonly start: Date;
  readonly end: Date;
}

export const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** The history starts here; every run with the same seed produces the same data. */
export const HISTORY_START = new Date(Date.UTC(2025, 2, 1));
/** A card is never used twice within this gap (keeps "the previous transaction" well defined). */
export const MIN_GAP_MS = MINUTE_MS;

interface City {
  name: string;
  lat: number;
  lon: number;
  /** Card holders live here. */
  home: boolean;
}

const CITIES: readonly City[] = [
  { name: "Stockholm", lat: 59.3293, lon: 18.0686, home: true },
  { name: "Gothenburg", lat: 57.7089, lon: 11.9746, home: true },
  { name: "Malmo", lat: 55.605, lon: 13.0038, home: true },
  { name: "Oslo", lat: 59.9139, lon: 10.7522, home: true },
  { name: "Copenhagen", lat: 55.6761, lon: 12.5683, home: true },
  { name: "Helsinki", lat: 60.1699, lon: 24.9384, home: true },
  { name: "Berlin", lat: 52.52, lon: 13.405, home: false },
  { name: "London", lat: 51.5072, lon: -0.1276, home: false },
  { name: "New York", lat: 40.7128, lon: -74.006, home: false },
  { name: "Lagos", lat: 6.5244, lon: 3.3792, home: false },
  { name: "Bangkok", lat: 13.7563, lon: 100.5018, home: false },
  { name: "Sao Paulo", lat: -23.5505, lon: -46.6333, home: false },
];

interface Category {
  name: string;
  /** Median amount of a legitimate purchase. */
  median: number;
  /** Share of legitimate purchases. */
  weight: number;
  /** Share of fraudulent purchases. */
  fraudWeight: number;
  chargebackRate: number;
}

const CATEGORIES: readonly Category[] = [
  { name: "grocery", median: 35, weight: 30, fraudWeight: 2, chargebackRate: 0.002 },
  { name: "restaurant", median: 28, weight: 22, fraudWeight: 2, chargebackRate: 0.003 },
  { name: "transport", median: 18, weight: 18, fraudWeight: 3, chargebackRate: 0.004 },
  { name: "clothing", median: 60, weight: 12, fraudWeight: 10, chargebackRate: 0.008 },
  { name: "health", median: 25, weight: 8, fraudWeight: 1, chargebackRate: 0.002 },
  { name: "electronics", median: 180, weight: 5, fraudWeight: 35, chargebackRate: 0.02 },
  { name: "travel", median: 250, weight: 3, fraudWeight: 20, chargebackRate: 0.015 },
  { name: "jewelry", median: 300, weight: 2, fraudWeight: 27, chargebackRate: 0.025 },
];

const BANK_NAMES = ["Nordbank", "Fjord Savings", "Baltic Trust", "Aurora Bank", "Kronan", "Sparkassen Nord", "Viking Credit", "Polar Mutual"];

/** Generates the whole world for a size; the same size and seed give the same data. */
export function generateFraudData(size: FraudDataSize): FraudData {
  if (size.cards < 10 || size.merchants < CITIES.length || size.days < 2 || size.transactions < size.cards) {
    throw new RangeError(`fraud data needs at least 10 cards, ${CITIES.length} merchants (one per city), 2 days and a transaction per card`);
  }
  const random = seededRandom(size.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const weighted = <T>(items: readonly T[], weight: (t: T) => number): T => {
    const total = items.reduce((s, t) => s + weight(t), 0);
    let r = random() * total;
    for (const t of items) {
      r -= weight(t);
      if (r <= 0) return t;
    }
    return items[items.length - 1]!;
  };
  const start = HISTORY_START;
  const end = new Date(start.getTime() + size.days * DAY_MS);
  const before = (days: number) => new Date(start.getTime() - days * DAY_MS);

  const banks: Bank[] = Array.from({ length: Math.min(BANK_NAMES.length, Math.max(3, Math.round(size.cards / 100))) }, (_, i) => ({
    bank_id: i + 1,
    name: BANK_NAMES[i]!,
    country: pick(["SE", "NO", "DK", "FI"]),
    credit_rating: 1 + Math.floor(random() * 10),
    updated_at: before(30),
  }));

  const homeCities = CITIES.filter((c) => c.home);
  const accountCount = Math.ceil(size.cards / 1.4);
  const accountCity = new Map<number, City>();
  const accounts: Account[] = Array.from({ length: accountCount }, (_, i) => {
    const city = pick(homeCities);
    accountCity.set(i + 1, city);
    return {
      account_id: i + 1,
      bank_id: pick(banks).bank_id,
      home_lat: round(city.lat + gaussian(random, 0, 0.04), 5),
      home_lon: round(city.lon + gaussian(random, 0, 0.06), 5),
      credit_limit: 1000 * (2 + Math.floor(random() * 14)),
      created_at: before(400 + Math.floor(random() * 2000)),
    };
  });

  const cards: Card[] = Array.from({ length: size.cards }, (_, i) => ({
    // 16-digit numbers that stay exact as JavaScript numbers (below 2^53).
    cc_num: 4_000_000_000_000_000 + (i + 1) * 7_919,
    account_id: i < accountCount ? i + 1 : 1 + Math.floor(random() * accountCount),
    expiry_date: new Date(Math.floor((start.getTime() + (20 + random() * 1400) * DAY_MS) / DAY_MS) * DAY_MS),
    issued_at: before(100 + Math.floor(random() * 900)),
  }));

  // Merchants spread over every city, categories rotating so each city gets a mix.
  const merchants: Merchant[] = [];
  const byCity = new Map<City, Merchant[]>();
  for (let k = 0; merchants.length < size.merchants; k++) {
    CITIES.forEach((city, i) => {
      if (merchants.length >= size.merchants) return;
      const c = CATEGORIES[(k + i) % CATEGORIES.length]!;
      const id = merchants.length + 1;
      const m: Merchant = {
        merchant_id: id,
        name: `${c.name}_${city.name.toLowerCase().replace(/\s+/g, "_")}_${id}`,
        category: c.name,
        lat: round(city.lat + gaussian(random, 0, 0.03), 5),
        lon: round(city.lon + gaussian(random, 0, 0.05), 5),
        chargeback_rate: round(c.chargebackRate * Math.exp(gaussian(random, 0, 0.5)), 5),
        updated_at: before(30),
      };
      merchants.push(m);
      byCity.set(city, [...(byCity.get(city) ?? []), m]);
    });
  }
  const category = new Map(CATEGORIES.map((c) => [c.name, c]));
  // Fraudsters (and card holders on a spree) favour risky, expensive merchants.
  const merchantIn = (city: City, risky: boolean): Merchant => {
    const local = byCity.get(city)!;
    return weighted(local, (m) => (risky ? category.get(m.category)!.fraudWeight * (m.chargeback_rate * 100) : category.get(m.category)!.weight));
  };
  const amountAt = (m: Merchant, risky: boolean): number => {
    const median = category.get(m.category)!.median * (risky ? 2.5 : 1);
    return round(Math.max(1, median * Math.exp(gaussian(random, 0, risky ? 0.8 : 0.7))), 2);
  };

  const bankRating = new Map(banks.map((b) => [b.bank_id, b.credit_rating]));
  const rate = size.transactions / (size.cards * size.days) / DAY_MS;
  // The stream's window: long enough for `stream` transactions at the history's pace.
  const streamMs = Math.max(2 * 3_600_000, (size.stream / Math.max(1, size.transactions / size.days)) * DAY_MS * 1.5);
  const history: Omit<Transaction, "tid">[] = [];
  const live: Omit<Transaction, "tid">[] = [];

  for (const card of cards) {
    const home = accountCity.get(card.account_id)!;
    const bank = accounts[card.account_id - 1]!.bank_id;
    const events: Omit<Transaction, "tid">[] = [];
    const purchase = (t: number, city: City, fraud: boolean) => {
      // Now and then a legitimate big-ticket purchase looks like fraud.
      const risky = fraud || random() < 0.03;
      const m = merchantIn(city, risky);
      events.push({
        cc_num: card.cc_num,
        merchant_id: m.merchant_id,
        amount: amountAt(m, risky),
        category: m.category,
        lat: m.lat,
        lon: m.lon,
        datetime: new Date(t),
        is_fraud: fraud,
      });
    };
    // A trip: a few days in another city, purchases there are legitimate.
    const trip =
      random() < 0.2
        ? { from: start.getTime() + random() * (size.days - 1) * DAY_MS, days: 1 + random() * 4, city: pick(CITIES.filter((c) => c !== home)) }
        : undefined;
    const cardRate = rate * (0.4 + random() * 1.2);
    for (let t = start.getTime() + exponential(random) / cardRate; t < end.getTime() + streamMs; t += exponential(random) / cardRate) {
      const away = trip && t >= trip.from && t < trip.from + trip.days * DAY_MS;
      purchase(t, away ? trip.city : home, false);
    }
    // Cards at banks with weak security are compromised more often; some in the stream's window.
    const risk = (11 - bankRating.get(bank)!) / 5.5;
    const bursts = [
      random() < 0.1 * risk ? start.getTime() + random() * size.days * DAY_MS : undefined,
      random() < 0.015 * risk ? end.getTime() + random() * streamMs : undefined,
    ];
    for (const at of bursts) {
      if (at === undefined) continue;
      const city = random() < 0.65 ? pick(CITIES.filter((c) => c !== home)) : home;
      let t = at;
      for (let k = 1 + Math.floor(random() * 5); k > 0; k--) {
        purchase(t, city, true);
        t += (1 + random() * 9) * MINUTE_MS;
      }
    }
    events.sort((a, b) => a.datetime.getTime() - b.datetime.getTime());
    let last = -Infinity;
    for (const e of events) {
      const t = Math.max(Math.floor(e.datetime.getTime() / 1000) * 1000, last + MIN_GAP_MS);
      e.datetime = new Date(t);
      last = t;
      (t < end.getTime() ? history : live).push(e);
    }
  }

  const byTime = (a: Omit<Transaction, "tid">, b: Omit<Transaction, "tid">) => a.datetime.getTime() - b.datetime.getTime() || a.cc_num - b.cc_num;
  history.sort(byTime);
  live.sort(byTime);
  const transactions = history.map((t, i) => ({ tid: i + 1, ...t }));
  const stream = live.slice(0, size.stream).map((t, i) => ({ tid: transactions.length + i + 1, ...t }));
  return { banks, accounts, cards, merchants, transactions, stream, start, end };
}

function exponential(random: () => number): number {
  return -Math.log(Math.max(random(), 1e-12));
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
