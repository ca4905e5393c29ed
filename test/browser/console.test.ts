// The web console (apps/console) in a real browser: Debian's chromium, driven by playwright-core,
// against the suite holding the fraud demo's data. Each page is opened as a user would reach it
// (signing in, then the navigation), its real content asserted against what the SDK reads from the
// same suite, and screenshotted at 1280×800 and 420×800 into test-output/browser/.
//
// CI installs chromium (.ci/run) and requires this test; on a machine without it, it reports
// "not run" and says why.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { MODEL_NAME, PRODUCTION } from "../../examples/fraud/training-pipeline.js";
import { VIEW_NAME } from "../../examples/fraud/fraud-view.js";
import { CHROMIUM, CHROMIUM_APT_LINE, chromiumMissing, launchChromium } from "./chromium.js";
import { startFraudSuite, type FraudSuite } from "./fraud-suite.js";
import { clearScreenshots, SCREENSHOT_DIR, screenshots, WIDE } from "./screenshots.js";

const GROUP = "cc_trans_fg";
/** A numeric feature of GROUP with a histogram. */
const FEATURE = "amount";

const missing = chromiumMissing();
const required = Boolean(process.env["CI"]);
if (missing !== undefined && !required) console.warn(`not run: the browser tests need Debian's chromium (${missing}; CI installs it: ${CHROMIUM_APT_LINE})`);
// Under CI a missing chromium is one failing test (below), not eight failures about an absent page.
const describeIfChromium = missing === undefined ? describe : describe.skip;
if (missing !== undefined && required) {
  it("chromium is installed (CI=true requires it)", () => {
    throw new Error(`CI=true needs ${CHROMIUM} for the browser tests: ${missing}; run '${CHROMIUM_APT_LINE}'`);
  });
}

let fraud: FraudSuite | undefined;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let consoleUrl: string;
/** What the browser reported going wrong: console errors and uncaught exceptions. */
const pageErrors: string[] = [];

