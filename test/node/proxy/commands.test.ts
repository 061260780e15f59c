import { afterAll } from "vitest";
import { commandScenarios } from "./command-scenarios.ts";
import { sharedProxy, tcpClient, unique } from "./proxy-fixtures.ts";

// The @upstash/redis command suite (command-scenarios.ts) through the proxy on the shared single Redis.
const direct = tcpClient();
afterAll(() => direct.quit());
commandScenarios(() => ({ ...sharedProxy(), direct, unique }));
