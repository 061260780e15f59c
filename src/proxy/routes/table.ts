import { commandRoute, multiExecRoute, pathCommandRoute, pipelineRoute } from "./commands.ts";
import { healthRoute, metricsRoute } from "./health.ts";
import type { ProxyRoute } from "./route.ts";
import { subscribeChannelsRoute, subscribePatternsRoute } from "./subscribe.ts";

/** The proxy's routes by path, first match wins; any other path is a path-style command (`/get/key`). */
const ROUTES: ReadonlyArray<{ matches(path: string): boolean; route: ProxyRoute }> = [
  { matches: (path) => path === "/", route: commandRoute },
  { matches: (path) => path === "/pipeline", route: pipelineRoute },
  { matches: (path) => path === "/multi-exec", route: multiExecRoute },
  { matches: (path) => path.startsWith("/subscribe/"), route: subscribeChannelsRoute },
  { matches: (path) => path.startsWith("/psubscribe/"), route: subscribePatternsRoute },
  { matches: (path) => path === "/healthz", route: healthRoute },
  { matches: (path) => path === "/metrics", route: metricsRoute },
];

export function routeFor(path: string): ProxyRoute {
  return ROUTES.find((entry) => entry.matches(path))?.route ?? pathCommandRoute;
}
