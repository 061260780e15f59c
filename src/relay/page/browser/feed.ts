import type { JsonValue, RelayMessage, ResetNotice } from "../../../client/index.ts";
import { byId, clock, element } from "./dom.ts";

/** Rows kept on screen; older ones scroll away so a busy channel cannot exhaust the tab. */
const MAX_ROWS = 1000;

/** The stream panel's list: messages with their ids, resets, and connection changes, newest last. */
export class Feed {
  readonly #list = byId("feed", HTMLOListElement);
  readonly #counts = {
    messages: byId("count-messages", HTMLElement),
    resets: byId("count-resets", HTMLElement),
    reconnects: byId("count-reconnects", HTMLElement),
  };
  #messages = 0;
  #resets = 0;
  #reconnects = 0;

  message(message: RelayMessage<JsonValue>): void {
    const row = this.#row("message", message.channel, message.event);
    row.dataset.id = message.id;
    row.title = `published ${new Date(message.time).toISOString()}`;
    row.dataset.channel = message.channel;
    const body = row.lastElementChild as HTMLElement;
    const id = element("span", "id", message.id);
    id.title = "click to resume after this id";
    body.append(element("span", "data", formatData(message.data)), id);
    this.#messages++;
    this.#counts.messages.textContent = String(this.#messages);
  }

  reset(notice: ResetNotice): void {
    const row = this.#row("reset", notice.channel, "reset");
    row.dataset.channel = notice.channel;
    row.dataset.reason = notice.reason;
    const body = row.lastElementChild as HTMLElement;
    const oldest = notice.oldest === null ? "the channel is empty" : `replaying from ${notice.oldest}`;
    body.append(element("span", "data", `history lost (${notice.reason}): ${oldest}`));
    this.#resets++;
    this.#counts.resets.textContent = String(this.#resets);
  }

  /** A connection change: `state` is one of the badge's states. */
  connection(state: string, text: string, isReconnect = false): void {
    const row = this.#row("connection", "", state);
    row.dataset.state = state;
    (row.lastElementChild as HTMLElement).append(element("span", "data", text));
    if (isReconnect) {
      this.#reconnects++;
      this.#counts.reconnects.textContent = String(this.#reconnects);
    }
  }

  clear(): void {
    this.#list.replaceChildren();
    this.#messages = this.#resets = this.#reconnects = 0;
    for (const counter of Object.values(this.#counts)) counter.textContent = "0";
  }

  /** A new row stamped with its arrival time (the publish time is in a message row's tooltip). */
  #row(kind: string, channel: string, event: string): HTMLLIElement {
    const row = element("li");
    row.dataset.kind = kind;
    row.append(
      element("span", "time", clock(Date.now())),
      element("span", "channel", channel),
      element("span", "event", event),
      element("span", "body"),
    );
    if (channel) (row.children[1] as HTMLElement).title = channel;
    // Follow the tail only when the reader is already at the bottom.
    const list = this.#list;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(row);
    while (list.childElementCount > MAX_ROWS) list.firstElementChild?.remove();
    if (atBottom) list.scrollTop = list.scrollHeight;
    return row;
  }
}

/** Text payloads as they are; JSON values as compact JSON. */
function formatData(data: JsonValue): string {
  return typeof data === "string" ? data : JSON.stringify(data);
}