beforeAll(async () => {
  if (missing !== undefined) return;
  clearScreenshots();
  // The suite and the browser start together; whichever fails, the other is stopped in afterAll.
  const [started, launched] = await Promise.allSettled([startFraudSuite("browser_console"), launchChromium()]);
  if (started.status === "fulfilled") fraud = started.value;
  if (launched.status === "fulfilled") browser = launched.value;
  if (started.status === "rejected") throw started.reason;
  if (launched.status === "rejected") throw launched.reason;
  const url = fraud!.suite.console?.url;
  if (url === undefined) throw new Error("the suite started no console (GRANARY_CONSOLE_PORT=off, or a service without its HTTP port)");
  consoleUrl = url;
  const home = await fetch(consoleUrl);
  if (home.status !== 200) throw new Error(`the console answers ${home.status} (is it built? npm run build:console): ${(await home.text()).slice(0, 300)}`);
  context = await browser!.newContext({ viewport: WIDE });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (err) => pageErrors.push(`uncaught: ${err.message}`));
  page.on("console", (m) => {
    // A wrong key is meant to fail; the browser logs the 401 of that call as a console error.
    if (m.type() === "error" && !/status of 401/.test(m.text())) pageErrors.push(m.text());
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await fraud?.stop();
}, 60_000);

const byTestId = (testId: string, from: Page | Locator = page): Locator => from.locator(`[data-testid="${testId}"]`);

/** The list item (`<testId>`) whose link names `name`, clicked. */
async function open(testId: string, name: string): Promise<void> {
  await byTestId(testId).filter({ hasText: name }).first().locator("a").first().click();
}

/**
 * A test on the shared page: when it fails, the page is saved as failed-<n>.png and what it shows
 * is added to the error, so a CI failure says what the browser saw.
 */
function pageTest(name: string, body: () => Promise<void>): void {
  it(name, async () => {
    try {
      await body();
    } catch (err) {
      const n = name.replace(/[^a-z0-9]+/gi, "-").slice(0, 40);
      const seen = await page
        .locator("body")
        .innerText({ timeout: 1_000 })
        .catch(() => "(unreadable)");
      await page.screenshot({ path: `${SCREENSHOT_DIR}failed-${n}.png` }).catch(() => {});
      throw new Error(
        `${(err as Error).message}\nat ${page.url()} the page shows:\n${seen.length > 3_000 ? `${seen.slice(0, 1_000)}\n…\n${seen.slice(-2_000)}` : seen}\nbrowser errors: ${pageErrors.join("; ") || "none"}`,
      );
    }
  });
}

async function nav(section: "projects" | "groups" | "views" | "datasets" | "models" | "lineage"): Promise<void> {
  await byTestId(`nav-${section}`).click();
}

/** The project's home, loaded afresh (the key stays in the tab's session storage): each test starts there. */
async function projectHome(): Promise<void> {
  await page.goto(`${consoleUrl}/projects/${fraud!.summary.project}`);
  await byTestId("search-input").waitFor();
}

describeIfChromium("the web console in chromium", () => {
  pageTest("refuses a wrong API key with a message, then signs in with the admin key from the key file", async () => {
    await page.goto(consoleUrl);
    await byTestId("login-form").waitFor();
    await screenshots(page, "login");
    await byTestId("login-key").fill(`grn_0123456789abcdef_${"A".repeat(43)}`);
    await byTestId("login-submit").click();
    const error = byTestId("error-message");
    await error.waitFor();
    expect(await error.textContent()).toMatch(/not accepted/);
    await screenshots(page, "login-wrong-key");

    await byTestId("login-key").fill(fraud!.adminKey);
    await byTestId("login-submit").click();
    await byTestId("nav").waitFor();
    expect(await byTestId("login-form").count()).toBe(0);
    // Signed in at /, the console goes on to the projects.
    await byTestId("project-list").waitFor();
  });

  pageTest("lists the projects and finds the fraud demo's groups by search", async () => {
    // Loaded afresh (the key stays in this tab's session storage), whatever the test before left.
    await page.goto(`${consoleUrl}/projects`);
    await byTestId("project-list").waitFor();
    expect(await byTestId("project-item").allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining(fraud!.summary.project)]));
    await screenshots(page, "projects");
    await open("project-item", fraud!.summary.project);
    await byTestId("search-input").fill("cc_trans");
    await byTestId("search-input").press("Enter");
    await byTestId("search-result").filter({ hasText: GROUP }).first().waitFor();
    await screenshots(page, "search");
  });

  pageTest("shows a feature group: its schema, commits, freshness, sample rows, and a histogram with one bar per bin", async () => {
    await projectHome();
    const group = await fraud!.project.getFeatureGroup(GROUP);
    const stats = await group.statistics();
    const bins = stats?.columns.find((c) => c.column === FEATURE)?.histogram.length ?? 0;
    expect(bins).toBeGreaterThan(1);

    await nav("groups");
    await byTestId("group-list").waitFor();
    await open("group-item", GROUP);
    await byTestId("group-schema").waitFor();
    expect(await byTestId("schema-row").count()).toBe(group.columns.length);
    await byTestId("commit-item").first().waitFor();
    await byTestId("freshness").waitFor();
    await byTestId("sample-rows").waitFor();
    await byTestId("validation-reports").waitFor();
    const histogram = page.locator(`[data-testid="feature-histogram"][data-feature="${FEATURE}"]`);
    // Plot is loaded on first use, then draws every bar at once.
    await histogram.locator("svg rect").first().waitFor();
    expect(await histogram.locator("svg rect").count()).toBe(bins);
    await screenshots(page, "group");
    await histogram.scrollIntoViewIfNeeded();
    await screenshots(page, "group-statistics");
  });

  pageTest("shows a feature view's join tree and columns, and looks up a known key online", async () => {
    await projectHome();
    const view = await fraud!.project.getFeatureView(VIEW_NAME, fraud!.summary.training.view.version);
    await nav("views");
    await byTestId("view-list").waitFor();
    await open("view-item", VIEW_NAME);
    await byTestId("join-tree").waitFor();
    await byTestId("view-columns").waitFor();
    // The last transaction of the history: its card and merchant have rows online.
    const known = fraud!.data.transactions.at(-1)!;
    const form = byTestId("lookup-form");
    const at = new Date(fraud!.data.stream.at(-1)!.datetime.getTime() + 3_600_000);
    // The required keys (cc_num, merchant_id) from the transaction; the optional ones (deeper joins' keys) are left empty.
    const keys = Object.fromEntries(view.servingKeys.filter((k) => k.required).map((k) => [k.name, known[k.name as keyof typeof known]]));
    for (const [name, key] of Object.entries(keys)) await byTestId(`lookup-key-${name}`, form).fill(String(key));
    const params = await byTestId("lookup-form").locator('[data-testid^="lookup-param-"]').all();
    for (const param of params) await param.fill(at.toISOString());
    await byTestId("lookup-submit").click();
    await page.locator('[data-testid="lookup-result"], .lookup [data-testid="error-message"]').first().waitFor();
    expect(await page.locator('.lookup [data-testid="error-message"]').allInnerTexts()).toEqual([]);
    const value = page.locator('[data-testid="lookup-value"][data-column="count_7d"]');
    expect(await value.getAttribute("data-status")).toBe("present");
    // The value the SDK reads for the same key over gRPC.
    const [expected] = await view.getFeatureVectors([keys], { requestParameters: [{ datetime: at }] });
    expect(expected!["count_7d"]).toBeGreaterThan(0);
    expect(Number(await value.textContent())).toBe(expected!["count_7d"]);
    await byTestId("lookup-result").scrollIntoViewIfNeeded();
    await screenshots(page, "view-lookup");
    await byTestId("join-tree").scrollIntoViewIfNeeded();
    await screenshots(page, "view");
  });

  pageTest("shows a view's feature logging and the demo's drift report, feature by feature", async () => {
    const drift = fraud!.summary.inference.drift!;
    await projectHome();
    await nav("views");
    await byTestId("view-list").waitFor();
    await open("view-item", VIEW_NAME);
    const section = byTestId("monitoring-section");
    await byTestId("drift-reports", section).waitFor();
    expect(await byTestId("logging-group", section).innerText()).toBe(`${VIEW_NAME}_${fraud!.summary.training.view.version}_logging v1`);
    const reports = byTestId("drift-report", section);
    expect(await reports.count()).toBe(1);
    expect(await reports.first().getAttribute("data-status")).toBe("DRIFT");
    expect(await reports.first().innerText()).toContain(`#${drift.report.id}`);
    // The chosen (newest) report, one row per feature with the statistics the SDK returned.
    const rows = byTestId("feature-drift-row", section);
    expect(await rows.count()).toBe(drift.report.features.length);
    for (const f of drift.report.features) {
      const row = section.locator(`[data-testid="feature-drift-row"][data-column="${f.column}"]`);
      expect(await row.getAttribute("data-status")).toBe({ ok: "OK", drift: "DRIFT", insufficient_data: "insufficient data" }[f.status]);
      if (f.psi !== undefined) expect(await row.locator("td").nth(2).innerText()).toBe(f.psi.toFixed(3));
    }
    expect(await section.locator('[data-testid="feature-drift-row"][data-column="amount"] td.over').count()).toBeGreaterThan(0);
    expect(await section.locator('[data-testid="feature-drift-row"][data-column="card_account_credit_limit"]').getAttribute("data-status")).toBe("OK");
    await section.scrollIntoViewIfNeeded();
    await screenshots(page, "view-monitoring");
    expect(pageErrors).toEqual([]);
  });

  pageTest("shows the training dataset's splits", async () => {
    await projectHome();
    await nav("datasets");
    await byTestId("dataset-list").waitFor();
    await byTestId("dataset-item").first().locator("a").first().click();
    await byTestId("dataset-splits").waitFor();
    // The rows of each split, as the training pipeline counted them.
    const rows = async (split: string) =>
      (await page.locator(`[data-testid="split-row"][data-split="${split}"] td.num`).first().textContent())?.replace(/,/g, "");
    expect(await rows("train")).toBe(String(fraud!.summary.training.trainRows));
    expect(await rows("test")).toBe(String(fraud!.summary.training.testRows));
    await screenshots(page, "dataset");
  });

  pageTest("shows the model: versions, metrics chart, the production alias and its artifacts", async () => {
    await projectHome();
    await nav("models");
    await byTestId("model-list").waitFor();
    await open("model-item", MODEL_NAME);
    await byTestId("model-versions").waitFor();
    expect(await byTestId("model-version").count()).toBeGreaterThanOrEqual(1);
    await byTestId("model-metrics-chart").waitFor();
    await page.locator(`[data-testid="model-alias"][data-alias="${PRODUCTION}"]`).waitFor();
    await page.locator('[data-testid="model-artifact"][data-path="model.json"]').waitFor();
    await screenshots(page, "model");
  });

  pageTest("draws the project's lineage with the model in it", async () => {
    await projectHome();
    await nav("lineage");
    await byTestId("lineage-graph").waitFor();
    await page.locator(`[data-testid="lineage-node"][data-kind="model"][data-name="${MODEL_NAME}"]`).first().waitFor();
    await page.locator(`[data-testid="lineage-node"][data-kind="group"][data-name="${GROUP}"]`).first().waitFor();
    await screenshots(page, "lineage");
  });

  pageTest("clicks through lineage both ways: group → model, and model → group", async () => {
    await projectHome();
    await nav("groups");
    await open("group-item", GROUP);
    await byTestId("lineage-link").click();
    await page.locator(`[data-testid="lineage-node"][data-kind="model"][data-name="${MODEL_NAME}"]`).first().click();
    await byTestId("model-versions").waitFor();
    expect(page.url()).toContain(`/models/${MODEL_NAME}`);

    await byTestId("lineage-link").click();
    await page.locator(`[data-testid="lineage-node"][data-kind="group"][data-name="${GROUP}"]`).first().click();
    await byTestId("group-schema").waitFor();
    expect(page.url()).toContain(`/groups/${GROUP}/`);
    expect(pageErrors).toEqual([]);
  });
});
