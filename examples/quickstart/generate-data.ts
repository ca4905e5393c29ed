// Writes customers.csv and transactions.csv of the quickstart, the same bytes at every run (a
// seeded generator): npx tsx examples/quickstart/generate-data.ts
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

let seed = 20250101;
/** mulberry32: a small seeded generator, so the data never changes between runs. */
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const money = (n: number) => (Math.round(n * 100) / 100).toFixed(2);

const CUSTOMERS = 40;
const TRANSACTIONS = 400;
const START = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;

const customers = Array.from({ length: CUSTOMERS }, (_, i) => {
  const tenure = Math.floor(random() * 60);
  return {
    id: 101 + i,
    age: 18 + Math.floor(random() * 60),
    plan: pick(["basic", "basic", "plus", "premium"]),
    tenure,
    avg: 20 + random() * 80,
    count: 5 + Math.floor(random() * 40),
  };
});

const dir = fileURLToPath(new URL(".", import.meta.url));
writeFileSync(
  `${dir}customers.csv`,
  [
    "customer_id,age,plan,tenure_months,avg_amount_30d,tx_count_30d,updated_at",
    ...customers.map((c) => `${c.id},${c.age},${c.plan},${c.tenure},${money(c.avg)},${c.count},2025-01-01T00:00:00Z`),
  ].join("\n") + "\n",
);

const categories = ["grocery", "restaurant", "travel", "online", "fuel", "entertainment"];
const transactions: string[] = ["tx_id,customer_id,amount,category,ts,is_fraud"];
for (let i = 0; i < TRANSACTIONS; i++) {
  const c = pick(customers);
  const suspicious = random() < 0.08;
  // Fraud: amounts far above the customer's usual spend, mostly online or travel, more often on new accounts.
  const amount = suspicious ? c.avg * (4 + random() * 6) : c.avg * (0.2 + random() * 1.6);
  const category = suspicious && random() < 0.7 ? pick(["online", "travel"]) : pick(categories);
  const fraud = suspicious && (c.tenure < 24 || random() < 0.5);
  const seconds = Math.floor((START + DAY + (i / TRANSACTIONS) * 89 * DAY) / 1000) + Math.floor(random() * 3600);
  const ts = new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
  transactions.push(`${1001 + i},${c.id},${money(amount)},${category},${ts},${fraud}`);
}
writeFileSync(`${dir}transactions.csv`, transactions.join("\n") + "\n");
