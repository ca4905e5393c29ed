// Screenshots of each page at a desktop size and a narrow window, under test-output/browser/
// (git-ignored): what a reviewer looks at, and what CI keeps when a browser test fails.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";

export const SCREENSHOT_DIR = fileURLToPath(new URL("../../test-output/browser/", import.meta.url));

export const WIDE = { width: 1280, height: 800 } as const;
export const NARROW = { width: 420, height: 800 } as const;

/** Empties the folder, so that it holds this run's screenshots only (no stale failed-*.png). */
export function clearScreenshots(): void {
  rmSync(SCREENSHOT_DIR, { recursive: true, force: true });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
}

/**
 * Saves `<name>.png` (1280×800) and `<name>-narrow.png` (420×800) of the page as it is, then gives
 * the page its wide viewport back. Returns the files written. Throws when the page is wider than
 * either window (a sideways scroll bar).
 */
export async function screenshots(page: Page, name: string): Promise<string[]> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const files: string[] = [];
  for (const [viewport, suffix] of [
    [WIDE, ""],
    [NARROW, "-narrow"],
  ] as const) {
    await page.setViewportSize(viewport);
    const path = join(SCREENSHOT_DIR, `${name}${suffix}.png`);
    await page.screenshot({ path });
    files.push(path);
    // Wide tables may scroll inside their card; the page itself must fit the window.
    const width = await page.evaluate<number>("document.documentElement.scrollWidth");
    if (width > viewport.width) throw new Error(`${name}${suffix}.png: the page is ${width} px wide in a ${viewport.width} px window (it scrolls sideways)`);
  }
  await page.setViewportSize(WIDE);
  return files;
}
