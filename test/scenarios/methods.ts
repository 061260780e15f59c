import assert from "node:assert/strict";
import { authed, expectProblem, expectStatus } from "./assertions.ts";
import { type Scenario, uniqueName } from "./harness.ts";

/**
 * Method handling (docs/api.md): a known path asked with a method it does not take is 405 `method_not_allowed`
 * with an `Allow` header naming the methods it does take; an unknown path stays 404; a CORS preflight stays 204.
 */

/** [path, the exact Allow header, methods that must be refused]. `{ch}`/`{key}` are filled in per run. */
const ROUTES: [path: string, allow: string, wrong: string[]][] = [
  ["/healthz", "GET, HEAD", ["POST", "PATCH", "DELETE"]],
  ["/openapi.json", "GET, HEAD", ["PUT"]],
  ["/", "GET, HEAD", ["POST"]],
  ["/page/app.js", "GET, HEAD", ["DELETE"]],
  ["/page/style.css", "GET, HEAD", ["PUT"]],
  ["/v1/kv", "GET, HEAD", ["POST", "PUT", "DELETE"]],
  ["/v1/kv/{key}", "GET, HEAD, PUT, DELETE", ["PATCH", "POST"]],
  ["/v1/kv/{key}/with/slashes", "GET, HEAD, PUT, DELETE", ["PATCH"]],
  ["/v1/publish", "POST", ["GET", "HEAD", "PUT", "PATCH", "DELETE"]],
  ["/v1/channels/{ch}", "GET, HEAD, DELETE", ["POST", "PUT", "PATCH"]],
  ["/v1/channels/{ch}/messages", "GET, HEAD, POST", ["PUT", "PATCH", "DELETE"]],
  ["/v1/channels/{ch}/events", "GET", ["POST", "PUT", "DELETE"]],
  ["/v1/events", "GET", ["POST", "PATCH"]],
];

export const methodScenarios: Scenario[] = [
  {
    name: "methods: a wrong method on every known path is 405 with Allow, writes nothing; unknown paths stay 404",
    async run(target) {
      const key = uniqueName("wm-key");
      const channel = uniqueName("wm-ch");
      for (const [template, allow, wrong] of ROUTES) {
        const path = template.replace("{key}", key).replace("{ch}", channel);
        for (const method of wrong) {
          const response = await authed(target, "admin", path, {
            method,
            headers: { "content-type": "application/json" },
            body: method === "GET" || method === "HEAD" ? undefined : "{}",
          });
          const what = `${method} ${template}`;
          assert.equal(response.headers.get("allow"), allow, `${what}: Allow`);
          if (method === "HEAD") assert.equal(await expectStatus(response, 405), "", `${what}: no body`);
          else {
            const problem = await expectProblem(response, 405, "method_not_allowed");
            assert.match(problem.detail, new RegExp(`${method}.*${allow}`), `${what}: detail names both`);
          }
        }
      }
      assert.equal(await target.redis.exists(key, `relay:{${channel}}:log`), 0, "nothing was written");
      for (const unknown of ["/v1/nope", "/v1/channels/a/b/c", "/nope"]) {
        await expectProblem(await authed(target, "admin", unknown, { method: "PATCH" }), 404, "not_found");
      }
    },
  },
  {
    name: "methods: auth still comes first (401 before 405), and CORS preflights still answer 204 with no token",
    async run(target) {
      await expectProblem(await target.fetch("/v1/kv/x", { method: "PATCH" }), 401, "unauthorized");
      for (const [path, requested] of [
        ["/v1/kv/x", "PUT"],
        ["/v1/publish", "POST"],
        ["/v1/channels/c/events", "GET"],
      ] as const) {
        const preflight = await target.fetch(path, {
          method: "OPTIONS",
          headers: {
            origin: "https://app.example",
            "access-control-request-method": requested,
            "access-control-request-headers": "authorization, content-type",
          },
        });
        assert.equal(await expectStatus(preflight, 204), "", `preflight ${path}`);
        assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
        assert.match(preflight.headers.get("access-control-allow-methods") ?? "", new RegExp(requested));
      }
    },
  },
];
