import type { Page } from "playwright-core";

export interface FeedMessage {
  id: string;
  channel: string;
  event: string;
  data: string;
}

export interface FeedReset {
  channel: string;
  reason: string;
}

/** Drives the live page the way a user does: through its forms and what it shows, by element id. */
export class LivePage {
  readonly page: Page;
  /** Console errors and uncaught exceptions since the page was created (a missing favicon shows here). */
  readonly consoleErrors: string[] = [];

  constructor(page: Page) {
    this.page = page;
    page.on("console", (message) => {
      if (message.type() === "error")
        this.consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    page.on("pageerror", (error) => this.consoleErrors.push(String(error)));
  }

  /** Opens the page with a token in the fragment (and optional channels) and waits for its script to run. */
  async open(baseUrl: string, fragment: Record<string, string | string[]>): Promise<void> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(fragment)) {
      for (const item of Array.isArray(value) ? value : [value]) params.append(name, item);
    }
    await this.page.goto(`${baseUrl}/#${params}`);
    await this.page.waitForSelector("html[data-ready=true]");
  }

  async subscribe(channels: string, patterns = ""): Promise<void> {
    await this.page.fill("#channels", channels);
    await this.page.fill("#patterns", patterns);
    await this.page.click("#subscribe");
    await this.waitForState("live");
  }

  async waitForState(state: "idle" | "connecting" | "live" | "reconnecting" | "error"): Promise<void> {
    await this.page.waitForSelector(`#status[data-state="${state}"]`);
  }

  /** Publishes through the form; resolves with the id the page shows for the new message. */
  async publish(
    channel: string,
    data: string,
    options: { format?: "json" | "text"; event?: string } = {},
  ): Promise<string> {
    await this.page.fill("#publish-channel", channel);
    await this.page.fill("#publish-event", options.event ?? "");
    await this.page.selectOption("#publish-format", options.format ?? "json");
    await this.page.fill("#publish-data", data);
    const previous = await this.page.getAttribute("#publish-result", "data-id");
    await this.page.click("#publish");
    await this.page.waitForFunction((before) => {
      const output = document.querySelector<HTMLOutputElement>("#publish-result");
      return (
        output?.dataset.kind === "error" || (output?.dataset.id !== undefined && output.dataset.id !== before)
      );
    }, previous ?? undefined);
    const kind = await this.page.getAttribute("#publish-result", "data-kind");
    if (kind === "error")
      throw new Error(`the page failed to publish: ${await this.text("#publish-result")}`);
    return (await this.page.getAttribute("#publish-result", "data-id")) ?? "";
  }

  /** Messages in the feed, in display order. */
  async messages(channel?: string): Promise<FeedMessage[]> {
    return (await this.#feedRows("message"))
      .filter((row) => channel === undefined || row.channel === channel)
      .map(({ id, channel, event, data }) => ({ id, channel, event, data }));
  }

  async resets(channel: string): Promise<FeedReset[]> {
    return (await this.#feedRows("reset"))
      .filter((row) => row.channel === channel)
      .map(({ channel, reason }) => ({ channel, reason }));
  }

  /** What the page shows in an element (empty when absent). */
  async text(selector: string): Promise<string> {
    return (await this.page.textContent(selector)) ?? "";
  }

  #feedRows(kind: string) {
    return this.page.$$eval(`#feed li[data-kind="${kind}"]`, (rows) =>
      rows.map((row) => {
        const data = (row as HTMLElement).dataset;
        return {
          id: data.id ?? "",
          channel: data.channel ?? "",
          reason: data.reason ?? "",
          event: row.querySelector(".event")?.textContent ?? "",
          data: row.querySelector(".data")?.textContent ?? "",
        };
      }),
    );
  }

  /** Waits until the feed holds at least `count` messages of `channel` (of any channel when undefined). */
  async waitForMessages(
    channel: string | undefined,
    count: number,
    timeout = 20_000,
  ): Promise<FeedMessage[]> {
    await this.page.waitForFunction(
      ({ channel, count }) =>
        [...document.querySelectorAll<HTMLElement>("#feed li[data-kind=message]")].filter(
          (row) => channel === undefined || row.dataset.channel === channel,
        ).length >= count,
      { channel, count },
      { timeout },
    );
    return this.messages(channel);
  }

  async counter(name: "messages" | "resets" | "reconnects"): Promise<number> {
    return Number(await this.text(`#count-${name}`));
  }

  /** "New key", fill the editor, "Save": resolves with the outcome the page shows. */
  createKey(key: string, format: "json" | "text", value: string): Promise<{ kind: string; text: string }> {
    return this.kvResultAfter(async () => {
      await this.page.click("#kv-new");
      await this.page.fill("#kv-key", key);
      await this.page.selectOption("#kv-format", format);
      await this.page.fill("#kv-value", value);
      await this.page.click("#kv-save");
    });
  }

  /**
   * Lists keys under `prefix` and shows `key` in the list, pressing "More" as a user would: SCAN may need several
   * pages to reach it in a busy database (other tests share the redis-server).
   */
  async listUntilShown(prefix: string, key: string): Promise<void> {
    await this.page.fill("#kv-prefix", prefix);
    await this.page.click("#kv-list");
    const wanted = this.page.locator(`#kv-keys button[data-key="${key}"]`);
    const more = this.page.locator("#kv-more");
    for (;;) {
      await this.page.waitForSelector('#kv-keys[aria-busy="false"] li');
      if ((await wanted.count()) > 0) return;
      if (await more.isHidden()) throw new Error(`the key list ended without ${key}`);
      await more.click();
    }
  }

  /** Waits for the KV result line to change to a new outcome and returns it. */
  async kvResultAfter(action: () => Promise<void>): Promise<{ kind: string; text: string }> {
    await this.page.evaluate(() => {
      const output = document.querySelector<HTMLOutputElement>("#kv-result");
      if (output) {
        output.textContent = "";
        output.dataset.kind = "pending";
      }
    });
    await action();
    await this.page.waitForFunction(() => {
      const kind = document.querySelector<HTMLOutputElement>("#kv-result")?.dataset.kind;
      return kind === "ok" || kind === "error" || kind === "info";
    });
    return {
      kind: (await this.page.getAttribute("#kv-result", "data-kind")) ?? "",
      text: await this.text("#kv-result"),
    };
  }

  /** How far the document is wider than the viewport, in CSS pixels (0: nothing scrolls sideways). */
  horizontalOverflow(): Promise<number> {
    return this.page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
  }

  /** The rendered width of an element, in CSS pixels. */
  async width(selector: string): Promise<number> {
    return (await this.page.locator(selector).first().boundingBox())?.width ?? 0;
  }

  /** A computed colour property of an element or one of its pseudo-elements ("::before", "::placeholder"). */
  colour(selector: string, property: "color" | "background-color", pseudo?: string): Promise<string> {
    return this.page.$eval(
      selector,
      (node, { property, pseudo }) => getComputedStyle(node, pseudo).getPropertyValue(property),
      { property, pseudo: pseudo ?? null },
    );
  }
}
