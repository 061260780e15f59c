import type { Env, Hono } from "hono";
import { ProblemError } from "../../protocol/problems.ts";

/** The order methods are listed in `Allow`. */
const METHOD_ORDER = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"];

/**
 * Gives every route path of `app` a last handler for the methods it does not take: 405 `method_not_allowed`
 * with `Allow` (docs/api.md). Call it after the last route. `Allow` is read from the app's own route table, so
 * it cannot drift from the routes; Hono answers HEAD with the GET handler, so GET implies HEAD except on the
 * `getOnly` paths (event streams refuse HEAD themselves). Middleware (`use`) is not a route and is skipped.
 */
export function answerWrongMethods<E extends Env>(app: Hono<E>, getOnly: readonly string[] = []): void {
  const methodsByPath = new Map<string, Set<string>>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const methods = methodsByPath.get(route.path) ?? new Set<string>();
    methods.add(route.method);
    if (route.method === "GET" && !getOnly.includes(route.path)) methods.add("HEAD");
    methodsByPath.set(route.path, methods);
  }
  for (const [path, methods] of methodsByPath) {
    const allow = METHOD_ORDER.filter((method) => methods.has(method)).join(", ");
    app.all(path, (c) => {
      throw new ProblemError("method_not_allowed", `${c.req.method} is not allowed here; use ${allow}`, {
        headers: { allow },
      });
    });
  }
}
