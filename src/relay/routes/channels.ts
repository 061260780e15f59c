import { Hono } from "hono";
import { requireAdmin, requireScope } from "../auth/middleware.ts";
import type { RelayEnv } from "../context.ts";
import { channelParam } from "../http/params.ts";
import { readHistory } from "../redis/history.ts";
import { channelKeys } from "../redis/keys.ts";
import { dropChannelScript, newEpoch } from "../redis/publish-script.ts";

/** Channel metadata and administration. History and live delivery live in the realtime routes. */
export const channelRoutes = new Hono<RelayEnv>();

channelRoutes.get("/channels/:channel", async (c) => {
  const channel = channelParam(c);
  requireScope(c, "subscribe", channel);
  const history = await readHistory(c.get("redis")(), { channel, limit: 1 });
  return c.json({
    channel,
    length: history.length,
    first: history.first,
    last: history.last,
    epoch: history.epoch,
  });
});

channelRoutes.delete("/channels/:channel", async (c) => {
  const channel = channelParam(c);
  requireAdmin(c);
  const keys = channelKeys(channel);
  await dropChannelScript.run(
    c.get("redis")(),
    [keys.log, keys.epoch],
    [channel, newEpoch(), String(c.get("config").historyTtlSeconds)],
  );
  return c.body(null, 204);
});
