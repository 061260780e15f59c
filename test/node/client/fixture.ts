import { afterAll, beforeAll, inject } from "vitest";
import { mintToken } from "../../../src/cli/token.ts";
import { createClient, type RelayClient } from "../../../src/client/index.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";

export { uniqueName as unique } from "../../scenarios/harness.ts";

import { startNodeRelay } from "../../../src/entry/node.ts";

export interface RelayServer {
  /** http://127.0.0.1:<port> */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** The relay through its Node entry on a free loopback port, in front of the test stack's proxy and redis-server. */
export async function startRelay(settings: Record<string, string> = {}): Promise<RelayServer> {
  const relay = await startNodeRelay({
    UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
    UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
    RELAY_JWT_SECRET: TEST_JWT_SECRET,
    HOST: "127.0.0.1",
    PORT: "0",
    ...settings,
  });
  const { hostname, port } = new URL(relay.url);
  return { url: relay.url, host: hostname, port: Number(port), close: () => relay.close().then(() => {}) };
}

/** A token for the test secret, minted the way `relay token` does. */
export function token(scope: string, ttlSeconds = 600): Promise<string> {
  return mintToken({ secret: TEST_JWT_SECRET, scope, ttlSeconds });
}

export async function adminClient(url: string): Promise<RelayClient> {
  return createClient({ url, token: await token("admin") });
}

export interface RelayFixture {
  relay: RelayServer;
  /** An admin client of `relay`. */
  client: RelayClient;
}

/** Starts a relay for the file's tests (beforeAll) and stops it afterwards; fields are set once it runs. */
export function useRelay(settings: Record<string, string> = {}): RelayFixture {
  const fixture = {} as RelayFixture;
  beforeAll(async () => {
    fixture.relay = await startRelay(settings);
    fixture.client = await adminClient(fixture.relay.url);
  });
  afterAll(() => fixture.relay?.close());
  return fixture;
}
