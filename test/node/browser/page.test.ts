import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type LocalStack, type RelayRuntime, startLocalStack } from "../../../src/cli/local-stack.ts";
import { createClient, type RelayClient } from "../../../src/client/index.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { mintToken, uniqueName } from "../../scenarios/harness.ts";
import { CHROMIUM_MISSING, CHROMIUM_PATH, type Chromium, launchChromium } from "./chromium.ts";
import { isGreenish, isReddish, parseColour } from "./colour.ts";
import { type CuttableLink, startCuttableLink } from "./cuttable-link.ts";
import { LivePage } from "./live-page.ts";

/**
 * The live page in headless Chromium against the real relay on each runtime it ships for: the Worker under
 * `wrangler dev` (workerd), Deno (`deno serve`) and Node, each started the way `relay start` does it, in front
 * of a real REST proxy and the test run's redis-server. Page A talks to the relay directly; page B goes through
 * a link the test can cut, so its stream really breaks and must resume on its own.
 */
const ROOT = join(import.meta.dirname, "..", "..", "..");
const RUNTIMES: RelayRuntime[] = ["workers", "deno", "node"];
/** wrangler's first build is slow on a busy 2-core machine. */
const STARTUP_TIMEOUT_MS = 180_000;

/** A relay on `runtime` in front of a real REST proxy and the test run's redis-server, as `relay start` runs it. */
function startPageStack(runtime: RelayRuntime): Promise<LocalStack> {
  return startLocalStack({
    runtime,
    port: 0,
    redisUrl: inject("redisUrl"),
    env: { RELAY_JWT_SECRET: TEST_JWT_SECRET },
    log: () => {},
    readyTimeoutMs: STARTUP_TIMEOUT_MS - 20_000,
  });
}

/** The pages' token: scoped to the suite's prefix, not admin, so the page works with what a real user has. */
function scopedToken(prefix: string): Promise<string> {
  const scope = `publish:${prefix}.* subscribe:${prefix}.* kv:read:${prefix}:* kv:write:${prefix}:*`;
  return mintToken(TEST_JWT_SECRET, scope, { expiresInSeconds: 3600 });
}

// Its own test, so a machine without Chromium counts a failure with the install hint (the suites below then
// fail in setup, which vitest reports as skipped tests in a failed file).
it("Chromium is installed for the browser test", () => {
  expect(existsSync(CHROMIUM_PATH), CHROMIUM_MISSING).toBe(true);
});

