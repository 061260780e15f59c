import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { uniqueName } from "../scenarios/harness.ts";
import { workersTarget } from "./target.ts";

/**
 * The channel's Durable Object authenticates a forwarded request again: reached directly through its binding
 * (as only the Worker can in production), it refuses what the Worker would refuse.
 */
const target = workersTarget();

interface Namespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

function channelObject(channel: string) {
  const namespace = env.RELAY_CHANNEL_OBJECTS as Namespace;
  return namespace.get(namespace.idFromName(`channel:${channel}`));
}

describe("RelayChannelObject", () => {
  it("refuses a request without a token (401) or without the channel's scope (403), as the Worker does", async () => {
    const channel = uniqueName("do-auth");
    const url = `http://relay.test/v1/channels/${channel}/events`;
    const object = channelObject(channel);
    const anonymous = await object.fetch(new Request(url));
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()) as { code: string }).toMatchObject({ code: "unauthorized" });
    const other = await target.token(`subscribe:${channel}-other`);
    const wrongScope = await object.fetch(
      new Request(url, { headers: { authorization: `Bearer ${other}` } }),
    );
    expect(wrongScope.status).toBe(403);
    await wrongScope.body?.cancel();
    const poll = await object.fetch(new Request(`http://relay.test/v1/channels/${channel}/messages?wait=1`));
    expect(poll.status).toBe(401);
    await poll.body?.cancel();
  });
});
