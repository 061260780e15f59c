import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { verify } from "hono/jwt";
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from "vitest";
import { cleanEnv, finished, stderrUntil } from "../cli/run-cli.ts";
import {
  installFromGit,
  nodeBinaries,
  type PackedInstall,
  packAndInstall,
  REPO_ROOT,
  scratchDirectory,
} from "./packed-install.ts";

const execFileAsync = promisify(execFile);
const NODES = nodeBinaries();

// The package as users get it: `npm pack` (prepack builds dist/), `npm install <tarball>` in a fresh project.
// Generous time limits: npm and several Node processes on a shared 2-core machine.
describe("the packed package, installed into a fresh project", () => {
  const scratch = scratchDirectory();
  let pkg: PackedInstall;

  beforeAll(async () => {
    pkg = await packAndInstall(scratch);
  }, 240_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const relayBin = () => join(pkg.app, "node_modules", ".bin", "relay");
  /** Runs the installed `relay` with the given Node, as `npx relay` would (the .bin link, from the app). */
  const relay = (node: string, args: string[], env: Record<string, string> = {}) =>
    finished(spawn(node, [relayBin(), ...args], { cwd: pkg.app, env: cleanEnv(env), stdio: "pipe" }));

  it("ships the build, the bin and the docs, and no sources or tests", () => {
    const files = pkg.packedFiles;
    for (const needed of [
      "package.json",
      "README.md",
      "bin/relay.mjs",
      "dist/cli.mjs",
      "dist/node.mjs",
      "dist/client.js",
      "dist/types/client/index.d.ts",
      "dist/types/entry/node.d.ts",
      "docs/client.md",
      "docs/cli.md",
    ]) {
      expect(files).toContain(needed);
    }
    expect(files.filter((file) => /^(src|test|bench|scripts|examples)\//.test(file))).toEqual([]);
    expect(existsSync(join(pkg.installed, "src"))).toBe(false);
  });

  it.each(NODES)(
    "relay --help and relay token run from the build with %s",
    async (node) => {
      const help = await relay(node, ["--help"]);
      expect(help.stderr).toBe("");
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: relay \[options\] \[command\]/);
      for (const command of ["set", "get", "publish", "subscribe", "token", "start"]) {
        expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
      }

      const minted = await relay(node, ["token", "--secret", "s", "--scope", "admin"]);
      expect(minted.stderr).toBe("");
      expect(minted.code).toBe(0);
      const claims = await verify(minted.stdout.trim(), "s", "HS256");
      expect(claims.scope).toBe("admin");
      await expect(verify(minted.stdout.trim(), "not-s", "HS256")).rejects.toThrow();

      const noSecret = await relay(node, ["token", "--scope", "admin"]);
      expect(noSecret.code).toBe(2);
      expect(noSecret.stderr).toContain("no signing secret");
      const unknown = await relay(node, ["frobnicate"]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    },
    90_000,
  );

  it("relay start --runtime workers says the installed package has only the Node runtime, and starts nothing", async () => {
    const result = await relay(process.execPath, ["start", "--runtime", "workers", "--port", "0"]);
    expect(result.code).toBe(6);
    expect(result.stderr).toContain("an installed package does not ship");
    expect(result.stderr).toContain("--runtime node");
    expect(result.stderr).not.toContain("redis-server");
  }, 60_000);

  it("relay start --runtime node serves the relay from dist/node.mjs; relay set/get use it; SIGINT stops it", async () => {
    const node = NODES.at(-1) as string; // the oldest Node found: the system one when there is one
    const stack = spawn(node, [relayBin(), "start", "--runtime", "node", "--port", "0", "--quiet"], {
      cwd: pkg.app,
      env: cleanEnv({ REDIS_URL: inject("redisUrl") }),
      stdio: "pipe",
    });
    const done = finished(stack);
    onTestFinished(() => {
      if (stack.exitCode === null && stack.signalCode === null) stack.kill("SIGTERM");
    });
    const banner = await stderrUntil(stack, /ready\. Ctrl-C stops everything/, 90_000);
    const url = /export RELAY_URL=(\S+)/.exec(banner)?.[1];
    const token = /export RELAY_TOKEN=(\S+)/.exec(banner)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(token).toBeTruthy();
    const env = { RELAY_URL: url as string, RELAY_TOKEN: token as string };
    const key = `pkg.cli.${randomBytes(6).toString("hex")}`;

    const set = await relay(node, ["set", key, "from the installed cli"], env);
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    const got = await relay(node, ["get", key], env);
    expect(got.code).toBe(0);
    expect(got.stdout).toBe("from the installed cli\n");

    stack.kill("SIGINT");
    const stopped = await done;
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toContain("relay start: stopped");
  }, 150_000);

  it.each(NODES)(
    "an ESM script imports edge-relay/client and edge-relay/node and round-trips with %s",
    async (node) => {
      const script = join(pkg.app, "round-trip.mjs");
      writeFileSync(
        script,
        `import { startNodeRelay } from "edge-relay/node";
import { createClient, RelayError } from "edge-relay/client";

const [key, channel] = process.argv.slice(2);
const relay = await startNodeRelay({
  UPSTASH_REDIS_REST_URL: process.env.UPSTASH_URL,
  UPSTASH_REDIS_REST_TOKEN: process.env.UPSTASH_TOKEN,
  RELAY_AUTH: "none",
  HOST: "127.0.0.1",
  PORT: "0",
});
try {
  const client = createClient({ url: relay.url });
  const set = await client.kv.set(key, { hello: "installed" });
  const got = await client.kv.get(key);
  const first = await client.publish(channel, { n: 1 });
  const second = await client.publish(channel, "two");
  const page = await client.history(channel);
  let streamed;
  for await (const event of client.subscribe(channel, { after: first.id, transport: "sse" })) {
    streamed = event;
    break;
  }
  let refused;
  try {
    await client.publish("bad name with spaces", "x");
  } catch (error) {
    refused = { isRelayError: error instanceof RelayError, code: error.code };
  }
  console.log(JSON.stringify({ set, got, first, second, page, streamed, refused }));
} finally {
  await relay.close();
}
`,
      );
      const suffix = randomBytes(6).toString("hex");
      const key = `pkg.kv.${suffix}`;
      const channel = `pkg.ch.${suffix}`;
      const { stdout, stderr } = await execFileAsync(node, [script, key, channel], {
        cwd: pkg.app,
        env: { ...cleanEnv(), UPSTASH_URL: inject("upstashUrl"), UPSTASH_TOKEN: inject("upstashToken") },
        timeout: 60_000,
      });
      expect(stderr).toBe("");
      const result = JSON.parse(stdout);
      expect(result.set).toMatchObject({ key, created: true });
      expect(result.got).toMatchObject({ key, value: { hello: "installed" }, etag: result.set.etag });
      expect(result.page.messages.map((m: { id: string; data: unknown }) => [m.id, m.data])).toEqual([
        [result.first.id, { n: 1 }],
        [result.second.id, "two"],
      ]);
      expect(result.streamed).toMatchObject({ type: "message", id: result.second.id, channel, data: "two" });
      expect(result.refused.isRelayError).toBe(true);
      expect(result.refused.code).toBeTruthy();
    },
    90_000,
  );

  it.each(["NodeNext", "Bundler"])(
    "TypeScript (moduleResolution %s, strict, lib checked) types edge-relay/client from the installed declarations",
    async (resolution) => {
      const dir = join(pkg.app, `types-${resolution.toLowerCase()}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      writeFileSync(
        join(dir, "use.ts"),
        `import { createClient, json, RelayError, type RelayClient, type SubscriptionEvent } from "edge-relay/client";
import { startNodeRelay } from "edge-relay/node";

const client: RelayClient = createClient({ url: "http://127.0.0.1:8787", getToken: async () => "t" });
export async function use(): Promise<string> {
  const entry = await client.kv.get("k");
  const etag: string | undefined = entry?.etag;
  await client.kv.set("k", json("text"), etag ? { ifMatch: etag } : {});
  const sent = await client.publish("orders", { id: 1 });
  const page = await client.history("orders", { after: sent.id, limit: 10 });
  for await (const event of client.subscribe("orders")) {
    const seen: SubscriptionEvent = event;
    if (seen.type === "message") return seen.id;
  }
  // @ts-expect-error: keys are strings (fails if the declarations degrade to any)
  await client.kv.get(42);
  const relay = await startNodeRelay({ RELAY_AUTH: "none" });
  await relay.close();
  try {
    await client.channels.info("orders");
  } catch (error) {
    if (error instanceof RelayError) return \`\${error.code} \${error.status} \${error.detail}\`;
  }
  return page.cursor;
}
`,
      );
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: resolution === "NodeNext" ? "NodeNext" : "ESNext",
            moduleResolution: resolution,
            lib: ["ES2022", "DOM", "DOM.Iterable"],
            types: [],
            strict: true,
            noEmit: true,
            skipLibCheck: false,
          },
          files: ["use.ts"],
        }),
      );
      const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
      const checked = await execFileAsync(process.execPath, [tsc, "-p", dir], { cwd: dir }).catch(
        (error: { stdout?: string; stderr?: string; code?: number }) => error,
      );
      expect(`${checked.stdout ?? ""}${checked.stderr ?? ""}`).toBe("");
    },
    60_000,
  );
});

describe("the package installed from a git URL", () => {
  const scratch = scratchDirectory();
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("is built by its prepare script: the relay bin and edge-relay/client work", async () => {
    const app = await installFromGit(scratch);
    const help = await finished(
      spawn(process.execPath, [join(app, "node_modules", ".bin", "relay"), "--help"], {
        cwd: app,
        env: cleanEnv(),
        stdio: "pipe",
      }),
    );
    expect(help.stderr).toBe("");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: relay/);
    const { stdout } = await execFileAsync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const sdk = await import("edge-relay/client"); console.log(Object.keys(sdk).sort().join(","));',
      ],
      { cwd: app },
    );
    expect(stdout.trim()).toBe("RelayError,createClient,json");
  }, 240_000);
});
