import { describe, expect, it } from "vitest";
import { classifyUpstreamFailure } from "./upstream-failure.ts";

/** An error the way @upstash/redis reports a non-2xx answer: the endpoint's text plus our command. */
const upstash = (text: string) =>
  Object.assign(new Error(`${text}, command was: ["evalsha","x"]`), { name: "UpstashError" });
const fetchFailed = (code: string, message: string) =>
  Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error(message), { code }) });

// The texts come from the places that produce them: this project's proxy (src/proxy/redis-backend.ts),
// Node's fetch (undici), Deno's and workerd's fetch, Redis and Upstash. The end-to-end checks are in
// test/node/relay/upstream-failures.test.ts.
describe("classifyUpstreamFailure", () => {
  it.each([
    ["proxy: not connected", upstash("Redis is unavailable: redis://127.0.0.1:6379/ (connect ECONNREFUSED)")],
    [
      "proxy: never written",
      upstash(
        "Redis is unavailable: redis://x (Stream isn't writeable and enableOfflineQueue options is false)",
      ),
    ],
    ["node fetch: refused", fetchFailed("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:9")],
    ["node fetch: no such host", fetchFailed("ENOTFOUND", "getaddrinfo ENOTFOUND redis.example")],
    [
      "deno fetch: refused",
      new TypeError(
        "error sending request for url (http://127.0.0.1:9/): client error (Connect): tcp connect error: Connection refused (os error 111)",
      ),
    ],
    ["bad token", upstash("Unauthorized")],
    ["redis loading", upstash("LOADING Redis is loading the dataset in memory")],
    ["upstash quota", upstash("ERR max daily request limit exceeded. Limit: 10000, Usage: 10000.")],
  ])("%s → unavailable", (_, error) => {
    expect(classifyUpstreamFailure(error)).toBe("unavailable");
  });

  it.each([
    [
      "proxy: command timeout",
      upstash("Redis did not answer, the command may have run: Command timed out (redis://x)"),
    ],
    [
      "proxy: connection lost in flight",
      upstash(
        'Redis did not answer, the command may have run: Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details. (redis://x)',
      ),
    ],
    ["older proxy wording", upstash("Redis did not answer: Command timed out (redis://x)")],
    ["node fetch: socket closed mid-request", fetchFailed("UND_ERR_SOCKET", "other side closed")],
    ["workerd fetch", new TypeError("Network connection lost.")],
    [
      "gateway error page",
      Object.assign(new Error("Unable to parse response body: <html>502 Bad Gateway</html>"), {
        name: "UpstashJSONParseError",
      }),
    ],
    ["abort by timeout", Object.assign(new Error("The operation timed out."), { name: "TimeoutError" })],
  ])("%s → outcome_unknown", (_, error) => {
    expect(classifyUpstreamFailure(error)).toBe("outcome_unknown");
  });

  it.each([
    ["a Redis error reply", upstash("ERR Error running script (call to f_abc): @user_script:1: bad")],
    ["a relay bug", new TypeError("Cannot read properties of undefined (reading 'x')")],
    ["not an Error", "boom"],
  ])("%s → not an upstream failure (500)", (_, error) => {
    expect(classifyUpstreamFailure(error)).toBeUndefined();
  });
});
