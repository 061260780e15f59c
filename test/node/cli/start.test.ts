import { type ChildProcess, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { DEV_SECRET_FILE } from "../../../src/cli/dev-secret.ts";
import { mintToken } from "../../../src/cli/token.ts";
import { createClient } from "../../../src/client/index.ts";
import { keySlot } from "../../../src/protocol/key-slot.ts";
import { unique } from "../client/fixture.ts";
import { type OpenStream, openStream } from "../relay/relay-process.ts";
import { finished, runCli, spawnCli, stderrUntil } from "./run-cli.ts";

/** Every process below `root` (children, grandchildren: wrangler's workerd and esbuild). */
function descendants(root: number): number[] {
  const table = execFileSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const [pid, ppid] of table) {
      if (ppid === parent) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

/** Still running: listed by ps and not a zombie (an exited child its new parent has not reaped yet). */
function alive(pid: number): string | undefined {
  try {
    const line = execFileSync("ps", ["-o", "stat=,args=", "-p", String(pid)], { encoding: "utf8" }).trim();
    return line && !line.startsWith("Z") ? `${pid} ${line}` : undefined;
  } catch {
    return undefined; // ps exits 1 when the pid is gone.
  }
}

function survivors(pids: number[]): string[] {
  return pids.map(alive).filter((line): line is string => line !== undefined);
}

/** A failed assertion must not leave a stack running: SIGTERM it (it cleans up) and wait. */
async function stopIfRunning(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/** Open event streams on `channel`, live (their position frame arrived). */
async function liveStreams(
  url: string,
  token: string,
  channel: string,
  count: number,
): Promise<OpenStream[]> {
  const streams = await Promise.all(
    Array.from({ length: count }, () =>
      openStream(`${url}/v1/channels/${channel}/events`, { authorization: `Bearer ${token}` }),
    ),
  );
  for (const stream of streams) await stream.until(/^id: \S+\n\n/m);
  return streams;
}

/** The final frame a draining relay sends (docs/sse.md#shutdown): the stream's position and `retry:`. */
const FINAL_FRAME = /\nid: \S+\nretry: \d+\n\n$/;
/** RELAY_SHUTDOWN_MS of the tests that stop a stack with open streams, and the bound they check. */
const SHUTDOWN_MS = 3000;
const STOP_BOUND_MS = SHUTDOWN_MS + 6000;

function printed(stderr: string, name: string): string {
  const match = new RegExp(`export ${name}=(\\S+)`).exec(stderr);
  if (!match?.[1]) throw new Error(`relay start printed no ${name}:\n${stderr}`);
  return match[1];
}

describe("relay start (the local stack of npm start)", () => {
  it("brings up redis-server, the proxy and wrangler dev, prints URLs and a dev token, and SIGINT stops every child", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "relay-start-"));
    onTestFinished(() => rmSync(cwd, { recursive: true, force: true }));
    const stack = spawnCli(["start"], { PORT: "0", RELAY_MAX_BODY: "64" }, [], cwd);
    const done = finished(stack);
    onTestFinished(() => stopIfRunning(stack));
    const stderr = await stderrUntil(stack, /Ctrl-C stops everything/, 150_000);
    for (const component of ["redis        ready", "proxy        ready", "relay        ready"])
      expect(stderr).toContain(component);
    expect(stderr).toContain("generated a dev secret and saved it in");

    const client = createClient({ url: printed(stderr, "RELAY_URL"), token: printed(stderr, "RELAY_TOKEN") });
    const key = unique("start");
    await client.kv.set(key, { up: true });
    expect((await client.kv.get(key))?.value).toEqual({ up: true });
    // RELAY_* settings of the environment reach the relay: RELAY_MAX_BODY=64 makes a 100-byte publish a 413.
    await expect(client.publish(unique("big"), "x".repeat(100))).rejects.toMatchObject({ status: 413 });

    const children = descendants(stack.pid as number);
    expect(children.length).toBeGreaterThanOrEqual(2);
    // workerd does not drain (no signal reaches the Worker): an open stream is cut, and the stop stays bounded.
    const [stream] = await liveStreams(printed(stderr, "RELAY_URL"), printed(stderr, "RELAY_TOKEN"), key, 1);
    const signalledAt = Date.now();
    stack.kill("SIGINT");
    const result = await done;
    await stream?.ended.catch(() => "");
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("stopped");
    expect(Date.now() - signalledAt).toBeLessThan(STOP_BOUND_MS);
    expect(survivors(children)).toEqual([]);
  }, 200_000);

  it("the dev secret's file is git-ignored in this repository, so a clone never commits it", () => {
    const root = join(import.meta.dirname, "..", "..", "..");
    // Exit 0 and the path echoed when ignored; execFileSync throws on exit 1 (not ignored).
    const ignored = execFileSync("git", ["check-ignore", "--no-index", DEV_SECRET_FILE], {
      cwd: root,
      encoding: "utf8",
    });
    expect(ignored.trim()).toBe(DEV_SECRET_FILE);
  });

  it("without RELAY_JWT_SECRET the generated dev secret is kept in ./.relay-dev-secret: a token survives a restart", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "relay-start-"));
    onTestFinished(() => rmSync(cwd, { recursive: true, force: true }));
    const run = async () => {
      const stack = spawnCli(
        ["start", "--runtime", "node", "--quiet"],
        { PORT: "0", REDIS_URL: inject("redisUrl") },
        [],
        cwd,
      );
      const done = finished(stack);
      onTestFinished(() => stopIfRunning(stack));
      const stderr = await stderrUntil(stack, /Ctrl-C stops everything/, 120_000);
      return {
        stack,
        done,
        stderr,
        url: printed(stderr, "RELAY_URL"),
        token: printed(stderr, "RELAY_TOKEN"),
      };
    };
    const first = await run();
    expect(first.stderr).toContain("generated a dev secret and saved it in");
    const file = join(cwd, ".relay-dev-secret");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    first.stack.kill("SIGINT");
    expect((await first.done).code).toBe(0);

    const second = await run();
    expect(second.stderr).toContain(`using the dev secret saved in ${file}`);
    const key = unique("restart");
    // The first run's token, against the restarted relay.
    const client = createClient({ url: second.url, token: first.token });
    await client.kv.set(key, "kept");
    expect((await client.kv.get(key))?.value).toBe("kept");
    second.stack.kill("SIGINT");
    expect((await second.done).code).toBe(0);
  }, 300_000);

  it("with REDIS_URL spawns no redis-server; --runtime node serves the same relay; RELAY_JWT_SECRET is used as given; SIGTERM drains open streams", async () => {
    const secret = "a-secret-the-test-knows";
    const stack = spawnCli(["start", "--runtime", "node", "--quiet"], {
      PORT: "0",
      REDIS_URL: inject("redisUrl"),
      RELAY_JWT_SECRET: secret,
      RELAY_SHUTDOWN_MS: String(SHUTDOWN_MS),
    });
    const done = finished(stack);
    onTestFinished(() => stopIfRunning(stack));
    const stderr = await stderrUntil(stack, /Ctrl-C stops everything/, 120_000);
    expect(stderr).toContain("using REDIS_URL");
    expect(stderr).not.toContain("starting redis-server");
    const children = descendants(stack.pid as number);

    const token = await mintToken({ secret, scope: "admin", ttlSeconds: 60 });
    const client = createClient({ url: printed(stderr, "RELAY_URL"), token });
    const channel = unique("node");
    const published = await client.publish(channel, "via node");
    expect((await client.history(channel)).messages[0]?.id).toBe(published.id);
    const streams = await liveStreams(printed(stderr, "RELAY_URL"), token, channel, 2);

    const signalledAt = Date.now();
    stack.kill("SIGTERM");
    // The relay drains before it goes: every open stream gets its final id: + retry: frame (the old stack
    // SIGKILLed a relay that hung on them, and the streams were cut).
    for (const stream of streams) expect(await stream.ended).toMatch(FINAL_FRAME);
    const result = await done;
    expect(result.code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(STOP_BOUND_MS);
    expect(survivors(children)).toEqual([]);
  }, 150_000);

  it("--runtime deno (npm run start:deno) serves the relay from deno serve against the same stack; SIGINT drains open streams", async () => {
    const stack = spawnCli(["start", "--runtime", "deno", "--quiet"], {
      PORT: "0",
      REDIS_URL: inject("redisUrl"),
      RELAY_SHUTDOWN_MS: String(SHUTDOWN_MS),
    });
    const done = finished(stack);
    onTestFinished(() => stopIfRunning(stack));
    const stderr = await stderrUntil(stack, /Ctrl-C stops everything/, 120_000);
    expect(stderr).toContain("the relay on Deno");
    const children = descendants(stack.pid as number);
    const client = createClient({ url: printed(stderr, "RELAY_URL"), token: printed(stderr, "RELAY_TOKEN") });
    const key = unique("deno");
    await client.kv.set(key, "from deno");
    expect((await client.kv.get(key))?.value).toBe("from deno");
    const streams = await liveStreams(printed(stderr, "RELAY_URL"), printed(stderr, "RELAY_TOKEN"), key, 2);
    const signalledAt = Date.now();
    stack.kill("SIGINT");
    for (const stream of streams) expect(await stream.ended).toMatch(FINAL_FRAME);
    expect((await done).code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(STOP_BOUND_MS);
    expect(survivors(children)).toEqual([]);
  }, 150_000);

  it("--redis-cluster 3 --min-replicas-to-write 1 brings up 3 primaries with a replica each (guarded) behind the proxy; channels on every primary work; SIGINT stops every node", async () => {
    const stack = spawnCli(
      ["start", "--runtime", "node", "--quiet", "--redis-cluster", "3", "--min-replicas-to-write", "1"],
      { PORT: "0" },
    );
    const done = finished(stack);
    onTestFinished(() => stopIfRunning(stack));
    const stderr = await stderrUntil(stack, /Ctrl-C stops everything/, 180_000);
    const ports = /cluster ready: ([\d, ]+) on 127\.0\.0\.1/.exec(stderr)?.[1]?.split(", ").map(Number) ?? [];
    expect(ports).toHaveLength(6);
    const children = descendants(stack.pid as number);
    const cli = (port: number, ...args: string[]) =>
      execFileSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" }).trim();
    const primaries = ports.filter((port) => cli(port, "ROLE").startsWith("master"));
    expect(primaries).toHaveLength(3);
    for (const port of ports) {
      expect(cli(port, "CONFIG", "GET", "min-replicas-to-write")).toBe("min-replicas-to-write\n1");
      expect(cli(port, "CONFIG", "GET", "min-replicas-max-lag")).toBe("min-replicas-max-lag\n1");
    }

    // One channel in each third of the slot space: redis-cli gives each of the 3 primaries one third.
    const channels: string[] = [];
    for (let i = 0; channels.length < 3; i++) {
      const name = unique(`cl${i}`);
      if (Math.floor(keySlot(name) / (16384 / 3)) === channels.length) channels.push(name);
    }
    const client = createClient({ url: printed(stderr, "RELAY_URL"), token: printed(stderr, "RELAY_TOKEN") });
    for (const channel of channels) {
      const published = await client.publish(channel, `on ${channel}`);
      expect((await client.history(channel)).messages.map((m) => m.id)).toEqual([published.id]);
      await client.kv.set(channel, "kept");
      expect((await client.kv.get(channel))?.value).toBe("kept");
    }
    for (const port of primaries)
      expect(Number(cli(port, "DBSIZE")), `keys on primary ${port}`).toBeGreaterThan(0);

    stack.kill("SIGINT");
    expect((await done).code).toBe(0);
    expect(survivors(children)).toEqual([]);
  }, 240_000);

  it("--redis-cluster takes 3 to 16 primaries and not with REDIS_URL: a clear error, exit 2", async () => {
    const few = await runCli(["start", "--runtime", "node", "--redis-cluster", "2"], { env: { PORT: "0" } });
    expect(few.code).toBe(2);
    expect(few.stderr).toMatch(/primaries from 3 to 16/);
    const both = await runCli(["start", "--runtime", "node", "--redis-cluster", "3"], {
      env: { PORT: "0", REDIS_URL: "redis://127.0.0.1:1" },
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/cannot be used with/);
  });

  it("--min-replicas-to-write takes 1 and only with --redis-cluster: a clear error, exit 2", async () => {
    const alone = await runCli(["start", "--runtime", "node", "--min-replicas-to-write", "1"], {
      env: { PORT: "0" },
    });
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/needs '--redis-cluster <primaries>'/);
    const two = await runCli(
      ["start", "--runtime", "node", "--redis-cluster", "3", "--min-replicas-to-write", "2"],
      { env: { PORT: "0" } },
    );
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/expected 1 \(the local cluster has one replica per primary\)/);
  });

  it("Ctrl-C while wrangler dev is still starting stops what had started, exit 0", async () => {
    const stack = spawnCli(["start"], { PORT: "0" });
    const done = finished(stack);
    onTestFinished(() => stopIfRunning(stack));
    await stderrUntil(stack, /starting the relay under wrangler dev/, 60_000);
    const children = descendants(stack.pid as number);
    expect(children.length).toBeGreaterThanOrEqual(1);
    stack.kill("SIGINT");
    const result = await done;
    expect(result.code).toBe(0);
    expect(survivors(children)).toEqual([]);
  }, 120_000);

  it("without redis-server and without REDIS_URL: a clear message with install hints, exit 6", async () => {
    const result = await runCli(["start", "--runtime", "node"], {
      env: { PORT: "0", REDIS_SERVER_BIN: "/nonexistent/redis-server" },
    });
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/redis-server was not found/);
    expect(result.stderr).toMatch(/apt-get install -y redis-server/);
    expect(result.stderr).toMatch(/REDIS_URL/);
  });

  it("a port already in use is a clear error, exit 6", async () => {
    const blocker = spawnCli(["start", "--runtime", "node", "--quiet"], {
      PORT: "0",
      REDIS_URL: inject("redisUrl"),
      RELAY_JWT_SECRET: "x",
    });
    const done = finished(blocker);
    try {
      const stderr = await stderrUntil(blocker, /Ctrl-C stops everything/, 120_000);
      const port = new URL(printed(stderr, "RELAY_URL")).port;
      const result = await runCli(["start", "--runtime", "node", "--port", port], {
        env: { REDIS_URL: inject("redisUrl") },
      });
      expect(result.code).toBe(6);
      expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is in use`);
    } finally {
      blocker.kill("SIGINT");
      await done;
    }
  }, 150_000);
});
