import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { verify } from "hono/jwt";
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from "vitest";
import { startNodeRelay } from "../../../src/entry/node.ts";
import { cleanEnv, finished, stderrUntil } from "../cli/run-cli.ts";
import {
  installedPackages,
  installFromGit,
  installIntoNewProject,
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
      "LICENSE",
      "CHANGELOG.md",
      "bin/relay.mjs",
      "dist/cli.mjs",
      "dist/node.mjs",
      "dist/client.js",
      "dist/relay.mjs",
      "dist/proxy.mjs",
      "dist/types/client/index.d.ts",
      "dist/types/entry/node.d.ts",
      "dist/types/relay/index.d.ts",
      "dist/types/proxy/index.d.ts",
      "docs/client.md",
      "docs/cli.md",
    ]) {
      expect(files).toContain(needed);
    }
    expect(files.filter((file) => /^(src|test|bench|scripts|examples|packages)\//.test(file))).toEqual([]);
    expect(existsSync(join(pkg.installed, "src"))).toBe(false);
  });

  it.each(NODES)(
    "relay --help and relay token run from the build with %s",
    async (node) => {
      const help = await relay(node, ["--help"]);
      expect(help.stderr).toBe("");
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: relay \[options\] \[command\]/);
      for (const command of ["set", "get", "publish", "subscribe", "token", "start", "serve", "proxy"]) {
        expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
      }
      const version = await relay(node, ["--version"]);
      expect(version).toEqual({ code: 0, stdout: "0.1.0\n", stderr: "" });
      const proxyHelp = await relay(node, ["proxy", "--help"]);
      expect(proxyHelp.code).toBe(0);
      expect(proxyHelp.stdout).toMatch(/^Usage: relay proxy \[options\]/);

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
    "relay serve runs the relay from the build with %s (the Node story of docs/deploy.md); SIGTERM stops it",
    async (node) => {
      const server = spawn(node, [relayBin(), "serve", "--port", "0"], {
        cwd: pkg.app,
        env: cleanEnv({
          UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
          UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
          RELAY_AUTH: "none",
        }),
        stdio: "pipe",
      });
      const done = finished(server);
      onTestFinished(() => {
        if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
      });
      const banner = await stderrUntil(server, /relay serve: listening on \S+/, 60_000);
      const url = /listening on (\S+)/.exec(banner)?.[1] as string;
      const health = await fetch(`${url}/healthz`);
      expect([health.status, await health.json()]).toEqual([200, { ok: true }]);
      server.kill("SIGTERM");
      expect((await done).code).toBe(0);
    },
    90_000,
  );

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

  it.each(NODES)(
    "edge-relay exports createApp, parseConfig and createProxy: a relay mounted in the user's Hono app, over a proxy, with %s",
    async (node) => {
      const script = join(pkg.app, "library.mjs");
      writeFileSync(
        script,
        `import { Hono } from "hono";
import { createApp, parseConfig, ConfigError } from "edge-relay";
import { createProxy } from "edge-relay/proxy";

const proxy = createProxy({ redisUrl: process.env.REDIS_URL, token: "library-token", log: () => {} });
const address = await proxy.listen({ port: 0 });
try {
  const config = parseConfig({
    UPSTASH_REDIS_REST_URL: address.url,
    UPSTASH_REDIS_REST_TOKEN: "library-token",
    RELAY_AUTH: "none",
  });
  const app = new Hono().route("/relay", createApp({ config }));
  const key = process.argv[2];
  const url = "http://app.test/relay/v1/kv/" + encodeURIComponent(key);
  const put = await app.fetch(new Request(url, { method: "PUT", body: "stored", headers: { "content-type": "text/plain" } }));
  const got = await app.fetch(new Request(url));
  let refused;
  try {
    parseConfig({});
  } catch (error) {
    refused = error instanceof ConfigError;
  }
  console.log(JSON.stringify({ put: put.status, got: [got.status, await got.text()], refused }));
} finally {
  await proxy.close();
}
`,
      );
      const key = `pkg/lib/${randomBytes(6).toString("hex")}%`;
      const { stdout, stderr } = await execFileAsync(node, [script, key], {
        cwd: pkg.app,
        env: { ...cleanEnv(), REDIS_URL: inject("redisUrl") },
        timeout: 60_000,
      });
      expect(stderr).toBe("");
      expect(JSON.parse(stdout)).toEqual({ put: 201, got: [200, "stored"], refused: true });
    },
    90_000,
  );

  it("@edge-relay/client installed alone brings eventsource-parser and nothing of the server", async () => {
    expect(pkg.client.packedFiles.sort()).toEqual(
      expect.arrayContaining([
        "package.json",
        "README.md",
        "LICENSE",
        "dist/index.js",
        "dist/types/client/index.d.ts",
      ]),
    );
    expect(
      pkg.client.packedFiles.filter((file) => !/^(dist\/|package\.json|README\.md|LICENSE)/.test(file)),
    ).toEqual([]);
    const app = await installIntoNewProject(join(scratch, "client-only"), pkg.client.tarball);
    expect(installedPackages(app)).toEqual(["@edge-relay/client", "eventsource-parser"]);

    // Bundled for a browser, it holds the SDK and eventsource-parser only.
    writeFileSync(join(app, "entry.js"), 'export { createClient } from "@edge-relay/client";\n');
    const bundled = await build({
      absWorkingDir: app,
      entryPoints: ["entry.js"],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      metafile: true,
      logLevel: "silent",
    });
    const packages = new Set(
      Object.keys(bundled.metafile.inputs).map(
        (input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1],
      ),
    );
    expect([...packages].sort()).toEqual(["@edge-relay/client", "eventsource-parser", undefined]);

    // And it talks to a relay (the Node entry, started here from the sources) from that project.
    const relay = await startNodeRelay({
      UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
      UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
      RELAY_AUTH: "none",
      HOST: "127.0.0.1",
      PORT: "0",
    });
    onTestFinished(async () => {
      await relay.close();
    });
    const channel = `pkg.client.${randomBytes(6).toString("hex")}`;
    writeFileSync(
      join(app, "publish.mjs"),
      `import { createClient } from "@edge-relay/client";
const client = createClient({ url: process.argv[2] });
const sent = await client.publish(process.argv[3], { alone: true });
const page = await client.history(process.argv[3]);
console.log(JSON.stringify(page.messages.map((m) => [m.id === sent.id, m.data])));
`,
    );
    const { stdout } = await execFileAsync(process.execPath, ["publish.mjs", relay.url, channel], {
      cwd: app,
      env: cleanEnv(),
      timeout: 60_000,
    });
    expect(JSON.parse(stdout)).toEqual([[true, { alone: true }]]);

    // Its declarations resolve from the package's exports (strict, lib checked).
    writeFileSync(
      join(app, "use.ts"),
      `import { createClient, RelayError, type RelayClient } from "@edge-relay/client";
export const client: RelayClient = createClient({ url: "http://127.0.0.1:8787" });
export const isRelayError = (error: unknown): boolean => error instanceof RelayError;
// @ts-expect-error: keys are strings (fails if the declarations degrade to any)
void client.kv.get(42);
`,
    );
    const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
    const checked = await execFileAsync(
      process.execPath,
      [
        tsc,
        "--strict",
        "--noEmit",
        "--module",
        "NodeNext",
        "--moduleResolution",
        "NodeNext",
        "--target",
        "ES2022",
        "--lib",
        "ES2022,DOM,DOM.Iterable",
        "--types",
        "",
        "use.ts",
      ],
      { cwd: app },
    ).catch((error: { stdout?: string; stderr?: string }) => error);
    expect(`${checked.stdout ?? ""}${checked.stderr ?? ""}`).toBe("");
  }, 180_000);

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
import { createApp, parseConfig, type RelayConfig } from "edge-relay";

const config: RelayConfig = parseConfig({ RELAY_AUTH: "none" });
export const relayApp = createApp({ config });
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
