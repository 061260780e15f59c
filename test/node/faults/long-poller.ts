import { decodeCursor } from "../../../src/protocol/cursor.ts";
import { precedingStreamId } from "../../../src/relay/sse/positions.ts";
import type { DeliveryLog } from "./ledger.ts";
import { isRetryableProblem, problemCodeOf } from "./outcomes.ts";
import { pause } from "./pause.ts";

/** `wait=` of each request: longer than the catch-up bound, so a wait parked on a dead feed is seen. */
export const LONG_POLL_WAIT_S = 10;
const RETRY_MS = 300;

interface Page {
  messages: { id: string; channel: string; data: { seq: number } }[];
  cursor: string;
  gap: boolean;
}

/**
 * A long-poll loop on one channel (`GET /v1/channels/:ch/messages?after=&wait=`), as docs/sse.md shows it:
 * it continues from each answer's cursor, retries 503s and broken requests from the same cursor, and logs
 * `gap: true` as a loss up to the first message of that page (or up to the cursor when the page is empty).
 */
export class LongPoller {
  readonly log: DeliveryLog;
  readonly problems: string[] = [];
  readonly #url: string;
  readonly #authorization: string;
  readonly #abort = new AbortController();
  #cursor: string | undefined;
  #loop: Promise<void> | undefined;

  constructor(relayUrl: string, authorization: string, channel: string, log: DeliveryLog) {
    this.#url = `${relayUrl}/v1/channels/${channel}/messages`;
    this.#authorization = authorization;
    this.log = log;
  }

  /** Reads where the channel stands now (no `after`: the latest message), then starts waiting from there. */
  async start(): Promise<void> {
    while (this.#cursor === undefined && !this.#abort.signal.aborted) {
      const page = await this.#request("limit=1");
      if (page) this.#cursor = page.cursor;
      else await pause(RETRY_MS, this.#abort.signal);
    }
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#abort.signal.aborted) {
      const after = encodeURIComponent(this.#cursor as string);
      const page = await this.#request(`after=${after}&wait=${LONG_POLL_WAIT_S}&limit=1000`);
      if (!page) {
        await pause(RETRY_MS, this.#abort.signal);
        continue;
      }
      if (page.gap) {
        const first = page.messages[0];
        const lost = first ? decodeCursor(first.id) : decodeCursor(page.cursor);
        this.log.reset(first ? { ...lost, streamId: precedingStreamId(lost.streamId) } : lost);
      }
      for (const message of page.messages) this.log.message(message.channel, message.id, message.data.seq);
      this.#cursor = page.cursor;
    }
  }

  /** One request; undefined when it failed in a way the loop retries. */
  async #request(query: string): Promise<Page | undefined> {
    let response: Response;
    try {
      const signal = AbortSignal.any([
        this.#abort.signal,
        AbortSignal.timeout((LONG_POLL_WAIT_S + 20) * 1000),
      ]);
      response = await fetch(`${this.#url}?${query}`, {
        headers: { authorization: this.#authorization },
        signal,
      });
    } catch {
      return undefined;
    }
    const text = await response.text().catch(() => "");
    if (response.status === 200) {
      try {
        return JSON.parse(text) as Page;
      } catch {
        return undefined; // cut mid-body
      }
    }
    const code = problemCodeOf(response, text);
    if (!isRetryableProblem(response.status, code))
      this.problems.push(`${this.log.name}: long-poll answered ${response.status}: ${text.slice(0, 200)}`);
    return undefined;
  }
}