describe.each(RUNTIMES)("live page in Chromium, relay on %s", (runtime) => {
  let stack: LocalStack;
  let link: CuttableLink;
  let browser: Chromium;
  let pageA: LivePage;
  let pageB: LivePage;
  /** The test's own SDK client (admin): publishes "from elsewhere", inspects and breaks things. */
  let admin: RelayClient;
  /** The pages' token: scoped to this suite's prefix, as a real user's would be. */
  let token: string;
  const prefix = uniqueName("page");
  const channel = `${prefix}.orders`;

  beforeAll(async () => {
    // The browser first: without Chromium this fails at once, with the install hint, before any relay starts.
    browser = await launchChromium();
    stack = await startPageStack(runtime);
    const { hostname, port } = new URL(stack.relayUrl);
    link = await startCuttableLink({ host: hostname, port: Number(port) });
    admin = createClient({ url: stack.relayUrl, token: await mintToken(TEST_JWT_SECRET, "admin") });
    token = await scopedToken(prefix);
    pageA = new LivePage(await browser.newPage());
    pageB = new LivePage(await browser.newPage());
    await pageA.open(stack.relayUrl, { token });
    await pageB.open(link.url, { token });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    // Browser first: its open streams would keep the relay's shutdown waiting.
    await browser?.close();
    await link?.close();
    await stack?.stop();
  }, 30_000);

  it("serves the page with the token taken out of the address bar", async () => {
    expect(await pageA.page.title()).toBe("edge relay · live");
    expect(new URL(pageA.page.url()).hash).toBe("");
    expect(await pageA.page.inputValue("#token")).not.toBe("");
  });

  it("publishes from page A and page B shows the message live with its id", async () => {
    await pageB.subscribe(channel);
    const id = await pageA.publish(channel, '{"order":1,"item":"tea"}');
    expect(id).not.toBe("");
    const [message] = await pageB.waitForMessages(channel, 1);
    expect(message).toEqual({ id, channel, event: "message", data: '{"order":1,"item":"tea"}' });
    // The id is on screen, not just in an attribute.
    expect(await pageB.text(`#feed li[data-id="${id}"] .id`)).toBe(id);
    // An event type travels with the message and shows in its own column.
    const typed = await pageA.publish(channel, "shipped", { format: "text", event: "order.shipped" });
    const [, second] = await pageB.waitForMessages(channel, 2);
    expect(second).toEqual({ id: typed, channel, event: "order.shipped", data: "shipped" });
  });

  it("a cut stream reconnects and resumes: every message exactly once, in order", async () => {
    const before = (await pageB.messages(channel)).map((message) => message.id);
    link.cut();
    await pageB.waitForState("reconnecting");
    const whileCut: string[] = [];
    for (let n = 0; n < 8; n++) whileCut.push((await admin.publish(channel, { offline: n })).id);
    // One more from page A (on the direct path) while B is still cut off.
    whileCut.push(await pageA.publish(channel, "from A while B is cut", { format: "text" }));
    link.restore();
    await pageB.waitForState("live");
    const after = (await admin.publish(channel, { online: true })).id;

    const expected = [...before, ...whileCut, after];
    const shown = await pageB.waitForMessages(channel, expected.length);
    expect(shown.map((message) => message.id)).toEqual(expected);
    expect(shown.at(-2)?.data).toBe("from A while B is cut");
    expect(await pageB.counter("reconnects")).toBeGreaterThanOrEqual(1);
    expect(await pageB.resets(channel)).toEqual([]);
    expect(
      await pageB.page.locator("#feed li[data-kind=connection][data-state=reconnecting]").count(),
    ).toBeGreaterThan(0);
  });

  it("shows a reset when the history it would resume from is gone, then continues", async () => {
    link.cut();
    await pageB.waitForState("reconnecting");
    await admin.channels.deleteHistory(channel);
    const fresh = (await admin.publish(channel, "after the history was dropped")).id;
    link.restore();
    await pageB.waitForState("live");

    await pageB.page.waitForSelector(`#feed li[data-kind=reset][data-channel="${channel}"]`);
    const resets = await pageB.resets(channel);
    expect(resets).toHaveLength(1);
    expect(["epoch", "deleted"]).toContain(resets[0]?.reason);
    const shown = await pageB.page.waitForSelector(`#feed li[data-kind=message][data-id="${fresh}"]`);
    expect(await shown.$eval(".data", (node) => node.textContent)).toBe("after the history was dropped");
    // The reset row comes before the replayed message.
    const kinds = await pageB.page.$$eval("#feed li[data-kind=reset], #feed li[data-kind=message]", (rows) =>
      rows.map((row) => (row as HTMLElement).dataset.kind),
    );
    expect(kinds.slice(-2)).toEqual(["reset", "message"]);
    expect(await pageB.counter("resets")).toBe(1);
  });

  it("subscribes to a pattern and a channel over one stream, in publish order", async () => {
    await pageA.subscribe(`${prefix}.x`, `${prefix}.p*`);
    const ids = [
      (await admin.publish(`${prefix}.p1`, { p: 1 })).id,
      (await admin.publish(`${prefix}.x`, { x: 1 })).id,
      (await admin.publish(`${prefix}.other`, "not subscribed")).id,
      (await admin.publish(`${prefix}.p2`, "text on p2")).id,
    ];
    const shown = await pageA.waitForMessages(undefined, 3);
    expect(shown).toEqual([
      { id: ids[0], channel: `${prefix}.p1`, event: "message", data: '{"p":1}' },
      { id: ids[1], channel: `${prefix}.x`, event: "message", data: '{"x":1}' },
      { id: ids[3], channel: `${prefix}.p2`, event: "message", data: "text on p2" },
    ]);
    await pageA.page.click("#unsubscribe");
    await pageA.waitForState("idle");
  });

  it("replays what came after a chosen id, and a click on an id picks it", async () => {
    const history = `${prefix}.history`;
    const ids: string[] = [];
    for (let n = 0; n < 4; n++) ids.push((await admin.publish(history, { n })).id);
    await pageA.page.fill("#after", ids[0] ?? "");
    await pageA.subscribe(history);
    const shown = await pageA.waitForMessages(history, 3);
    expect(shown.map((message) => message.id)).toEqual(ids.slice(1));
    await pageA.page.click(`#feed li[data-id="${ids[2]}"] .id`);
    expect(await pageA.page.inputValue("#after")).toBe(ids[2]);
    await pageA.page.click("#unsubscribe");
    await pageA.page.fill("#after", "");
  });

  it("renders hostile payloads as text, never as markup", async () => {
    const hostile = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`;
    const id = (await admin.publish(channel, hostile)).id;
    const row = await pageB.page.waitForSelector(`#feed li[data-id="${id}"]`);
    expect(await row.$eval(".data", (node) => node.textContent)).toBe(hostile);
    expect(await row.$$("img, script")).toHaveLength(0);
    expect(await pageB.page.title()).toBe("edge relay · live");
  });

  it("browses and edits keys, with compare-and-set against concurrent writers", async () => {
    const key = `${prefix}:settings`;
    const page = pageA.page;
    expect((await pageA.createKey(key, "json", '{"theme":"dark","size":12}')).text).toMatch(
      /^created, etag "/,
    );
    const stored = await admin.kv.get(key);
    expect(stored?.value).toEqual({ theme: "dark", size: 12 });
    expect(stored?.contentType).toMatch(/^application\/json/);

    // Creating the same key again is refused: "new key" never overwrites.
    const refused = await pageA.createKey(key, "json", "{}");
    expect(refused).toEqual({ kind: "error", text: expect.stringContaining("412") });
    expect((await admin.kv.get(key))?.value).toEqual({ theme: "dark", size: 12 });

    // Browse: list by prefix, open the key, see its value.
    await pageA.listUntilShown(`${prefix}:`, key);
    expect((await pageA.kvResultAfter(() => page.click(`#kv-keys button[data-key="${key}"]`))).text).toMatch(
      /^loaded, etag "/,
    );
    expect(JSON.parse(await page.inputValue("#kv-value"))).toEqual({ theme: "dark", size: 12 });

    // Someone else writes in between: saving the stale copy is refused, and nothing is overwritten.
    await admin.kv.set(key, { theme: "light", size: 14 });
    await page.fill("#kv-value", '{"theme":"dark","size":16}');
    const conflict = await pageA.kvResultAfter(() => page.click("#kv-save"));
    expect(conflict.kind).toBe("error");
    expect(conflict.text).toContain("changed since it was loaded");
    expect((await admin.kv.get(key))?.value).toEqual({ theme: "light", size: 14 });

    // Reopen, edit, save: now it goes through.
    await pageA.kvResultAfter(() => page.click(`#kv-keys button[data-key="${key}"]`));
    expect(JSON.parse(await page.inputValue("#kv-value"))).toEqual({ theme: "light", size: 14 });
    await page.fill("#kv-value", '{"theme":"light","size":18}');
    expect((await pageA.kvResultAfter(() => page.click("#kv-save"))).text).toMatch(/^saved, etag "/);
    expect((await admin.kv.get(key))?.value).toEqual({ theme: "light", size: 18 });

    // Text values stay text.
    expect((await pageA.createKey(`${prefix}:note`, "text", "plain words, not JSON")).kind).toBe("ok");
    const note = await admin.kv.get(`${prefix}:note`);
    expect(note?.text).toBe("plain words, not JSON");
    expect(note?.contentType).toMatch(/^text\/plain/);

    // A JSON string stays JSON, not text.
    expect((await pageA.createKey(`${prefix}:quoted`, "json", '"quoted"')).kind).toBe("ok");
    const quoted = await admin.kv.get(`${prefix}:quoted`);
    expect(quoted?.text).toBe('"quoted"');
    expect(quoted?.contentType).toMatch(/^application\/json/);

    // Delete.
    await pageA.listUntilShown(`${prefix}:`, key);
    await pageA.kvResultAfter(() => page.click(`#kv-keys button[data-key="${key}"]`));
    expect((await pageA.kvResultAfter(() => page.click("#kv-delete"))).text).toBe(`deleted ${key}`);
    expect(await admin.kv.get(key)).toBeNull();
    expect(await page.locator(`#kv-keys button[data-key="${key}"]`).count()).toBe(0);
  });

  it("reports bad input and refusals from the relay, and writes nothing", async () => {
    const page = pageA.page;
    // Invalid JSON never leaves the page.
    await page.fill("#publish-channel", channel);
    await page.selectOption("#publish-format", "json");
    await page.fill("#publish-data", "{not json");
    await page.click("#publish");
    await page.waitForSelector("#publish-result[data-kind=error]");
    expect(await pageA.text("#publish-result")).toContain("not valid JSON");

    // A key with whitespace is refused by the relay (400), shown as such, and not written.
    const bad = await pageA.createKey(`${prefix}:bad key`, "text", "x");
    expect(bad.kind).toBe("error");
    expect(bad.text).toMatch(/^400 /);

    // Outside the token's scope: 403, named.
    await page.fill("#publish-channel", "someone-elses-channel");
    await page.fill("#publish-data", "{}");
    await page.click("#publish");
    await page.waitForSelector("#publish-result[data-kind=error]");
    expect(await pageA.text("#publish-result")).toMatch(/^403 /);
    expect((await admin.channels.info("someone-elses-channel")).length).toBe(0);
  });

  it("a bad token is named on the page instead of failing silently", async () => {
    const page = new LivePage(await browser.newPage());
    try {
      await page.open(stack.relayUrl, { token: "not-a-jwt", channel });
      await page.waitForState("error");
      expect(await page.text("#notice")).toContain("401");
      // A good token pasted into the form takes over: the subscription comes back by itself.
      await page.page.fill("#token", token);
      await page.page.click("#token-form button[type=submit]");
      await page.waitForState("live");
      expect(await page.page.isHidden("#notice")).toBe(true);
    } finally {
      await page.page.context().close();
    }
  });

  it("leaves a screenshot of the page in use", async () => {
    // The page most worth seeing: B has messages, a reconnect and a reset; give it a key list too.
    await pageB.listUntilShown(`${prefix}:`, `${prefix}:note`);
    await pageB.kvResultAfter(() => pageB.page.click(`#kv-keys button[data-key="${prefix}:note"]`));
    await pageB.page.fill("#publish-channel", channel);
    mkdirSync(join(ROOT, ".test-results"), { recursive: true });
    // docs/screenshot.png comes from the Worker's run; every run leaves its own in .test-results/.
    const path =
      process.env.UPDATE_SCREENSHOT && runtime === "workers"
        ? join(ROOT, "docs", "screenshot.png")
        : join(ROOT, ".test-results", `page-${runtime}.png`);
    const png = await pageB.page.screenshot({ path, fullPage: true });
    expect(png.length).toBeGreaterThan(10_000);
  });
});

/**
 * The page on a phone. Layout does not depend on the relay's runtime, so one relay (Node) serves it. Widths from
 * a small phone (360) to where the desktop layout's columns start to squeeze (560).
 */
describe("live page on a phone (390x844), relay on node", () => {
  const PHONE = { width: 390, height: 844 };
  const WIDTHS = [360, 390, 420, 480, 560];
  let stack: LocalStack;
  let browser: Chromium;
  let phone: LivePage;
  let admin: RelayClient;
  const prefix = uniqueName("phone");
  const channel = `${prefix}.orders`;

  beforeAll(async () => {
    browser = await launchChromium();
    stack = await startPageStack("node");
    admin = createClient({ url: stack.relayUrl, token: await mintToken(TEST_JWT_SECRET, "admin") });
    phone = new LivePage(await browser.newPage(PHONE));
    await phone.open(stack.relayUrl, { token: await scopedToken(prefix) });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  }, 30_000);

  it("the header dot is neutral while idle and green while live, never red", async () => {
    await phone.waitForState("idle");
    const idle = await phone.colour(".bar h1", "color", "::before");
    expect(idle).toBe(await phone.colour("#status", "color", "::before"));
    expect(isReddish(idle), idle).toBe(false);

    await phone.subscribe(channel);
    const live = await phone.colour(".bar h1", "color", "::before");
    expect(isGreenish(live), live).toBe(true);
    expect(live).toBe(await phone.colour("#status", "color", "::before"));
  });

  it("nothing scrolls sideways and the message column keeps most of the width, 360 to 560 px", async () => {
    await phone.subscribe(channel);
    const note = "a message long enough to need a few lines";
    const id = (await admin.publish(channel, { order: 1, note })).id;
    await phone.page.waitForSelector(`#feed li[data-id="${id}"]`);
    for (const width of WIDTHS) {
      await phone.page.setViewportSize({ width, height: PHONE.height });
      expect(await phone.horizontalOverflow(), `overflow at ${width} px`).toBeLessThanOrEqual(0);
      const data = await phone.width(`#feed li[data-id="${id}"] .data`);
      expect(data, `message column at ${width} px`).toBeGreaterThanOrEqual(width / 2);
    }
    await phone.page.setViewportSize(PHONE);
  });

  it("the selected key is highlighted, not in the error colour", async () => {
    const key = `${prefix}:settings`;
    await admin.kv.set(key, { theme: "dark" });
    await phone.listUntilShown(`${prefix}:`, key);
    await phone.kvResultAfter(() => phone.page.click(`#kv-keys button[data-key="${key}"]`));
    const selected = `#kv-keys button[aria-current="true"]`;
    expect(await phone.page.getAttribute(selected, "data-key")).toBe(key);
    const background = await phone.colour(selected, "background-color");
    expect(parseColour(background).a, `highlighted: ${background}`).toBeGreaterThan(0);
    expect(isReddish(background), background).toBe(false);
  });

  it("the Publish channel's placeholder reads as a hint, not as a value", async () => {
    const input = "#publish-channel";
    await phone.page.fill(input, "");
    expect(await phone.page.getAttribute(input, "placeholder")).toMatch(/^e\.g\. /);
    const hint = await phone.colour(input, "color", "::placeholder");
    expect(hint).not.toBe(await phone.colour(input, "color"));
  });

  it("logs no console errors (the favicon included)", async () => {
    const fresh = new LivePage(await browser.newPage(PHONE));
    try {
      await fresh.open(stack.relayUrl, { token: await mintToken(TEST_JWT_SECRET, "admin") });
      // The icon is fetched after load; give a 404 time to show.
      await fresh.page.waitForLoadState("networkidle");
      expect(fresh.consoleErrors).toEqual([]);
      // Headless Chromium does not fetch icons, so check the declared one loads under the page's CSP.
      const icon = await fresh.page.evaluate(async () => {
        const href = document.querySelector<HTMLLinkElement>('link[rel="icon"]')?.href;
        if (!href) return "no icon declared";
        const image = new Image();
        image.src = href;
        return image.decode().then(
          () => `loaded ${image.naturalWidth}x${image.naturalHeight}`,
          () => `failed to load ${href.slice(0, 60)}`,
        );
      });
      expect(icon).toMatch(/^loaded [1-9]\d*x[1-9]\d*$/);
      expect(fresh.consoleErrors).toEqual([]);
    } finally {
      await fresh.page.context().close();
    }
  });

  it("leaves a screenshot of the page on a phone", async () => {
    mkdirSync(join(ROOT, ".test-results"), { recursive: true });
    const png = await phone.page.screenshot({
      path: join(ROOT, ".test-results", "page-phone.png"),
      fullPage: true,
    });
    expect(png.length).toBeGreaterThan(10_000);
  });
});
