import { readFileSync } from "node:fs";
import { Redis } from "@upstash/redis";
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { finished, runCli, spawnCli, stdoutUntil } from "./run-cli.ts";

const version = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** `relay proxy` with these arguments and environment; resolves once it listens, with its URL and exit. */
async function startProxyCommand(args: string[], env: Record<string, string> = {}) {
  const child = spawnCli(["proxy", ...args], env);
  const done = finished(child);
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  const banner = await stdoutUntil(child, /proxy listening on \S+/, 30_000);
  const url = /proxy listening on (\S+)/.exec(banner)?.[1] as string;
  return { child, done, url };
}

function restClient(url: string, token: string): Redis {
  return new Redis({ url, token, retry: false, enableTelemetry: false, automaticDeserialization: false });
}

describe("relay --version", () => {
  it("prints the package.json version and exits 0", async () => {
    const result = await runCli(["--version"]);
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });
});

describe("relay proxy (the SRH drop-in, same flags and environment as npm run proxy)", () => {
  it("--help lists the proxy's own flags under `relay proxy`; a bad flag exits 2 and serves nothing", async () => {
    const help = await runCli(["proxy", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: relay proxy \[options\]/);
    for (const flag of ["--listen", "--redis", "--token", "--tokens-file", "--allow-blocking"])
      expect(help.stdout).toContain(flag);
    expect(help.stdout).not.toContain("outputHelp");

    const bad = await runCli(["proxy", "--listen", "nowhere"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^proxy: .*--listen expects host:port/);
    expect(bad.stdout).toBe("");
  });

  it("serves Redis with flags (--listen --redis --token); SIGTERM drains and exits 0", async () => {
    const proxy = await startProxyCommand([
      "--listen",
      "127.0.0.1:0",
      "--redis",
      inject("redisUrl"),
      "--token",
      "flag-token",
    ]);
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const redis = restClient(proxy.url, "flag-token");
    const key = `cli-proxy-${crypto.randomUUID()}`;
    expect(await redis.set(key, "through relay proxy")).toBe("OK");
    expect(await redis.get(key)).toBe("through relay proxy");
    await redis.del(key);
    await expect(restClient(proxy.url, "wrong").get(key)).rejects.toThrow(/Unauthorized|401/i);

    proxy.child.kill("SIGTERM");
    const stopped = await proxy.done;
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain("proxy: SIGTERM, draining");
  });

  it("takes SRH's environment (SRH_MODE=env, SRH_TOKEN, SRH_CONNECTION_STRING) and PROXY_LISTEN", async () => {
    const proxy = await startProxyCommand([], {
      SRH_MODE: "env",
      SRH_TOKEN: "srh-token",
      SRH_CONNECTION_STRING: inject("redisUrl"),
      PROXY_LISTEN: "127.0.0.1:0",
    });
    expect(await restClient(proxy.url, "srh-token").ping()).toBe("PONG");
    proxy.child.kill("SIGINT");
    expect((await proxy.done).code).toBe(0);
  });
});
