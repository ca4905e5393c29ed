// Debian's chromium (`apt-get install chromium`, what .ci/run installs), driven by playwright-core:
// no browser download, one binary the machine's package manager keeps patched.
import { accessSync, constants } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_APT_LINE = "apt-get install -y --no-install-recommends chromium";

/**
 * Headless in a container (no sandbox, no GPU) and quiet: nothing fetched in the background,
 * no QUIC, no first-run or sync, so the tests see only the traffic they cause.
 */
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Why chromium cannot run here, or undefined when it is installed. */
export function chromiumMissing(): string | undefined {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return undefined;
  } catch (err) {
    return `${CHROMIUM} is not an executable (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
}

/**
 * A headless chromium. Each launch runs on a fresh user-data-dir (playwright creates one in the
 * temp directory and deletes it on close), so no profile state leaks between runs.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
}
