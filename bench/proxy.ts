/**
 * Proxy benchmark: @upstash/redis GET and SET through the REST proxy at concurrency 1 and 64, next to the
 * same client against a minimal node:http server answering a constant (the HTTP floor) and to direct TCP
 * (ioredis) on the same Redis, all in one run; then one PUBLISH fanned out to 1000 open subscribe streams.
 * Target: proxy throughput at concurrency 64 ≥ 70% of the HTTP floor's.
 *
 * The proxy and the floor each run in their own process (as deployed); the client side runs here.
 * Run: `npm run bench -- proxy`, or standalone `node bench/proxy.ts` (Node ≥ 22.6).
 * BENCH_PROXY_SECONDS sets each load's measured length (default 5).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "@upstash/redis";
import { Redis as TcpRedis } from "ioredis";
import type { RedisServer } from "../src/cli/redis-server.ts";
import { startStack } from "../src/cli/stack.ts";
import { formatMs, formatRate, formatShare } from "./lib/latency.ts";
import { type LoadResult, runInterleaved } from "./lib/load.ts";
import type { BenchReport } from "./lib/module.ts";
import { markdownTable } from "./lib/table.ts";
import { measureFanout } from "./proxy-fanout.ts";
import { firstJsonLine, stopChild } from "./relay/child-process.ts";
import { cpuSeconds } from "./relay/proc.ts";

export const name = "proxy";

const TARGET_SHARE_OF_FLOOR = 0.7;
const FANOUT_STREAMS = 1000;
const VALUE = "v".repeat(100);
const KEYS = 1000;

export async function run(log: (line: string) => void = (line) => console.log(line)): Promise<BenchReport> {
  const seconds = Number(process.env.BENCH_PROXY_SECONDS ?? 5);
  const started = performance.now();
  const phase = (text: string) => log(`  [${((performance.now() - started) / 1000).toFixed(0)} s] ${text}`);
  // The shared bootstrap (src/cli/stack.ts): redis-server and the proxy as its own process (`relay proxy`'s
  // command), so the proxy's CPU is its own.
  const token = randomBytes(16).toString("hex");
  const stack = await startStack({ proxy: { process: true, token } });
  const redis = stack.redis as RedisServer;
  const proxy = { pid: stack.proxyProcess?.pid() ?? 0 };
  const proxyUrl = stack.proxyUrl;
  const children: ChildProcess[] = [];
  const direct = new TcpRedis(redis.url);
  try {
    const floor = spawnChild(join(import.meta.dirname, "proxy-floor-server.ts"), {});
    children.push(floor);
    const { url: floorUrl } = await firstJsonLine<{ url: string }>(floor, "the HTTP floor server", 30_000);
    for (let index = 0; index < KEYS; index++) await direct.set(`bench:${index}`, VALUE);

    // Auto-pipelining off: every operation is its own HTTP request, the proxy's worst case.
    const client = (url: string) =>
      new Redis({
        url,
        token,
        enableAutoPipelining: false,
        retry: false,
        enableTelemetry: false,
        readYourWrites: false,
      });
    const viaProxy = client(proxyUrl);
    const viaFloor = client(floorUrl);
    const key = (worker: number, index: number) => `bench:${(worker * 7919 + index) % KEYS}`;
    const rounds = 3;

    const rows: Array<{
      op: string;
      concurrency: number;
      floor: LoadResult;
      proxy: LoadResult;
      tcp: LoadResult;
    }> = [];
    for (const op of ["GET", "SET"] as const) {
      for (const concurrency of [1, 64]) {
        phase(
          `${op} at concurrency ${concurrency}: HTTP floor, proxy, direct TCP (${rounds} interleaved rounds)`,
        );
        const via = (target: Redis) => (worker: number, index: number) =>
          op === "GET" ? target.get(key(worker, index)) : target.set(key(worker, index), VALUE);
        const viaTcp = (worker: number, index: number) =>
          op === "GET" ? direct.getBuffer(key(worker, index)) : direct.set(key(worker, index), VALUE);
        const [floorResult, proxyResult, tcpResult] = await runInterleaved(
          [
            { operation: via(viaFloor), serverCpuSeconds: () => cpuSeconds(floor.pid as number) },
            { operation: via(viaProxy), serverCpuSeconds: () => cpuSeconds(proxy.pid as number) },
            { operation: viaTcp, serverCpuSeconds: () => cpuSeconds(redis.pid) },
          ],
          {
            concurrency,
            rounds,
            roundMs: (seconds * 1000) / rounds,
            warmupMs: 1000,
          },
        );
        rows.push({
          op,
          concurrency,
          floor: floorResult as LoadResult,
          proxy: proxyResult as LoadResult,
          tcp: tcpResult as LoadResult,
        });
      }
    }

    phase(`fan-out: one PUBLISH to ${FANOUT_STREAMS} open subscribe streams`);
    const fanout = await measureFanout({
      proxyUrl,
      token,
      proxyPid: proxy.pid as number,
      publisher: direct,
      channel: `bench.fanout.${randomBytes(4).toString("hex")}`,
      streams: FANOUT_STREAMS,
      latencyMessages: 50,
      burstMessages: 50,
    });
    phase("done");

    const verdicts = rows
      .filter((row) => row.concurrency === 64)
      .map((row) => ({ op: row.op, share: row.proxy.opsPerSecond / row.floor.opsPerSecond }));
    const targetsMet = verdicts.every((verdict) => verdict.share >= TARGET_SHARE_OF_FLOOR);
    const throughput = markdownTable(
      ["op", "concurrency", "target", "ops/s", "p50 ms", "p99 ms", "share of HTTP floor", "server CPU µs/op"],
      rows.flatMap((row) =>
        (
          [
            ["HTTP floor (constant JSON)", row.floor],
            ["proxy → Redis", row.proxy],
            ["direct TCP (ioredis)", row.tcp],
          ] as const
        ).map(([target, result]) => [
          row.op,
          String(row.concurrency),
          target,
          formatRate(result.opsPerSecond),
          formatMs(result.p50),
          formatMs(result.p99),
          target.startsWith("direct") ? "" : formatShare(result.opsPerSecond, row.floor.opsPerSecond),
          Number.isFinite(result.cpuMicrosPerOp) ? result.cpuMicrosPerOp.toFixed(0) : "n/a",
        ]),
      ),
    );
    const fanoutTable = markdownTable(
      ["streams", "deliveries/s (burst)", "PUBLISH→all p50 ms", "p99 ms", "proxy memory per stream"],
      [
        [
          String(fanout.streams),
          formatRate(fanout.deliveriesPerSecond),
          formatMs(fanout.p50),
          formatMs(fanout.p99),
          `${(fanout.bytesPerStream / 1024).toFixed(1)} KiB`,
        ],
      ],
    );
    const verdictLines = verdicts.map(
      (verdict) =>
        `- ${verdict.op} at concurrency 64: proxy = ${Math.round(verdict.share * 100)}% of the HTTP floor ` +
        `(target ≥ ${TARGET_SHARE_OF_FLOOR * 100}%): ${verdict.share >= TARGET_SHARE_OF_FLOOR ? "met" : "MISSED"}`,
    );
    const markdown = [
      `### Proxy: @upstash/redis through the proxy vs. the HTTP floor and direct TCP (${seconds} s per row, 100-byte values)`,
      throughput,
      verdictLines.join("\n"),
      `### Proxy: subscribe fan-out (one Redis subscription shared by ${FANOUT_STREAMS} HTTP streams)`,
      fanoutTable,
    ].join("\n\n");
    return { markdown, targetsMet };
  } finally {
    direct.disconnect();
    await Promise.all(children.map((child) => stopChild(child, 5000)));
    await stack.stop();
  }
}

function spawnChild(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--no-warnings", "--experimental-strip-types", script], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await run();
  console.log(`\n${result.markdown}`);
  process.exitCode = result.targetsMet ? 0 : 1;
}
