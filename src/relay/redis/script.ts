import type { Redis } from "@upstash/redis/cloudflare";
import { redisErrorText } from "./client.ts";

/**
 * A Lua script run with EVALSHA, falling back to EVAL when Redis answers NOSCRIPT (one round trip when
 * the script is cached, two the first time). @upstash/redis's own `createScript` does the same for a
 * single call, but a pipeline has to handle NOSCRIPT itself (docs/internals.md), hence this small helper.
 */
export class LuaScript {
  readonly source: string;
  #sha: Promise<string> | undefined;

  constructor(source: string) {
    this.source = source;
  }

  sha(): Promise<string> {
    this.#sha ??= sha1Hex(this.source);
    return this.#sha;
  }

  /** EVALSHA, then EVAL on NOSCRIPT. */
  async run<T = unknown>(redis: Redis, keys: string[], args: string[]): Promise<T> {
    const sha = await this.sha();
    try {
      return (await redis.evalsha(sha, keys, args)) as T;
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return (await redis.eval(this.source, keys, args)) as T;
    }
  }

  /**
   * Runs the script once per call in one pipeline (one round trip) and returns each call's result or
   * error in order. Calls that hit NOSCRIPT are re-run with EVAL in a second pipeline, so use this only
   * for scripts that are safe to retry after NOSCRIPT (a NOSCRIPT call did nothing). Order-sensitive
   * writers use `runOrdered`.
   */
  async runMany<T = unknown>(
    redis: Redis,
    calls: { keys: string[]; args: string[] }[],
  ): Promise<ScriptOutcome<T>[]> {
    if (calls.length === 0) return [];
    const sha = await this.sha();
    const first = redis.pipeline();
    for (const call of calls) first.evalsha(sha, call.keys, call.args);
    const outcomes = await first.exec<unknown[]>({ keepErrors: true });
    const missing = outcomes.flatMap((outcome, index) =>
      outcome.error && isNoScript(outcome.error) ? [index] : [],
    );
    if (missing.length > 0) {
      const retry = redis.pipeline();
      for (const index of missing) {
        const call = calls[index] as { keys: string[]; args: string[] };
        retry.eval(this.source, call.keys, call.args);
      }
      const retried = await retry.exec<unknown[]>({ keepErrors: true });
      missing.forEach((index, i) => {
        outcomes[index] = retried[i] as (typeof outcomes)[number];
      });
    }
    return outcomes.map((outcome) =>
      outcome.error ? { ok: false, error: outcome.error } : { ok: true, value: outcome.result as T },
    );
  }

  /**
   * Runs the script once per call, in order, in one round trip: the pipeline starts with SCRIPT LOAD so
   * every EVALSHA after it finds the script (no NOSCRIPT half-way through a batch, which would break order).
   */
  async runOrdered<T = unknown>(
    redis: Redis,
    calls: { keys: string[]; args: string[] }[],
  ): Promise<ScriptOutcome<T>[]> {
    if (calls.length === 0) return [];
    const sha = await this.sha();
    const pipeline = redis.pipeline().scriptLoad(this.source);
    for (const call of calls) pipeline.evalsha(sha, call.keys, call.args);
    const [loaded, ...outcomes] = await pipeline.exec<unknown[]>({ keepErrors: true });
    if (loaded?.error) throw new Error(`SCRIPT LOAD failed: ${loaded.error}`);
    return outcomes.map((outcome) =>
      outcome.error ? { ok: false, error: outcome.error } : { ok: true, value: outcome.result as T },
    );
  }
}

export type ScriptOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

export function isNoScript(error: unknown): boolean {
  return redisErrorText(error).toLowerCase().includes("noscript");
}

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
