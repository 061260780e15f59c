import { describe, expect, it } from "vitest";
import { createClient, RelayError } from "../../../src/client/index.ts";
import { token, unique, useRelay } from "./fixture.ts";

const stack = useRelay();

describe("client publish and history", () => {
  it("publishes JSON and text, and history returns them in order with their event types", async () => {
    const channel = unique("orders");
    const first = await stack.client.publish(channel, { id: 1, total: 9.5 });
    const second = await stack.client.publish(channel, "plain text", { event: "note" });
    expect(first).toMatchObject({ channel, id: expect.any(String), time: expect.any(Number) });
    const page = await stack.client.history(channel);
    expect(page.gap).toBe(false);
    expect(page.messages.map(({ id, event, data }) => ({ id, event, data }))).toEqual([
      { id: first.id, event: "message", data: { id: 1, total: 9.5 } },
      { id: second.id, event: "note", data: "plain text" },
    ]);
    const after = await stack.client.history(channel, { after: first.id });
    expect(after.messages.map((message) => message.id)).toEqual([second.id]);
  });

  it("an Idempotency-Key publishes once however often it is sent", async () => {
    const channel = unique("idem");
    const key = crypto.randomUUID();
    const first = await stack.client.publish(channel, { n: 1 }, { idempotencyKey: key });
    const again = await stack.client.publish(channel, { n: 1 }, { idempotencyKey: key });
    expect(again.id).toBe(first.id);
    expect((await stack.client.history(channel)).messages).toHaveLength(1);
  });

  it("each publish call gets its own key by default, so separate calls are separate messages", async () => {
    const channel = unique("twice");
    await stack.client.publish(channel, "same");
    await stack.client.publish(channel, "same");
    expect((await stack.client.history(channel)).messages).toHaveLength(2);
  });

  it("publishMany keeps the order across channels in one round trip", async () => {
    const [a, b] = [unique("a"), unique("b")];
    const published = await stack.client.publishMany([
      { channel: a, data: 1 },
      { channel: b, data: "two", event: "text" },
      { channel: a, data: { three: 3 } },
    ]);
    expect(published.map((message) => message.channel)).toEqual([a, b, a]);
    expect((await stack.client.history(a)).messages.map((message) => message.data)).toEqual([
      1,
      { three: 3 },
    ]);
    expect((await stack.client.history(b)).messages[0]).toMatchObject({ data: "two", event: "text" });
  });

  it("channel info reports length and the last cursor", async () => {
    const channel = unique("info");
    const last = await stack.client.publish(channel, 1).then(() => stack.client.publish(channel, 2));
    expect(await stack.client.channels.info(channel)).toMatchObject({ channel, length: 2, last: last.id });
  });

  it("rejects bad input with a typed RelayError and publishes nothing", async () => {
    const channel = unique("bad");
    const failures: [Promise<unknown>, number][] = [
      [stack.client.publish("bad channel\r\nX-Injected: 1", "x"), 400],
      [stack.client.publish(channel, "x", { event: "reset" }), 400],
      [stack.client.publish(channel, "x", { event: "has space" }), 400],
      [stack.client.publish(channel, "x".repeat(1_048_577)), 413],
    ];
    for (const [attempt, status] of failures) {
      const error = await attempt.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(RelayError);
      expect((error as RelayError).status).toBe(status);
      expect((error as RelayError).detail).not.toBe("");
    }
    expect(() => stack.client.publish(channel, () => 1)).toThrow(TypeError);
    expect((await stack.client.channels.info(channel)).length).toBe(0);
  });

  it("a token scoped to one channel cannot publish to another (403)", async () => {
    const allowed = unique("allowed");
    const limited = createClient({ url: stack.relay.url, token: await token(`publish:${allowed}`) });
    await limited.publish(allowed, "ok");
    const error = await limited.publish(unique("other"), "no").catch((reason: unknown) => reason);
    expect(error).toMatchObject({ status: 403, code: "forbidden" });
  });
});
