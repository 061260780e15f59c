import { randomBytes } from "node:crypto";
import { mintToken } from "../../../src/cli/token.ts";
import { freePort } from "../../helpers/free-port.ts";
import { isRunning } from "./child.ts";
import { ProxyProcess } from "./proxy-process.ts";
import { RedisProcess } from "./redis-process.ts";
import { ChildRelay, type RelayProcess, type RelayRuntime, WranglerRelay } from "./relay-process.ts";

/** Heartbeat of the suite's relays: small, so "silent for two heartbeats" is seconds, not half a minute. */
export const HEARTBEAT_MS = 1000;

/** Channels of the suite all start with this; the token covers nothing else. */
export const CHANNEL_PREFIX = "fault.";

/**
 * A private stack for one runtime: redis-server, the REST proxy and the relay, each its own process on its own
 * loopback port, so each can be killed, frozen or signalled and started again on the same port.
 */
export interface FaultStack {
  runtime: RelayRuntime;
  redis: RedisProcess;
  proxy: ProxyProcess;
  relay: RelayProcess;
  /** `Authorization` header value: publish and subscribe on `fault.*`. */
  authorization: string;
  /** Every pid the stack started. */
  pids(): number[];
  /** Stops every process by pid; resolves the pids still running afterwards (should be none). */
  stop(): Promise<number[]>;
}

/** Three different free ports: each freePort() releases its port, so two calls may return the same one. */
async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export async function startFaultStack(runtime: RelayRuntime): Promise<FaultStack> {
  const [redisPort, proxyPort, relayPort] = (await distinctPorts(3)) as [number, number, number];
  const redis = new RedisProcess(redisPort);
  const proxy = new ProxyProcess(proxyPort, redis.url, randomBytes(16).toString("hex"));
  const secret = randomBytes(32).toString("hex");
  const settings = {
    UPSTASH_REDIS_REST_URL: proxy.url,
    UPSTASH_REDIS_REST_TOKEN: proxy.token,
    RELAY_JWT_SECRET: secret,
    RELAY_HEARTBEAT_MS: String(HEARTBEAT_MS),
  };
  const relay: RelayProcess =
    runtime === "workers" ? new WranglerRelay(settings) : new ChildRelay(runtime, relayPort, settings);
  const pids = () => [...redis.pids, ...proxy.pids, ...relay.pids()];
  const stop = async () => {
    for (const part of [relay, proxy, redis]) await part.stop().catch(() => {});
    return pids().filter(isRunning);
  };
  try {
    await redis.start("none");
    await proxy.start();
    await relay.start();
  } catch (error) {
    await stop();
    throw error;
  }
  const scope = `publish:${CHANNEL_PREFIX}* subscribe:${CHANNEL_PREFIX}*`;
  const token = await mintToken({ secret, scope, ttlSeconds: 3600, subject: "fault-suite" });
  return { runtime, redis, proxy, relay, authorization: `Bearer ${token}`, pids, stop };
}
