import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, inject, it, onTestFinished } from "vitest";
import { freePort } from "../../helpers/free-port.ts";
import { cleanEnv } from "../cli/run-cli.ts";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const NPM_DENO = join(ROOT, "node_modules", "deno", "deno");
const SYSTEM_PATH = "/usr/bin:/bin";

/** `deno <args>` as a user runs it; resolves with the URL once it listens. Stopped by its process group. */
async function denoListening(
  cwd: string,
  path: string,
  args = ["task", "start"],
  port = "0",
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn("deno", args, {
    cwd,
    detached: true, // its own process group: the task runner, the launcher and the server stop together
    stdio: ["ignore", "pipe", "pipe"],
    env: cleanEnv({
      PATH: path,
      UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
      UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
      RELAY_AUTH: "none",
      HOST: "127.0.0.1",
      PORT: port,
      NO_COLOR: "1",
    }),
  });
  onTestFinished(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`deno task start did not listen in 150 s:\n${output}`)),
      150_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /Listening on http:\/\/[^:]+:(\d+)\//.exec(output);
      if (listening) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${listening[1]}`);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`deno task start exited (${code}) before listening:\n${output}`));
    });
  });
  return { url, child };
}

async function expectHealthy(url: string): Promise<void> {
  const response = await fetch(`${url}/healthz`);
  expect([response.status, await response.json()]).toEqual([200, { ok: true }]);
}

describe("deno task start (docs/deploy.md)", () => {
  const scratch = mkdtempSync(join(tmpdir(), "relay-deno-task-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("with no deno on PATH but the npm package's (npx deno task start after npm install)", async () => {
    const { url } = await denoListening(ROOT, `${join(ROOT, "node_modules", ".bin")}:${SYSTEM_PATH}`);
    await expectHealthy(url);
  }, 180_000);

  it("with a deno on PATH and no npm install: Deno fetches the packages into its own cache", async () => {
    const project = join(scratch, "clone");
    mkdirSync(join(project, "scripts"), { recursive: true });
    for (const entry of ["package.json", "deno.json", "src", "scripts/deno-start.ts"])
      cpSync(join(ROOT, entry), join(project, entry), { recursive: true });
    const bin = join(scratch, "bin");
    mkdirSync(bin);
    symlinkSync(NPM_DENO, join(bin, "deno"));
    const { url } = await denoListening(project, `${bin}:${SYSTEM_PATH}`);
    await expectHealthy(url);
    expect(existsSync(join(project, "node_modules")), "nothing installed into the project").toBe(false);
    expect(existsSync(join(project, "deno.lock")), "no lockfile written").toBe(false);
  }, 180_000);

  it("the Deno Deploy entrypoint (src/entry/deno-deploy.ts) serves the relay on PORT", async () => {
    const port = String(await freePort());
    const { url } = await denoListening(
      ROOT,
      `${join(ROOT, "node_modules", ".bin")}:${SYSTEM_PATH}`,
      ["run", "--allow-net", "--allow-env", "src/entry/deno-deploy.ts"],
      port,
    );
    expect(url).toBe(`http://127.0.0.1:${port}`);
    await expectHealthy(url);
  }, 180_000);

  it("deno.json carries the name, package.json's version and exports that type-check under Deno (deno task check)", async () => {
    const read = (file: string) => JSON.parse(readFileSync(join(ROOT, file), "utf8"));
    const deno = read("deno.json") as { name: string; version: string; exports: Record<string, string> };
    expect(deno.name).toBe("@edge-relay/relay");
    expect(deno.version).toBe(read("package.json").version);
    expect(Object.keys(deno.exports)).toEqual([".", "./client", "./deno"]);
    for (const file of Object.values(deno.exports)) expect(existsSync(join(ROOT, file)), file).toBe(true);
    const checked = await promisify(execFile)(NPM_DENO, ["task", "check"], {
      cwd: ROOT,
      env: cleanEnv({ PATH: `${join(ROOT, "node_modules", ".bin")}:${SYSTEM_PATH}`, NO_COLOR: "1" }),
      timeout: 150_000,
    });
    for (const file of Object.values(deno.exports))
      expect(checked.stderr).toContain(`Check ${file.slice(2)}`);
  }, 180_000);
});
