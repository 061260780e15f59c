import { describe, expect, it } from "vitest";
import { authed, expectProblem } from "../scenarios/assertions.ts";
import { workersTarget } from "./target.ts";

/** wrangler.toml's defaults fit the Workers Free plan (docs/deploy.md): 50 subrequests per request. */
const target = workersTarget();

describe("Workers Free-plan defaults", () => {
  it("an SSE stream takes at most 32 channels and patterns (one subscribe subrequest each), not 64", async () => {
    const query = Array.from({ length: 33 }, (_, i) => `channel=free.${i}`).join("&");
    const problem = await expectProblem(
      await authed(target, "subscribe:*", `/v1/events?${query}`),
      400,
      "invalid_parameter",
    );
    expect(problem.detail).toBe("one stream takes at most 32 channels and patterns, got 33");
  });
});
