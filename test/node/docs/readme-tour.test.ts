import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { createApp } from "../../../src/relay/app.ts";
import { parseConfig } from "../../../src/relay/config.ts";
import { uniqueName } from "../../scenarios/harness.ts";

/**
 * The README's five-minute tour shows real answers: its commands, run against the relay (in front of the real
 * proxy and redis-server), answer what the tour prints, byte for byte where the answer is deterministic (a KV
 * ETag is the sha1 of the value) and in shape where it is not (a message id holds the publish time). Names are
 * made unique so parallel tests cannot meet on "config" and "orders", and put back before comparing.
 */
const README = readFileSync(join(import.meta.dirname, "..", "..", "..", "README.md"), "utf8");
const TOUR = /## A five-minute tour[\s\S]*?```sh\n([\s\S]*?)```/.exec(README)?.[1] ?? "";
const app = createApp({
  config: parseConfig({
    UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
    UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
    RELAY_AUTH: "none",
  }),
});

/** The tour's printed answer (`# {…}`): the line after the command whose first line matches `command`. */
function printedAfter(command: RegExp): string {
  const lines = TOUR.split("\n");
  let at = lines.findIndex((line) => command.test(line));
  expect(at, `the tour has ${command}`).toBeGreaterThanOrEqual(0);
  while (lines[at]?.endsWith("\\")) at++; // a command continued on the next line
  const answer = lines[at + 1] ?? "";
  expect(answer, `the tour prints the answer of ${command}`).toMatch(/^# \{/);
  return answer.slice(2);
}

/** Message ids and times differ on every run: compare their shape. */
function shapeOfMessage(text: string): string {
  return text
    .replace(/"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{12}\.\d{13}-\d+"/g, '"<id>"')
    .replace(/"time":\d{13}/g, '"time":<ms>');
}

describe("the README tour", () => {
  it("prints the real ETag of a PUT, and compare-and-set uses it", async () => {
    const key = uniqueName("tour-config");
    const put = await app.request(`/v1/kv/${key}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"mode":"fast"}',
    });
    expect(put.status).toBe(201); // created; on a second run of the tour, 200
    const real = (await put.text()).replaceAll(key, "config");
    expect(printedAfter(/-X PUT "\$RELAY\/v1\/kv\/config" -H "\$AUTH" -H 'content-type/)).toBe(real);

    // The If-Match step sends that ETag and is answered with the new value's, as printed.
    const etag = (JSON.parse(real) as { etag: string }).etag;
    expect(TOUR).toContain(`-H 'If-Match: ${etag}'`);
    const swap = await app.request(`/v1/kv/${key}`, {
      method: "PUT",
      headers: { "content-type": "application/json", "if-match": etag },
      body: '{"mode":"safe"}',
    });
    expect(swap.status).toBe(200);
    expect(printedAfter(/-H 'If-Match: /)).toBe((await swap.text()).replaceAll(key, "config"));
  });

  it("prints the real shape of a publish and of history", async () => {
    const channel = uniqueName("tour-orders");
    const published = await app.request(`/v1/channels/${channel}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "order-17" },
      body: '{"id":17,"total":9.5}',
    });
    expect(published.status).toBe(201);
    const id = (await published.clone().json()) as { id: string };
    const printed = printedAfter(/-H 'Idempotency-Key: order-17'/);
    expect(shapeOfMessage(printed)).toBe(
      shapeOfMessage((await published.text()).replaceAll(channel, "orders")),
    );
    // An id names its channel (base64url), so the printed one must be a real id of "orders".
    expect(printed).toContain(`"id":"${Buffer.from("orders").toString("base64url")}.`);
    expect(id.id.startsWith(Buffer.from(channel).toString("base64url"))).toBe(true);

    const history = await app.request(`/v1/channels/${channel}/messages?limit=10`);
    expect(shapeOfMessage(printedAfter(/messages\?limit=10"/))).toBe(
      shapeOfMessage((await history.text()).replaceAll(channel, "orders")),
    );
  });

  it("says the SSE step is live-only unless given a cursor, and holds the terminal", () => {
    const sse = TOUR.slice(TOUR.indexOf("# Subscribe over SSE"), TOUR.indexOf("# History"));
    expect(sse).toMatch(/live[- ]only/i);
    expect(sse).toMatch(/lastEventId=/);
    expect(sse).toMatch(/Ctrl-C/);
  });
});
