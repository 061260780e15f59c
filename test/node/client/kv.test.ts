import { describe, expect, it } from "vitest";
import { createClient, json, RelayError } from "../../../src/client/index.ts";
import { token, unique, useRelay } from "./fixture.ts";

const stack = useRelay();

async function relayError(promise: Promise<unknown>): Promise<RelayError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RelayError);
  return error as RelayError;
}

describe("client kv", () => {
  it("stores JSON and text, and reads back the value, its type and ETag", async () => {
    const key = unique("cfg");
    const created = await stack.client.kv.set(key, { mode: "fast", n: 1 });
    expect(created.created).toBe(true);
    expect(created.etag).toMatch(/^"[0-9a-f]{40}"$/);
    const entry = await stack.client.kv.get(key);
    expect(entry).toMatchObject({
      key,
      value: { mode: "fast", n: 1 },
      text: '{"mode":"fast","n":1}',
      etag: created.etag,
    });
    expect(entry?.contentType).toMatch(/^application\/json/);

    const replaced = await stack.client.kv.set(key, "plain words");
    expect(replaced.created).toBe(false);
    const text = await stack.client.kv.get(key);
    expect(text?.value).toBe("plain words");
    expect(text?.contentType).toMatch(/^text\/plain/);

    await stack.client.kv.set(key, json("a JSON string"));
    expect((await stack.client.kv.get(key))?.text).toBe('"a JSON string"');
  });

  it("returns null for a missing key and false when deleting one", async () => {
    expect(await stack.client.kv.get(unique("absent"))).toBeNull();
    expect(await stack.client.kv.delete(unique("absent"))).toBe(false);
  });

  it("compare-and-set: ifMatch wins once, the stale ETag gets a 412 RelayError and changes nothing", async () => {
    const key = unique("counter");
    const first = await stack.client.kv.set(key, 1);
    const second = await stack.client.kv.set(key, 2, { ifMatch: first.etag });
    const error = await relayError(stack.client.kv.set(key, 3, { ifMatch: first.etag }));
    expect(error).toMatchObject({ status: 412, code: "precondition_failed" });
    expect(error.detail.length).toBeGreaterThan(0);
    expect((await stack.client.kv.get(key))?.etag).toBe(second.etag);
    expect((await stack.client.kv.get(key))?.value).toBe(2);
  });

  it("ifNoneMatch '*' creates only", async () => {
    const key = unique("once");
    await stack.client.kv.set(key, "first", { ifNoneMatch: "*" });
    const error = await relayError(stack.client.kv.set(key, "second", { ifNoneMatch: "*" }));
    expect(error.status).toBe(412);
    expect((await stack.client.kv.get(key))?.value).toBe("first");
  });

  it("delete honours ifMatch", async () => {
    const key = unique("del");
    const written = await stack.client.kv.set(key, "x");
    expect(
      (
        await relayError(
          stack.client.kv.delete(key, { ifMatch: '"0000000000000000000000000000000000000000"' }),
        )
      ).status,
    ).toBe(412);
    expect(await stack.client.kv.delete(key, { ifMatch: written.etag })).toBe(true);
    expect(await stack.client.kv.get(key)).toBeNull();
  });

  it("lists keys under a prefix across pages", async () => {
    const prefix = `${unique("list")}:`;
    const keys = Array.from({ length: 7 }, (_, i) => `${prefix}${i}`);
    for (const key of keys) await stack.client.kv.set(key, "v");
    const seen: string[] = [];
    for await (const key of stack.client.kv.keys({ prefix, limit: 2 })) seen.push(key);
    expect(seen.sort()).toEqual([...keys].sort());
  });

  it("sets a TTL", async () => {
    const key = unique("ttl");
    await stack.client.kv.set(key, "soon gone", { ttl: 1 });
    expect((await stack.client.kv.get(key))?.value).toBe("soon gone");
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await stack.client.kv.get(key)).toBeNull();
  });

  it("hostile keys get a clear 400 RelayError, and nothing is written", async () => {
    for (const key of ["bad\r\nkey", "relay:{x}:meta", "a b", "x".repeat(513)]) {
      const error = await relayError(stack.client.kv.set(key, "v"));
      expect(error.status, `${key}: ${error.message}`).toBe(400);
      expect(error.code).toBe("invalid_name");
    }
  });

  it("without a token: 401 RelayError; with a scope that does not cover the key: 403", async () => {
    const anonymous = createClient({ url: stack.relay.url });
    expect(await relayError(anonymous.kv.get("anything"))).toMatchObject({ status: 401 });
    const reader = createClient({ url: stack.relay.url, token: await token("kv:read:public.*") });
    const error = await relayError(reader.kv.set("public.x", "v"));
    expect(error).toMatchObject({ status: 403, code: "forbidden" });
    expect(await reader.kv.get("public.x")).toBeNull();
  });

  it("asks getToken again after a 401 and succeeds with the fresh token", async () => {
    const tokens = ["not-a-jwt", await token("admin")];
    let calls = 0;
    const refreshing = createClient({
      url: stack.relay.url,
      getToken: () => tokens[Math.min(calls++, 1)] as string,
    });
    const key = unique("refresh");
    await refreshing.kv.set(key, "ok");
    expect(calls).toBe(2);
    expect((await refreshing.kv.get(key))?.value).toBe("ok");
  });

  it("reports an unreachable relay as network_error with status 0", async () => {
    const nowhere = createClient({ url: "http://127.0.0.1:9", token: "t", retries: 0 });
    expect(await relayError(nowhere.kv.get("k"))).toMatchObject({ status: 0, code: "network_error" });
  });

  it("rejects a malformed base URL at construction", () => {
    expect(() => createClient({ url: "not a url" })).toThrow(RelayError);
    expect(() => createClient({ url: "ftp://relay" })).toThrow(/http/);
  });
});
