import { createClient, type RelayClient } from "../../../client/index.ts";
import { byId } from "./dom.ts";
import { Feed } from "./feed.ts";
import { mountKvPanel } from "./kv-panel.ts";
import { mountPublishPanel } from "./publish-panel.ts";
import { readSettings, storeToken } from "./settings.ts";
import { setNotice } from "./status.ts";
import { mountStreamPanel } from "./stream-panel.ts";

/** The live page's entry: one SDK client for the relay that served the page, with the token the user gave. */
const settings = readSettings();
let token = settings.token;

// getToken is read on every request and reconnect, so a new token takes effect without a reload.
const relay: RelayClient = createClient({ url: new URL(".", location.href).href, getToken: () => token });
const client = () => relay;

const tokenForm = byId("token-form", HTMLFormElement);
const tokenInput = byId("token", HTMLInputElement);
tokenInput.value = token;

const feed = new Feed();
const stream = mountStreamPanel(client, feed);
mountPublishPanel(client);
const kv = mountKvPanel(client);
byId("clear-feed", HTMLButtonElement).addEventListener("click", () => feed.clear());

tokenForm.addEventListener("submit", (submit) => {
  submit.preventDefault();
  token = tokenInput.value.trim();
  storeToken(token);
  setNotice("");
  stream.restart();
  kv.refresh();
});

if (!token) {
  setNotice(
    "No token given: paste one above (`npm start` prints a dev token; `relay token` mints one). " +
      "Only a relay running with RELAY_AUTH=none works without one.",
  );
}
if (settings.channels.length + settings.patterns.length > 0) {
  byId("channels", HTMLInputElement).value = settings.channels.join(", ");
  byId("patterns", HTMLInputElement).value = settings.patterns.join(", ");
  stream.start();
}
kv.refresh();
document.documentElement.dataset.ready = "true";
