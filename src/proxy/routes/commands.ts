import type { ServerResponse } from "node:http";
import { parseCommand, parseCommandList, type RedisCommand } from "../command-input.ts";
import { classifyCommand, refusalMessage } from "../command-policy.ts";
import { encodeReply, type ResponseEncoding, responseEncodingOf } from "../encode.ts";
import { sendJson } from "../http-responses.ts";
import { pathCommand } from "../path-command.ts";
import type { RedisBackend, SlotOutcome } from "../redis-backend.ts";
import { parseJsonBody, readBody } from "../request-body.ts";
import type { TokenGrant } from "../tokens.ts";
import { Refusal } from "./refusal.ts";
import type { ProxyRoute, RouteRequest, RouteServices } from "./route.ts";

/**
 * The command endpoints (docs/proxy.md): `POST /` one command, `/<cmd>/<args>` path style, `POST /pipeline`,
 * `POST /multi-exec`. Each checks the token's rights per command (command-policy.ts) before Redis sees it.
 */

/** What a command request carries from routing to its answer. */
interface CommandCall {
  grant: TokenGrant;
  backend: RedisBackend;
  encoding: ResponseEncoding;
  response: ServerResponse;
  signal: AbortSignal | undefined;
  services: RouteServices;
}

const postOnly = (method: string, path: string) => `ERR ${path} takes POST with a JSON body, got ${method}`;

export const commandRoute: ProxyRoute = {
  endpoint: "command",
  methods: ["POST"],
  wrongMethod: postOnly,
  async serve(request, services) {
    const command = parseCommand(parseJsonBody(await body(request, services)));
    return single(command, callOf(request, services));
  },
};

export const pathCommandRoute: ProxyRoute = {
  endpoint: "path-command",
  methods: ["GET", "POST", "PUT", "HEAD"],
  wrongMethod: (method) =>
    `ERR method ${method} is not allowed; use POST (or GET, PUT, HEAD for path-style commands)`,
  async serve(request, services) {
    const { method, path, query } = request;
    const payload = method === "POST" || method === "PUT" ? await body(request, services) : undefined;
    return single(pathCommand(path, query, payload), callOf(request, services));
  },
};

export const pipelineRoute: ProxyRoute = {
  endpoint: "pipeline",
  methods: ["POST"],
  wrongMethod: postOnly,
  async serve(request, services) {
    const commands = parseCommandList(parseJsonBody(await body(request, services)));
    return pipeline(commands, callOf(request, services));
  },
};

export const multiExecRoute: ProxyRoute = {
  endpoint: "multi-exec",
  methods: ["POST"],
  wrongMethod: postOnly,
  async serve(request, services) {
    const commands = parseCommandList(parseJsonBody(await body(request, services)));
    return transaction(commands, callOf(request, services));
  },
};

function body({ request }: RouteRequest, { context }: RouteServices): Promise<Buffer> {
  return readBody(request, context.options.maxBodyBytes);
}

/** The backend a token's Redis URL names. */
export function backendFor(grant: TokenGrant, { context }: RouteServices): RedisBackend {
  const backend = context.backends.get(grant.redisUrl);
  if (!backend) throw new Error(`no Redis backend for a configured token (${grant.redisUrl})`);
  return backend;
}

function callOf(request: RouteRequest, services: RouteServices): CommandCall {
  const grant = request.grant as TokenGrant;
  const backend = backendFor(grant, services);
  return {
    grant,
    backend,
    response: request.response,
    encoding: responseEncodingOf(request.request.headers["upstash-encoding"]),
    // Only blocking commands can be stopped when the client leaves; others skip the listener.
    signal: backend.blockingAllowed ? abortSignalOf(request.response) : undefined,
    services,
  };
}

async function single(command: RedisCommand, call: CommandCall): Promise<number> {
  const { grant, backend, encoding, response, signal, services } = call;
  const refused = await refusal(command, grant, backend, "single");
  if (refused) throw new Refusal(400, refused, "refused");
  const reply = await backend.execute(command, signal);
  sendJson(response, 200, { result: encodeReply(reply, encoding) }, services.headers.common());
  return 200;
}

async function pipeline(commands: RedisCommand[], call: CommandCall): Promise<number> {
  const { grant, backend, encoding, response, signal, services } = call;
  // A refused command gets its error in its slot; the others still run, in order, as a pipeline would.
  const refusals = await Promise.all(commands.map((command) => refusal(command, grant, backend, "pipeline")));
  const runnable = commands.filter((_, index) => refusals[index] === undefined);
  const outcomes = runnable.length > 0 ? await backend.pipeline(runnable, signal) : [];
  let next = 0;
  const slots = refusals.map((refused) =>
    refused === undefined ? (outcomes[next++] as SlotOutcome) : { error: refused },
  );
  sendJson(
    response,
    200,
    slots.map((outcome) => encodeSlot(outcome, encoding)),
    services.headers.common(),
  );
  return 200;
}

async function transaction(commands: RedisCommand[], call: CommandCall): Promise<number> {
  const { grant, backend, encoding, response, services } = call;
  // Like a queue-time error, a refused command discards the whole transaction before anything runs.
  for (const [index, command] of commands.entries()) {
    const refused = await refusal(command, grant, backend, "transaction");
    if (refused) {
      throw new Refusal(400, `EXECABORT Transaction discarded: command ${index + 1}: ${refused}`, "refused");
    }
  }
  const outcomes = await backend.transaction(commands);
  sendJson(
    response,
    200,
    outcomes.map((outcome) => encodeSlot(outcome, encoding)),
    services.headers.common(),
  );
  return 200;
}

/** Why the command may not run for this token here, or undefined when it may. */
async function refusal(
  command: RedisCommand,
  grant: TokenGrant,
  backend: RedisBackend,
  where: "single" | "pipeline" | "transaction",
): Promise<string | undefined> {
  const kind = classifyCommand(command);
  if (kind === "connection-state") return refusalMessage(command, kind);
  // Inside MULTI Redis runs blocking commands without blocking, so a transaction may hold them.
  if (kind === "blocking" && where !== "transaction" && !backend.blockingAllowed)
    return refusalMessage(command, kind);
  if (grant.readOnly && !(await backend.isReadOnly(command))) {
    return `NOPERM this token is read-only and cannot run '${command.name}'`;
  }
  return undefined;
}

function encodeSlot(outcome: SlotOutcome, encoding: ResponseEncoding) {
  return "error" in outcome ? { error: outcome.error } : { result: encodeReply(outcome.reply, encoding) };
}

/** Aborts when the client goes away before the answer is sent (it stops a blocking command). */
function abortSignalOf(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once("close", () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}
