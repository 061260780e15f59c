import assert from "node:assert/strict";
import type { RelayTarget } from "./harness.ts";

/** Shared checks for the data-plane scenarios (runtime-neutral: web APIs and node:assert only). */

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extra: string]: unknown;
}

/** Asserts an RFC 9457 problem with this status and code, and returns it. */
export async function expectProblem(response: Response, status: number, code: string): Promise<ProblemBody> {
  const text = await response.text();
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${text}`);
  assert.match(response.headers.get("content-type") ?? "", /^application\/problem\+json/);
  const body = JSON.parse(text) as ProblemBody;
  assert.equal(body.code, code, `expected code ${code}: ${text}`);
  assert.equal(body.status, status);
  assert.equal(body.type, `urn:edge-relay:problem:${code}`);
  assert.equal(typeof body.title, "string");
  assert.ok(body.detail.length > 0, "a problem explains itself in detail");
  return body;
}

export async function expectStatus(response: Response, status: number): Promise<string> {
  const text = await response.text();
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${text}`);
  return text;
}

export async function expectJson<T>(response: Response, status: number): Promise<T> {
  const text = await expectStatus(response, status);
  return JSON.parse(text) as T;
}

/** Redis round trips (Workers subrequests) the relay reports for a response. */
export function redisCalls(response: Response): number {
  const value = response.headers.get("x-relay-redis-calls");
  assert.ok(value !== null, "the relay reports x-relay-redis-calls");
  return Number(value);
}

export async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Fetch with a bearer token for `scope`. */
export async function authed(
  target: RelayTarget,
  scope: string,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const token = await target.token(scope);
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  return target.fetch(path, { ...init, headers });
}

export const jsonInit = (
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

export const textInit = (
  method: string,
  body: string | Uint8Array,
  contentType = "text/plain",
  headers: Record<string, string> = {},
): RequestInit => ({
  method,
  headers: { "content-type": contentType, ...headers },
  body: body as BodyInit,
});

/** Decodes the payload of a single-channel cursor without the relay's code (the format is documented). */
export function cursorParts(cursor: string): { channel: string; epoch: string; streamId: string } {
  const [channel = "", epoch = "", streamId = ""] = cursor.split(".");
  return { channel: atob(channel.replaceAll("-", "+").replaceAll("_", "/")), epoch, streamId };
}

export const encodeKey = (key: string): string => encodeURIComponent(key);

/** HGETALL as an object (the scenario client has automaticDeserialization off, so it answers a flat list). */
export async function hashOf(
  redis: { hgetall(key: string): Promise<unknown> },
  key: string,
): Promise<Record<string, string>> {
  const flat = (await redis.hgetall(key)) as string[] | Record<string, string> | null;
  if (flat === null) return {};
  if (!Array.isArray(flat)) return flat;
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

/** One request that must be rejected: [scope (null = no token), path, init, status, code]. */
export type Rejection = [scope: string | null, path: string, init: RequestInit, status: number, code: string];

/** Sends each request in order and asserts its problem status and code. */
export async function expectRejections(target: RelayTarget, rejections: Rejection[]): Promise<void> {
  for (const [scope, path, init, status, code] of rejections) {
    const response =
      scope === null ? await target.fetch(path, init) : await authed(target, scope, path, init);
    await expectProblem(response, status, code);
  }
}
