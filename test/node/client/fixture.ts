import { afterAll, beforeAll, inject } from "vitest";
import { mintToken } from "../../../src/cli/token.ts";
import { createClient, type RelayClient } from "../../../src/client/index.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";

export { uniqueName as unique } from "../../scenarios/harness.ts";

import { type RelayServer, startRelayServer } from "../browser/relay-server.ts";

/** The relay on Node over a real loopback socket, in front of the test stack's proxy and redis-server. */
export function startRelay(settings: Record<string, string> = {}): Promise<RelayServer> {
  return startRelayServer({
    UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
    UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
    RELAY_JWT_SECRET: TEST_JWT_SECRET,
    ...settings,
  });
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
