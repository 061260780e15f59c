import { parseJson, seqOf } from "./targets.ts";

const CONFIRM_TIMEOUT_MS = 15_000;

/**
 * A subscriber straight on the proxy's own subscribe stream (`POST /subscribe/<channel>`, the Upstash REST
 * protocol the relay reads), on the channel's raw mirror: marks when each message came out of Redis → proxy → HTTP,
 * without the relay. Against the Redis tap and the relay's own subscribers it splits the delivery leg in two.
 */
export async function openProxyTap(
  proxyUrl: string,
  proxyToken: string,
  channel: string,
  onSeq: (seq: number) => void,
): Promise<{ close(): Promise<void> }> {
  const controller = new AbortController();
  const response = await fetch(`${proxyUrl}/subscribe/${encodeURIComponent(channel)}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${proxyToken}`, Accept: "text/event-stream" },
    signal: controller.signal,
  });
  if (response.status !== 200 || !response.body) {
    throw new Error(`proxy subscribe answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const prefix = `message,${channel},`;
  let confirm: () => void = () => {};
  const confirmed = new Promise<void>((resolve) => {
    confirm = resolve;
  });
  void (async () => {
    let partial = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const lines = (partial + value).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          if (!line.startsWith("data: ")) continue;
          const data = line.slice(6);
          if (data.startsWith("subscribe,")) confirm();
          else if (data.startsWith(prefix)) {
            const seq = seqOf(parseJson(data.slice(prefix.length)));
            if (seq !== undefined) onSeq(seq);
          }
        }
      }
    } catch {
      // Aborted by close().
    }
  })();
  const timer = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error("the proxy tap got no subscribe confirmation")),
      CONFIRM_TIMEOUT_MS,
    ).unref(),
  );
  try {
    await Promise.race([confirmed, timer]);
  } catch (error) {
    controller.abort();
    throw error;
  }
  return {
    async close() {
      controller.abort();
    },
  };
}
