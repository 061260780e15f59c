import type { RelayClient } from "../../../client/index.ts";
import { byId, showResult } from "./dom.ts";
import { explain } from "./explain.ts";
import { parseTyped } from "./typed-value.ts";

/** The publish form: channel, optional event type, data as JSON or text; shows the new message's id. */
export function mountPublishPanel(client: () => RelayClient): void {
  const form = byId("publish-form", HTMLFormElement);
  const channel = byId("publish-channel", HTMLInputElement);
  const event = byId("publish-event", HTMLInputElement);
  const format = byId("publish-format", HTMLSelectElement);
  const data = byId("publish-data", HTMLTextAreaElement);
  const button = byId("publish", HTMLButtonElement);
  const result = byId("publish-result", HTMLOutputElement);

  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const parsed = parseTyped(data.value, format.value);
    if (!parsed.ok) return showResult(result, parsed.error, "error");
    button.disabled = true;
    showResult(result, "publishing…", "busy");
    try {
      const published = await client().publish(channel.value.trim(), parsed.value, {
        event: event.value.trim() || undefined,
      });
      showResult(result, `published ${published.id}`, "ok");
      result.dataset.id = published.id;
    } catch (error) {
      showResult(result, explain(error), "error");
    } finally {
      button.disabled = false;
    }
  });
}
