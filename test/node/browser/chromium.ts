import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const CHROMIUM_MISSING =
  `Chromium not found at ${CHROMIUM_PATH}. The browser test needs it: install Debian's package ` +
  "(`sudo apt-get install -y chromium`, as .ci/run does) or set CHROMIUM_PATH to a Chromium binary.";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Viewport {
  width: number;
  height: number;
}

const DESKTOP: Viewport = { width: 1280, height: 820 };

export interface Chromium {
  browser: Browser;
  /**
   * A page in its own context (own window, storage and connections), like a second user on another machine.
   * Desktop-sized unless a viewport is given (a phone: `{ width: 390, height: 844 }`).
   */
  newPage(viewport?: Viewport): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh temporary profile (playwright-core creates and removes it). Throws (never
 * skips) when the browser is missing: the browser test is part of `npm test`, and CI installs Chromium.
 * Each page gets its own context, hence its own window: tabs sharing a window would be backgrounded, and a
 * background tab's timers and frames are throttled, which makes a live page look slow.
 */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(CHROMIUM_MISSING);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...ARGS, ...extraArgs] });
  return {
    browser,
    async newPage(viewport = DESKTOP) {
      const context = await browser.newContext({ viewport });
      return context.newPage();
    },
    async close() {
      await browser.close().catch(() => {});
    },
  };
}
