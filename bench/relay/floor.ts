import { openAll } from "./open-all.ts";
import { totalResidentBytes } from "./proc.ts";
import { startFloorWorker } from "./wrangler-dev.ts";

export interface StreamFloor {
  streams: number;
  /** RSS growth per open stream (bytes) in wrangler dev's entry workerd and in the worker's workerd. */
  entry: number;
  worker: number;
}

const SETTLE_MS = 1500;
const OPEN_CONCURRENCY = 50;

/** Opens `streams` responses on a worker that only holds them open: the per-stream memory floor of workerd. */
export async function measureStreamFloor(streams: number): Promise<StreamFloor> {
  const dev = await startFloorWorker();
  try {
    const rss = async () => {
      await new Promise((done) => setTimeout(done, SETTLE_MS));
      const { entry, worker } = dev.workerd();
      return { entry: totalResidentBytes(entry), worker: totalResidentBytes(worker) };
    };
    const before = await rss();
    const held = await openAll(
      streams,
      OPEN_CONCURRENCY,
      async (index) => {
        const controller = new AbortController();
        const response = await fetch(`${dev.url}/stream/${index}`, { signal: controller.signal });
        if (response.status !== 200 || !response.body)
          throw new Error(`floor worker answered ${response.status}`);
        // Read the first chunk so the stream is really flowing end to end.
        await response.body.getReader().read();
        return controller;
      },
      (controller) => controller.abort(),
    );
    const open = await rss();
    for (const controller of held) controller.abort();
    return {
      streams,
      entry: (open.entry - before.entry) / streams,
      worker: (open.worker - before.worker) / streams,
    };
  } finally {
    await dev.stop();
  }
}
