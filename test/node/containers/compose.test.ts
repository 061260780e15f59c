import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../helpers/free-port.ts";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../../..");
const CONTAINERS_CONF = join(ROOT, "container/containers.conf");

/** Why the container stack cannot be tested on this machine, or undefined when it can. */
function unavailable(): string | undefined {
  if (spawnSync("podman", ["--version"]).status !== 0)
    return "podman is not installed (apt-get install podman runc podman-compose debootstrap)";
  if (spawnSync("podman-compose", ["--version"]).status !== 0) return "podman-compose is not installed";
  if (spawnSync("podman", ["info"], { env: { ...process.env, CONTAINERS_CONF } }).status !== 0)
    return "podman is installed but `podman info` fails here";
  return undefined;
}
const skipReason = unavailable();
if (skipReason) console.log(`container stack test skipped: ${skipReason}`);

/**
 * The container stack as a user brings it up (`npm run containers:up`: container/up.sh, compose.yaml): images
 * built from the repository, Redis, the proxy and the relay on Node in containers, healthy; a publish through
 * the relay is read back from Redis inside the Redis container; `containers:down` leaves no container behind.
 * Where no registry is reachable the images are built on a local Debian base made with debootstrap
 * (container/base-image.sh); elsewhere on the public debian:bookworm-slim.
 */
describe.skipIf(skipReason !== undefined)(
  `container stack (podman-compose)${skipReason ? `: skipped, ${skipReason}` : ""}`,
  () => {
    const project = `edgerelaytest${randomBytes(3).toString("hex")}`;
    const env: NodeJS.ProcessEnv = { ...process.env, COMPOSE_PROJECT_NAME: project, CONTAINERS_CONF };
    let relay = "";
    let token = "";

    const podman = async (...args: string[]) =>
      (await run("podman", args, { env, encoding: "utf8", timeout: 60_000 })).stdout;

    beforeAll(async () => {
      if (spawnSync("debootstrap", ["--version"]).status === 0) {
        await run("bash", [join(ROOT, "container/base-image.sh")], { env, timeout: 300_000 });
        env.BASE_IMAGE = "local/debian:bookworm";
      }
      env.RELAY_PORT = String(await freePort());
      env.PROXY_PORT = String(await freePort());
      const { stdout } = await run("bash", [join(ROOT, "container/up.sh")], {
        env,
        encoding: "utf8",
        timeout: 540_000,
      });
      relay = /^relay +(\S+)/m.exec(stdout)?.[1] ?? "";
      token = /^token +(\S+)/m.exec(stdout)?.[1] ?? "";
    }, 600_000);

    afterAll(async () => {
      await run("bash", [join(ROOT, "container/down.sh")], { env, timeout: 120_000 }).catch(() => {});
      const left = await podman("ps", "-a", "-q", "--filter", `label=io.podman.compose.project=${project}`);
      expect(left.trim()).toBe("");
    }, 180_000);

    it("comes up healthy: the relay and the proxy answer /healthz, every container's health check passes", async () => {
      expect(relay).toBe(`http://127.0.0.1:${env.RELAY_PORT}`);
      expect(token).not.toBe("");
      expect((await fetch(`${relay}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${env.PROXY_PORT}/healthz`)).status).toBe(200);
      for (const service of ["redis", "proxy", "relay"])
        await podman("healthcheck", "run", `${project}_${service}_1`);
    });

    it("a publish through the relay is in Redis inside the Redis container, and so is a stored value", async () => {
      const channel = `orders-${randomBytes(3).toString("hex")}`;
      const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      const published = await fetch(`${relay}/v1/channels/${channel}/messages`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ id: 17, via: "containers" }),
      });
      expect(published.status).toBe(201);
      const { id } = (await published.json()) as { id: string };
      const log = await podman(
        "exec",
        `${project}_redis_1`,
        "redis-cli",
        "--raw",
        "XRANGE",
        `relay:{${channel}}:log`,
        "-",
        "+",
      );
      expect(log.split("\n")).toEqual(
        expect.arrayContaining([id.split(".").at(-1), '{"id":17,"via":"containers"}']),
      );
      const put = await fetch(`${relay}/v1/kv/${channel}-config`, {
        method: "PUT",
        headers: auth,
        body: '{"mode":"fast"}',
      });
      expect(put.status).toBe(201);
      expect(
        (await podman("exec", `${project}_redis_1`, "redis-cli", "--raw", "GET", `${channel}-config`)).trim(),
      ).toBe('{"mode":"fast"}');
    });
  },
);
