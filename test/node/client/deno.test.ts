import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { token, unique, useRelay } from "./fixture.ts";

const DENO = fileURLToPath(new URL("../../../node_modules/.bin/deno", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./deno-round-trip.ts", import.meta.url));
// Deno resolves the SDK's npm dependencies through the repository's package.json and node_modules.
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const stack = useRelay();

describe("client SDK on Deno", () => {
  it("publishes, stores and resumes a subscription from a deno run process, unchanged", async () => {
    const channel = unique("deno");
    const { stdout } = await promisify(execFile)(
      DENO,
      [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        SCRIPT,
        stack.relay.url,
        await token("admin"),
        channel,
      ],
      {
        cwd: ROOT,
        timeout: 60_000,
      },
    );
    expect(JSON.parse(stdout)).toEqual({ received: ["two"], stored: { from: "deno" } });
    expect((await stack.client.history(channel)).messages.map((message) => message.data)).toEqual([
      { n: 1 },
      "two",
    ]);
  }, 90_000);
});
