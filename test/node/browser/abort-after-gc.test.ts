import { join } from "node:path";
import { build } from "esbuild";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { token, unique } from "../client/fixture.ts";
import {
  openUpstreamStreams,
  type PrivateRelay,
  startPrivateRelay,
  waitForUpstreamStreams,
} from "../relay/private-relay.ts";
import { type Chromium, launchChromium } from "./chromium.ts";

/**
 * The SDK in Chromium (bundled as an app would bundle it): subscribe to an idle channel, collect garbage in the
 * page (`--js-flags=--expose-gc`), abort. The iterator must end at once and the relay must see the connection
 * go (the private proxy's open-stream gauge back to 0). Issue 8 item 6; the Node side is in
 * test/node/client/abort-after-gc.test.ts.
 */
const ROOT = join(import.meta.dirname, "..", "..", "..");
/** What "promptly" means, with room for a loaded 2-core machine. */
const PROMPT_MS = 2000;
/** The relay sees the closed connection and releases its upstream: bounded, with room for a loaded machine. */
const RELEASE_MS = 5000;
/** The test page's address: on the relay's origin (served by the test, never by the relay), so fetch is same-origin. */
const PAGE_PATH = "/__abort-after-gc-test.html";

let relay: PrivateRelay;
let browser: Chromium;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium(["--js-flags=--expose-gc"]);
  relay = await startPrivateRelay();
  const bundled = await build({
    absWorkingDir: ROOT,
    entryPoints: ["src/client/index.ts"],
    bundle: true,
    write: false,
    format: "iife",
    globalName: "RelaySdk",
    platform: "browser",
    target: "es2022",
    logLevel: "silent",
  });
  page = await browser.newPage();
  await page.route(`${relay.url}${PAGE_PATH}`, (route) =>
    route.fulfill({ contentType: "text/html", body: "<!doctype html><title>abort after gc</title>" }),
  );
  await page.goto(`${relay.url}${PAGE_PATH}`);
  await page.addScriptTag({ content: bundled.outputFiles[0]?.text ?? "" });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await relay?.close();
});

describe("the SDK in Chromium", () => {
  it.each(["sse", "long-poll"] as const)(
    "aborting after a garbage collection ends the iterator and closes the connection (%s)",
    async (transport) => {
      expect(await openUpstreamStreams(relay), "nothing else streams through the private proxy").toBe(0);
      await page.evaluate(
        async ({ url, token, channel, transport }) => {
          type Sdk = typeof import("../../../src/client/index.ts");
          const { createClient } = (globalThis as unknown as { RelaySdk: Sdk }).RelaySdk;
          const stop = new AbortController();
          const state = { stop, ended: false, endedAt: 0 };
          (globalThis as unknown as { abortTest: typeof state }).abortTest = state;
          let opened: () => void = () => {};
          const open = new Promise<void>((resolve) => {
            opened = resolve;
          });
          const events = createClient({ url, token }).subscribe(channel, {
            signal: stop.signal,
            transport,
            onStatus: (status) => {
              if (status.state === "open" || status.state === "long-poll") opened();
            },
          });
          void (async () => {
            for await (const _ of events);
            state.ended = true;
            state.endedAt = performance.now();
          })();
          await open;
        },
        { url: relay.url, token: await token("admin"), channel: unique("idle"), transport },
      );
      expect(await waitForUpstreamStreams(relay, 1, 5000), "the relay holds the subscription upstream").toBe(
        1,
      );

      const elapsed = await page.evaluate(async (promptMs) => {
        const gc = (globalThis as unknown as { gc: () => void }).gc;
        const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        for (let round = 0; round < 4; round++) {
          gc();
          await delay(25);
        }
        const state = (
          globalThis as unknown as { abortTest: { stop: AbortController; ended: boolean; endedAt: number } }
        ).abortTest;
        const abortedAt = performance.now();
        state.stop.abort();
        const deadline = abortedAt + promptMs * 2;
        while (!state.ended && performance.now() < deadline) await delay(10);
        return state.ended ? state.endedAt - abortedAt : null;
      }, PROMPT_MS);
      expect(elapsed, "the iterator ended after abort").not.toBeNull();
      expect(elapsed).toBeLessThan(PROMPT_MS);
      expect(await waitForUpstreamStreams(relay, 0, RELEASE_MS), "streams still open after abort").toBe(0);
    },
    30_000,
  );
});
