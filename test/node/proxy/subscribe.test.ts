import { once } from "node:events";
import { connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import {
  eventually,
  postJson,
  proxyFetch,
  sharedProxy,
  startPrivateProxy,
  tcpClient,
  unique,
  upstashClient,
} from "./proxy-fixtures.ts";
import { openStream } from "./stream-reader.ts";

const direct = tcpClient();
afterAll(() => direct.quit());

async function numsub(channel: string): Promise<number> {
  const reply = (await direct.call("PUBSUB", "NUMSUB", channel)) as [string, number];
  return Number(reply[1]);
}

/** Reads a stream's text until it contains `marker` (or the stream ends), then cancels it. */
async function readUntil(response: Response, marker: string): Promise<string> {
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes(marker)) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) break;
    text += chunk.value;
  }
  await reader?.cancel();
  return text;
}

describe("subscribe streams on the wire", () => {
  it("sends the exact text/event-stream the client parses", async () => {
    const channel = unique("wire");
    const stream = await openStream(`/subscribe/${channel}`, { headers: { "upstash-encoding": "base64" } });
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get("content-type")).toBe("text/event-stream");
    expect(stream.response.headers.get("cache-control")).toContain("no-cache");
    expect(await stream.waitForData(1)).toEqual([`subscribe,${channel},1`]);
    await direct.publish(channel, "hello, world ✓");
    await direct.publish(channel, JSON.stringify({ a: [1, 2] }));
    expect(await stream.waitForData(3)).toEqual([
      `subscribe,${channel},1`,
      `message,${channel},hello, world ✓`,
      `message,${channel},{"a":[1,2]}`,
    ]);
    expect(stream.text()).not.toContain("\r");
    expect(stream.text()).toBe(
      `data: subscribe,${channel},1\n\ndata: message,${channel},hello, world ✓\n\ndata: message,${channel},{"a":[1,2]}\n\n`,
    );
    stream.close();
  });

  it("psubscribe sends pmessage lines with pattern and channel", async () => {
    const prefix = unique("pat");
    const stream = await openStream(`/psubscribe/${prefix}.*`);
    expect(await stream.waitForData(1)).toEqual([`psubscribe,${prefix}.*,1`]);
    await direct.publish(`${prefix}.one`, "p1");
    expect((await stream.waitForData(2))[1]).toBe(`pmessage,${prefix}.*,${prefix}.one,p1`);
    stream.close();
  });

  it("percent-decodes names and serves several channels on one stream", async () => {
    const base = unique("dec");
    const stream = await openStream(`/subscribe/${encodeURIComponent(`${base} a?#`)}/${base}-b`);
    expect(await stream.waitForData(2)).toEqual([`subscribe,${base} a?#,1`, `subscribe,${base}-b,2`]);
    await direct.publish(`${base} a?#`, "one");
    await direct.publish(`${base}-b`, "two");
    expect((await stream.waitForData(4)).slice(2)).toEqual([
      `message,${base} a?#,one`,
      `message,${base}-b,two`,
    ]);
    stream.close();
  });

  it("refuses malformed names with 400 JSON and subscribes nothing", async () => {
    for (const path of [
      "/subscribe/%E0%A4%A",
      "/subscribe/a%0Ab",
      "/subscribe/a%0Db",
      "/subscribe/a//b",
      "/psubscribe/%ZZ",
    ]) {
      const response = await postJson(path, []);
      expect(response.status, path).toBe(400);
      expect(response.headers.get("content-type")).toBe("application/json");
      expect(((await response.json()) as { error: string }).error).toMatch(/^ERR /);
    }
    const head = await proxyFetch("/subscribe/x", { method: "HEAD" });
    expect(head.status).toBe(405);
    const tooMany = await postJson(
      `/subscribe/${Array.from({ length: 101 }, (_, index) => `c${index}`).join("/")}`,
      [],
    );
    expect(tooMany.status).toBe(400);
    expect(await numsub("a\nb")).toBe(0);
  });

  it("never lets a payload's newline forge an event", async () => {
    const channel = unique("forge");
    const stream = await openStream(`/subscribe/${channel}`);
    await stream.waitForData(1);
    await direct.publish(channel, "x\ndata: message,other,forged\r\rdata: message,other,forged2");
    await direct.publish(channel, "after");
    const lines = await stream.waitForData(3);
    expect(lines).toEqual([`subscribe,${channel},1`, `message,${channel},x`, `message,${channel},after`]);
    stream.close();
  });
});

