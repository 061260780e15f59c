import { type RelayClient, RelayError } from "../../../client/index.ts";
import { byId, element, showResult } from "./dom.ts";
import { explain } from "./explain.ts";
import { isJsonType, parseTyped } from "./typed-value.ts";

/** SCAN COUNT per request: a hint of keys examined, so a rare prefix in a big database needs several pages. */
const PAGE_SIZE = 500;
/** Empty SCAN pages read per click before handing over to "More" (a rare prefix in a big database). */
const MAX_EMPTY_PAGES = 20;

/**
 * Browse and edit keys. Saving an existing key is a compare-and-set against the ETag it was loaded with,
 * and a new key is create-only, so the page never silently overwrites a change made by someone else.
 */
export function mountKvPanel(client: () => RelayClient): { refresh(): void } {
  const listForm = byId("kv-list-form", HTMLFormElement);
  const prefix = byId("kv-prefix", HTMLInputElement);
  const more = byId("kv-more", HTMLButtonElement);
  const newKey = byId("kv-new", HTMLButtonElement);
  const keys = byId("kv-keys", HTMLUListElement);
  const editForm = byId("kv-edit-form", HTMLFormElement);
  const keyInput = byId("kv-key", HTMLInputElement);
  const format = byId("kv-format", HTMLSelectElement);
  const ttl = byId("kv-ttl", HTMLInputElement);
  const value = byId("kv-value", HTMLTextAreaElement);
  const save = byId("kv-save", HTMLButtonElement);
  const remove = byId("kv-delete", HTMLButtonElement);
  const result = byId("kv-result", HTMLOutputElement);

  /** The key and ETag the editor was loaded from; undefined while editing a new key. */
  let loaded: { key: string; etag: string } | undefined;
  let cursor = "0";
  let listing = 0;

  async function list(fromStart: boolean) {
    const run = ++listing;
    if (fromStart) cursor = "0";
    more.hidden = true;
    keys.setAttribute("aria-busy", "true");
    try {
      // SCAN pages may be empty while the cursor is not "0": keep going until something shows or it ends.
      let added = 0;
      let pages = 0;
      if (fromStart) keys.replaceChildren();
      do {
        const page = await client().kv.list({ prefix: prefix.value || undefined, cursor, limit: PAGE_SIZE });
        if (run !== listing) return;
        keys.querySelector(".empty")?.remove();
        for (const key of page.keys) keys.append(keyRow(key));
        added += page.keys.length;
        cursor = page.cursor;
      } while (added === 0 && cursor !== "0" && ++pages < MAX_EMPTY_PAGES);
      more.hidden = cursor === "0";
      if (keys.childElementCount === 0) {
        keys.append(
          element("li", "empty", cursor === "0" ? "no keys" : "none in the pages scanned so far: press More"),
        );
      }
      markCurrent();
    } catch (error) {
      if (run !== listing) return;
      keys.replaceChildren(element("li", "empty", `could not list keys: ${explain(error)}`));
    } finally {
      if (run === listing) keys.setAttribute("aria-busy", "false");
    }
  }

  function keyRow(key: string): HTMLLIElement {
    const row = element("li");
    const button = element("button", undefined, key);
    button.type = "button";
    button.dataset.key = key;
    button.addEventListener("click", () => void open(key));
    row.append(button);
    return row;
  }

  function markCurrent() {
    for (const button of keys.querySelectorAll<HTMLButtonElement>("button[data-key]")) {
      button.setAttribute("aria-current", String(button.dataset.key === loaded?.key));
    }
  }

  async function open(key: string) {
    showResult(result, `loading ${key}…`, "busy");
    try {
      const entry = await client().kv.get(key);
      if (!entry) {
        showResult(result, `${key} no longer exists`, "error");
        return;
      }
      loaded = { key, etag: entry.etag };
      keyInput.value = key;
      format.value = isJsonType(entry.contentType) ? "json" : "text";
      value.value = format.value === "json" ? JSON.stringify(entry.value, null, 2) : entry.text;
      ttl.value = "";
      showResult(result, `loaded, etag ${entry.etag}`);
      result.dataset.etag = entry.etag;
      markCurrent();
    } catch (error) {
      showResult(result, explain(error), "error");
    }
  }

  function startNew() {
    loaded = undefined;
    keyInput.value = "";
    value.value = "";
    ttl.value = "";
    showResult(result, "new key: saving creates it, and refuses if it already exists");
    markCurrent();
    keyInput.focus();
  }

  editForm.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const key = keyInput.value;
    const parsed = parseTyped(value.value, format.value);
    if (!parsed.ok) return showResult(result, parsed.error, "error");
    const ttlText = ttl.value.trim();
    if (ttlText && !/^[1-9]\d{0,9}$/.test(ttlText))
      return showResult(result, "TTL must be a whole number of seconds", "error");
    const sameKey = loaded?.key === key;
    save.disabled = true;
    showResult(result, "saving…", "busy");
    try {
      const written = await client().kv.set(key, parsed.value, {
        ...(sameKey && loaded ? { ifMatch: loaded.etag } : { ifNoneMatch: "*" as const }),
        ttl: ttlText ? Number(ttlText) : undefined,
      });
      loaded = { key, etag: written.etag };
      showResult(result, `${written.created ? "created" : "saved"}, etag ${written.etag}`, "ok");
      result.dataset.etag = written.etag;
      if (written.created) void list(true);
    } catch (error) {
      showResult(result, conflictHint(error, sameKey) ?? explain(error), "error");
    } finally {
      save.disabled = false;
    }
  });

  remove.addEventListener("click", async () => {
    const key = keyInput.value;
    if (!key) return showResult(result, "no key to delete", "error");
    showResult(result, `deleting ${key}…`, "busy");
    try {
      const ifMatch = loaded?.key === key ? loaded.etag : undefined;
      const existed = await client().kv.delete(key, { ifMatch });
      showResult(result, existed ? `deleted ${key}` : `${key} did not exist`, existed ? "ok" : "error");
      if (existed) {
        loaded = undefined;
        keys.querySelector(`button[data-key="${CSS.escape(key)}"]`)?.parentElement?.remove();
      }
    } catch (error) {
      showResult(result, conflictHint(error, true) ?? explain(error), "error");
    }
  });

  listForm.addEventListener("submit", (submit) => {
    submit.preventDefault();
    void list(true);
  });
  more.addEventListener("click", () => void list(false));
  newKey.addEventListener("click", startNew);

  return { refresh: () => void list(true) };
}

/** 412 means someone else changed the key since it was loaded (or it exists when creating). */
function conflictHint(error: unknown, editing: boolean): string | undefined {
  if (!(error instanceof RelayError) || error.status !== 412) return undefined;
  return editing
    ? "412: the key changed since it was loaded; open it again to see the current value"
    : "412: the key already exists; open it from the list to edit it";
}
