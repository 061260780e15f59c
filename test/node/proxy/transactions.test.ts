import { afterAll, describe, expect, it } from "vitest";
import { postJson, tcpClient, unique, upstashClient } from "./proxy-fixtures.ts";

const direct = tcpClient();
afterAll(() => direct.quit());

describe("/multi-exec", () => {
  it("never interleaves: 50 concurrent transactions and 50 pipelines on the same key", async () => {
    const k = unique("contended");
    const transactions = Array.from({ length: 50 }, (_, index) =>
      postJson("/multi-exec", [
        ["set", k, `tx-${index}`],
        ["append", k, "-end"],
        ["get", k],
      ]).then(async (response) => ({
        index,
        status: response.status,
        body: (await response.json()) as Array<{ result?: unknown; error?: string }>,
      })),
    );
    const pipelines = Array.from({ length: 50 }, (_, index) =>
      postJson("/pipeline", [
        ["set", k, `pipe-${index}`],
        ["get", k],
      ]).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as Array<{ result?: unknown; error?: string }>,
      })),
    );
    const [txResults, pipeResults] = await Promise.all([Promise.all(transactions), Promise.all(pipelines)]);
    for (const { index, status, body } of txResults) {
      expect(status).toBe(200);
      expect(body).toEqual([
        { result: "OK" },
        { result: `tx-${index}-end`.length },
        { result: `tx-${index}-end` },
      ]);
    }
    for (const { status, body } of pipeResults) {
      expect(status).toBe(200);
      // A pipeline command landing inside someone's MULTI would have been answered QUEUED.
      expect(body[0]).toEqual({ result: "OK" });
      expect(body[1]?.result).not.toBe("QUEUED");
    }
  });

  it("puts a runtime error in its slot and still runs the rest", async () => {
    const k = unique("runtime");
    const response = await postJson("/multi-exec", [
      ["set", k, "text"],
      ["incr", k],
      ["append", k, "!"],
    ]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([
      { result: "OK" },
      { error: "ERR value is not an integer or out of range" },
      { result: 5 },
    ]);
  });

  it("answers EXECABORT as one 400 error and runs nothing when a command fails to queue", async () => {
    const k = unique("aborted");
    const response = await postJson("/multi-exec", [["set", k, "1"], ["nosuchcommand", "x"], ["get"]]);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string };
    expect(body.error).toMatch(
      /^EXECABORT Transaction discarded because of previous errors\..*command 2: ERR unknown command/,
    );
    expect(await direct.exists(k)).toBe(0);
    // The shared connection left MULTI state behind it: an ordinary command works.
    expect(await (await postJson("/", ["ping"])).json()).toEqual({ result: "PONG" });
  });

  it("refuses a connection-state command as a discarded transaction, before anything runs", async () => {
    const k = unique("refusedTx");
    const response = await postJson("/multi-exec", [
      ["set", k, "1"],
      ["watch", k],
    ]);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: expect.stringMatching(/^EXECABORT .*command 2: ERR 'WATCH' is not supported/),
    });
    expect(await direct.exists(k)).toBe(0);
  });

  it("allows blocking commands inside a transaction, where Redis never blocks", async () => {
    const response = await postJson("/multi-exec", [["blpop", unique("empty"), 0], ["ping"]]);
    expect(await response.json()).toEqual([{ result: null }, { result: "PONG" }]);
  });

  it("works with the client's multi() under concurrency", async () => {
    const redis = upstashClient();
    const k = unique("clientTx");
    const runs = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        const tx = redis.multi();
        tx.rpush(k, index);
        tx.lrange(k, -1, -1);
        return tx.exec();
      }),
    );
    runs.forEach(([, last], index) => {
      expect(last).toEqual([index]);
    });
    expect(await direct.llen(k)).toBe(20);
  });
});