describe("the client's Subscriber", () => {
  it("receives messages and pattern messages through the proxy", async () => {
    const redis = upstashClient();
    const channel = unique("client");
    const subscriber = redis.subscribe<unknown>([channel]);
    const messages: unknown[] = [];
    let subscribed = 0;
    subscriber.on("subscribe", () => subscribed++);
    subscriber.on("message", ({ message }) => messages.push(message));
    await eventually(() => expect(subscribed).toBe(1));
    expect(await redis.publish(channel, { kind: "json", n: 1 })).toBe(1);
    expect(await redis.publish(channel, "plain, with comma")).toBe(1);
    await eventually(() => expect(messages).toEqual([{ kind: "json", n: 1 }, "plain, with comma"]));
    await subscriber.unsubscribe();

    const prefix = unique("clientpat");
    const psub = redis.psubscribe<unknown>([`${prefix}:*`]);
    const pmessages: Array<{ pattern: string; channel: string; message: unknown }> = [];
    let psubscribed = 0;
    psub.on("psubscribe", () => psubscribed++);
    psub.on("pmessage", (event) => pmessages.push(event));
    await eventually(() => expect(psubscribed).toBe(1));
    await redis.publish(`${prefix}:x`, { v: 2 });
    await eventually(() =>
      expect(pmessages).toEqual([{ pattern: `${prefix}:*`, channel: `${prefix}:x`, message: { v: 2 } }]),
    );
    await psub.unsubscribe();
  });
});

