import type { RelayClient, SubscriptionStatus } from "../../../client/index.ts";
import { byId, splitList } from "./dom.ts";
import { explain, isAuthError } from "./explain.ts";
import type { Feed } from "./feed.ts";
import { setNotice, setStatus } from "./status.ts";

/**
 * The subscribe form and its one live subscription. The SDK reconnects and resumes by itself; this panel
 * shows each drop, each reconnect and each `reset` as it happens, so the page doubles as a debugging view.
 */
export function mountStreamPanel(client: () => RelayClient, feed: Feed): { start(): void; restart(): void } {
  const form = byId("subscribe-form", HTMLFormElement);
  const channels = byId("channels", HTMLInputElement);
  const patterns = byId("patterns", HTMLInputElement);
  const after = byId("after", HTMLInputElement);
  const stopButton = byId("unsubscribe", HTMLButtonElement);

  let running: AbortController | undefined;
  /** The user asked for a subscription and has not stopped it (it may have failed, e.g. on a bad token). */
  let wanted = false;

  function stop() {
    wanted = false;
    running?.abort();
    running = undefined;
    stopButton.disabled = true;
    setStatus("idle", "not subscribed");
  }

  async function start() {
    stop();
    wanted = true;
    const names = splitList(channels.value);
    const globs = splitList(patterns.value);
    if (names.length + globs.length === 0) {
      setStatus("error", "name a channel or a pattern");
      return;
    }
    const controller = new AbortController();
    running = controller;
    stopButton.disabled = false;
    const what = [...names, ...globs].join(", ");
    let opened = 0;
    const onStatus = (status: SubscriptionStatus) => {
      if (controller.signal.aborted) return;
      switch (status.state) {
        case "connecting":
          if (opened === 0) setStatus("connecting", `connecting to ${what}…`);
          break;
        case "open":
          opened++;
          setNotice("");
          setStatus("live", `live: ${what}`);
          feed.connection(
            "live",
            opened === 1 ? `subscribed to ${what}` : "reconnected, resumed after the last id received",
            opened > 1,
          );
          break;
        case "reconnecting":
          setStatus("reconnecting", `reconnecting in ${Math.round(status.delayMs)} ms`);
          feed.connection("reconnecting", `${status.reason}; retrying in ${Math.round(status.delayMs)} ms`);
          break;
        case "long-poll":
          setStatus("live", `live (long-poll): ${what}`);
          feed.connection("live", `switched to long-poll: ${status.reason}`);
          break;
      }
    };
    try {
      const subscription = client().subscribe(names, {
        patterns: globs,
        after: after.value.trim() || undefined,
        signal: controller.signal,
        onStatus,
      });
      for await (const event of subscription) {
        if (event.type === "reset") feed.reset(event);
        else feed.message(event);
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      setStatus("error", "subscription failed");
      feed.connection("error", explain(error));
      if (isAuthError(error))
        setNotice(
          `The relay refused the subscription: ${explain(error)}. Paste a token with a subscribe scope above.`,
        );
    } finally {
      if (running === controller) {
        running = undefined;
        stopButton.disabled = true;
      }
    }
  }

  // Clicking a message id in the feed makes it the resume point: "Subscribe" then replays what came after it.
  byId("feed", HTMLOListElement).addEventListener("click", (click) => {
    const id = click.target instanceof Element ? click.target.closest(".id")?.textContent : undefined;
    if (id) after.value = id;
  });

  form.addEventListener("submit", (submit) => {
    submit.preventDefault();
    void start();
  });
  stopButton.addEventListener("click", () => {
    stop();
    feed.connection("idle", "stopped");
  });

  return {
    start: () => void start(),
    /** Subscribes again with the current form (e.g. after a new token), unless the user stopped it. */
    restart: () => {
      if (wanted) void start();
    },
  };
}
