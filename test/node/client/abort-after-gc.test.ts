import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleClient } from "../../../scripts/build-dist.ts";
import { DEFAULT_LINGER_MS } from "../../../src/relay/hub/channel-hub.ts";
import { nodeBinaries } from "../package/packed-install.ts";
import {
  openUpstreamStreams,
  type PrivateRelay,
  startPrivateRelay,
  waitForUpstreamStreams,
} from "../relay/private-relay.ts";
import { token, unique } from "./fixture.ts";

/**
 * Aborting a subscription ends it even after a garbage collection (issue 8 item 6). Node's fetch follows a
 * Request's signal through weak references: once the Request object is collected, aborting reaches neither the
 * connection nor the body reader, so the iterator hangs until the next message or the idle timeout. Each case
 * runs the SDK in a child process with the collector exposed (vitest workers cannot call gc()), subscribes to an
 * idle channel, collects, aborts, and checks that the iterator ends at once AND that the relay saw the
 * connection go: the private proxy's `upstash_proxy_open_streams` (one upstream stream per SSE stream or
 * waiting long-poll) drops back to 0.
 */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CHILD = fileURLToPath(new URL("./abort-after-gc-child.mjs", import.meta.url));
const DENO = join(ROOT, "node_modules", ".bin", "deno");
const SOURCE = pathToFileURL(join(ROOT, "src", "client", "index.ts")).href;
/** The system Node (20 on the project's machines): the first `node` on PATH that is not vitest's Node 22. */
const OTHER_NODE = nodeBinaries()[1];
/** What "promptly" means, with room for a loaded 2-core machine; the old code waited 30 s (two heartbeats). */
const PROMPT_MS = 2000;

let relay: PrivateRelay;
let scratch: string;
/** The SDK built the way `npm run build` builds dist/client.js (`edge-relay/client`). */
let builtClient: string;

beforeAll(async () => {
  relay = await startPrivateRelay();
  // Inside the repository, so the bundle's external imports (eventsource-parser) resolve as in an installed package.
  mkdirSync(join(ROOT, ".test-results"), { recursive: true });
  scratch = mkdtempSync(join(ROOT, ".test-results", "abort-after-gc-"));
  const outfile = join(scratch, "client.js");
  await bundleClient(outfile);
  builtClient = pathToFileURL(outfile).href;
}, 60_000);

afterAll(async () => {
  await relay?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function nextLine(lines: AsyncIterator<string>, child: ChildProcess, stderr: () => string) {
  const timeout = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return lines.next().then((result) => {
    clearTimeout(timeout);
    if (result.done)
      throw new Error(`the child ended without answering (exit ${child.exitCode}):\n${stderr()}`);
    return JSON.parse(result.value) as Record<string, unknown>;
  });
}

/** Runs the child with `command prefix...`, subscribes with `transport`, collects, aborts; asserts both ends. */
async function abortAfterGc(
  command: string,
  prefix: string[],
  sdkUrl: string,
  transport: "sse" | "long-poll",
) {
  expect(await openUpstreamStreams(relay), "nothing else streams through the private proxy").toBe(0);
  const args = [...prefix, CHILD, sdkUrl, relay.url, await token("admin"), unique("idle"), transport];
  const child = spawn(command, args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.once("close", resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  try {
    expect(await nextLine(lines, child, () => stderr)).toEqual({ state: "ready" });
    expect(await waitForUpstreamStreams(relay, 1, 5000), "the relay holds the subscription upstream").toBe(1);

    child.stdin.write("abort\n");
    const outcome = await nextLine(lines, child, () => stderr);
    expect(outcome.ended, "the iterator ended after abort").toBe(true);
    expect(outcome.ms).toBeLessThan(PROMPT_MS);
    // The connection is gone too, not just the iterator: the relay released its upstream stream (the hub keeps a
    // channel's upstream for its linger after the last subscriber leaves, so that much on top).
    expect(
      await waitForUpstreamStreams(relay, 0, DEFAULT_LINGER_MS + PROMPT_MS),
      "streams still open after abort",
    ).toBe(0);
  } finally {
    child.stdin.end();
    const stopped = await Promise.race([
      exited.then(() => true),
      new Promise((r) => setTimeout(r, 5000, false)),
    ]);
    if (!stopped && child.pid !== undefined) child.kill("SIGKILL");
    await exited;
  }
}

describe("aborting a subscription after a garbage collection ends it and closes the connection", () => {
  it.each(["sse", "long-poll"] as const)(
    "Node 22, the SDK source, %s",
    async (transport) => {
      await abortAfterGc(process.execPath, ["--expose-gc"], SOURCE, transport);
    },
    60_000,
  );

  it.each(["sse", "long-poll"] as const)(
    "the system Node (20), the built client (dist/client.js), %s",
    async (transport) => {
      expect(OTHER_NODE, "a system node besides vitest's Node 22").toBeDefined();
      const version = execFileSync(OTHER_NODE as string, ["--version"], { encoding: "utf8" }).trim();
      expect(version).toMatch(/^v20\./);
      await abortAfterGc(OTHER_NODE as string, ["--expose-gc"], builtClient, transport);
    },
    60_000,
  );

  it.each(["sse", "long-poll"] as const)(
    "Deno, the SDK source, %s",
    async (transport) => {
      await abortAfterGc(DENO, ["run", "--allow-all", "--v8-flags=--expose-gc"], SOURCE, transport);
    },
    90_000,
  );
});