describe("one shared Redis subscriber", () => {
  it("fans one Redis subscription out to many streams", async () => {
    const channel = unique("fan");
    const streams = await Promise.all(Array.from({ length: 50 }, () => openStream(`/subscribe/${channel}`)));
    await Promise.all(streams.map((stream) => stream.waitForData(1)));
    expect(await numsub(channel)).toBe(1); // fifty HTTP streams, one Redis subscription
    const metrics = await (await fetch(`${sharedProxy().url}/metrics`)).text();
    expect(Number(/^upstash_proxy_open_streams (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(50);
    expect(await direct.publish(channel, "to-all")).toBe(1);
    for (const stream of streams) expect((await stream.waitForData(2))[1]).toBe(`message,${channel},to-all`);
    for (const stream of streams) stream.close();
    await eventually(() => expect(numsub(channel)).resolves.toBe(0));
  });

  it("leaks nothing after 1000 open/close cycles", async () => {
    const prefix = unique("cycle");
    const channels = Array.from({ length: 10 }, (_, index) => `${prefix}:${index}`);
    const patterns = [`${prefix}:p*`];
    let cycle = 0;
    const worker = async () => {
      while (cycle < 1000) {
        const index = cycle++;
        const path = index % 10 === 9 ? `/psubscribe/${patterns[0]}` : `/subscribe/${channels[index % 10]}`;
        const stream = await openStream(path);
        expect(stream.response.status).toBe(200);
        if (index % 2 === 0) await stream.waitForData(1); // half close right after confirmation, half at once
        stream.close();
      }
    };
    await Promise.all(Array.from({ length: 25 }, worker));
    await eventually(async () => {
      const active = (await direct.call("PUBSUB", "CHANNELS", `${prefix}:*`)) as string[];
      expect(active).toEqual([]);
      expect(Number(await direct.call("PUBSUB", "NUMPAT"))).toBe(0);
    });
  }, 120_000); // a thousand real HTTP streams: generous for a loaded CI machine
});

describe("keepalive and limits (private proxy)", () => {
  it("sends : keepalive comments at the configured interval", async () => {
    const stack = await startPrivateProxy({ token: "t", keepaliveMs: 100 });
    try {
      const response = await fetch(`${stack.url}/subscribe/k`, {
        method: "POST",
        headers: { authorization: "Bearer t" },
        body: "[]",
      });
      const text = await readUntil(response, ": keepalive\n\n");
      expect(text).toMatch(/^data: subscribe,k,1\n\n(: keepalive\n\n)+$/);
    } finally {
      await stack.stop();
    }
  });
});

describe("slow consumers (private proxy)", () => {
  it("closes a stream whose client stops reading, and releases its subscription", async () => {
    const stack = await startPrivateProxy({ token: "t", maxStreamBacklogBytes: 256 * 1024 });
    const publisher = tcpClient(stack.redis.url);
    try {
      const { port } = new URL(stack.url);
      const socket = connect(Number(port), "127.0.0.1");
      await once(socket, "connect");
      socket.write(
        "POST /subscribe/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 2\r\n\r\n[]",
      );
      const [first] = (await once(socket, "data")) as [Buffer];
      expect(first.toString()).toContain("data: subscribe,slow,1");
      socket.pause(); // and never read again
      const payload = "x".repeat(100 * 1024);
      await eventually(async () => {
        for (let index = 0; index < 20; index++) await publisher.publish("slow", payload);
        const metrics = await (await fetch(`${stack.url}/metrics`)).text();
        expect(metrics).toMatch(/^upstash_proxy_streams_closed_slow_total 1$/m);
      }, 20_000);
      await eventually(async () =>
        expect(await publisher.call("PUBSUB", "NUMSUB", "slow")).toEqual(["slow", 0]),
      );
      socket.destroy();
    } finally {
      publisher.disconnect();
      await stack.stop();
    }
  });
});

describe("a stream opened while the Redis subscriber reconnects (private proxy)", () => {
  it("is confirmed only once Redis really has the subscription again", async () => {
    const stack = await startPrivateProxy({ token: "t", readyWaitMs: 20_000, maxReconnectDelayMs: 200 });
    const admin = tcpClient(stack.redis.url);
    const open = () =>
      fetch(`${stack.url}/subscribe/back`, {
        method: "POST",
        headers: { authorization: "Bearer t" },
        body: "[]",
      });
    const subscribed = async () => ((await admin.call("PUBSUB", "NUMSUB", "back")) as [string, number])[1];
    try {
      const first = await open();
      expect(first.status).toBe(200);
      // Authenticated connections keep working; the killed subscriber cannot reconnect until the password goes.
      await admin.call("CONFIG", "SET", "requirepass", "reconnect-test");
      await admin.call("CLIENT", "KILL", "TYPE", "pubsub");
      await eventually(async () => expect(await subscribed()).toBe(0));
      let numsubAtConfirmation: number | undefined;
      const second = open().then(async (response) => {
        numsubAtConfirmation = await subscribed();
        return response;
      });
      // Give a premature confirmation the chance to show, then let the subscriber back in.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await admin.call("CONFIG", "SET", "requirepass", "");
      const response = await second;
      expect(response.status).toBe(200);
      expect(
        numsubAtConfirmation,
        "a subscribe confirmation while Redis had no subscription",
      ).toBeGreaterThan(0);
      await admin.publish("back", "after");
      const text = await readUntil(response, "message,back,after");
      expect(text).toContain("data: subscribe,back,1\n\n");
      expect(text).toContain("data: message,back,after\n\n");
      await first.body?.cancel();
    } finally {
      await admin.call("CONFIG", "SET", "requirepass", "").catch(() => {});
      admin.disconnect();
      await stack.stop();
    }
  });
});
