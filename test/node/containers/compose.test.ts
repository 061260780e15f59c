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
    // Images tagged with the project's name, so the teardown removes exactly what this test built.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      COMPOSE_PROJECT_NAME: project,
      IMAGE_TAG: project,
      CONTAINERS_CONF,
    };
    const images = ["redis", "proxy", "relay"].map((service) => `localhost/edge-relay-${service}:${project}`);
    const localBase = "local/debian:bookworm";
    let madeLocalBase = false;
    let relay = "";
    let token = "";

    const podman = async (...args: string[]) =>
      (await run("podman", args, { env, encoding: "utf8", timeout: 60_000 })).stdout;
    const exists = (...args: string[]) => spawnSync("podman", args, { env }).status === 0;

    beforeAll(async () => {
      if (spawnSync("debootstrap", ["--version"]).status === 0) {
        madeLocalBase = !exists("image", "exists", localBase);
        await run("bash", [join(ROOT, "container/base-image.sh")], { env, timeout: 300_000 });
        env.BASE_IMAGE = localBase;
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

    // Leaves the machine as it found it: no container, network or image tag of this run (and no local base
    // image if this run made it), also when bringing the stack up failed.
    afterAll(async () => {
      await run("bash", [join(ROOT, "container/down.sh")], { env, timeout: 120_000 }).catch(() => {});
      const left = await podman("ps", "-a", "-q", "--filter", `label=io.podman.compose.project=${project}`);
      const network = exists("network", "exists", `${project}_default`);
      for (const image of images) spawnSync("podman", ["rmi", "--ignore", image], { env });
      if (madeLocalBase) spawnSync("podman", ["rmi", localBase], { env });
      const tagged = images.filter((image) => exists("image", "exists", image));
      expect({ containers: left.trim(), network, images: tagged }).toEqual({
        containers: "",
        network: false,
        images: [],
      });
    }, 180_000);

    it("comes up healthy from images of its own tag: the relay and the proxy answer /healthz, every health check passes", async () => {
      expect(relay).toBe(`http://127.0.0.1:${env.RELAY_PORT}`);
      expect(token).not.toBe("");
      expect((await fetch(`${relay}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${env.PROXY_PORT}/healthz`)).status).toBe(200);
      for (const service of ["redis", "proxy", "relay"])
        await podman("healthcheck", "run", `${project}_${service}_1`);
      expect(images.filter((image) => !exists("image", "exists", image))).toEqual([]);
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

    // A PID 1 that ignores SIGTERM is killed only after the 10 s grace period; each service handles it.
    it("every service stops on SIGTERM well within the stop timeout", async () => {
      for (const service of ["relay", "proxy", "redis"]) {
        const started = performance.now();
        await podman("stop", "--time", "10", `${project}_${service}_1`);
        expect({ service, quick: performance.now() - started < 5_000 }).toEqual({ service, quick: true });
      }
    });
  },
);
