import { expect } from "vitest";
import { eventually, proxyFetch } from "./proxy-fixtures.ts";

/** An open subscribe stream read as raw text, the way a line-based client sees it. */
export interface OpenStream {
  response: Response;
  /** Everything received so far. */
  text(): string;
  /** `data: ` lines received so far, prefix removed. */
  dataLines(): string[];
  /** Waits until `count` data lines have arrived. */
  waitForData(count: number, timeoutMs?: number): Promise<string[]>;
  close(): void;
}

/** POSTs to a subscribe path and reads the stream in the background. */
export async function openStream(
  path: string,
  init: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<OpenStream> {
  const controller = new AbortController();
  const response = await proxyFetch(path, {
    method: "POST",
    body: "[]",
    signal: controller.signal,
    headers: { accept: "text/event-stream", ...init.headers },
    token: init.token,
  });
  let received = "";
  if (response.ok && response.body) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += value;
      }
    })().catch(() => {}); // aborted by close()
  }
  const dataLines = () =>
    received
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => line.slice(6));
  return {
    response,
    text: () => received,
    dataLines,
    waitForData: (count, timeoutMs = 10_000) =>
      eventually(() => {
        const lines = dataLines();
        expect(lines.length).toBeGreaterThanOrEqual(count);
        return lines;
      }, timeoutMs),
    close: () => controller.abort(),
  };
}
