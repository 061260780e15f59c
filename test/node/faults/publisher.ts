import type { PublishLedger } from "./ledger.ts";
import { isRetryableProblem, problemCodeOf } from "./outcomes.ts";
import { pause } from "./pause.ts";

/** A request without an answer after this long has an unknown outcome: retried with its key. */
const REQUEST_TIMEOUT_MS = 15_000;
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 1000;

export interface PublisherOptions {
  relayUrl: string;
  authorization: string;
  channels: readonly string[];
  /** Unique per scenario: prefixes the Idempotency-Keys. */
  run: string;
  ratePerSecond: number;
  ledger: PublishLedger;
}

/**
 * Publishes sequence-numbered messages (`{"seq": n}`) round-robin over the channels at a steady rate, whatever
 * the relay answers (an open loop, as independent clients would). Each publish carries an Idempotency-Key and
 * is retried with it while the outcome is unavailable or unknown (503 `redis_unavailable`, a 5xx whose code
 * says the outcome is unknown, no answer), as the SDK does; anything else it gets is a problem.
 */
export class Publisher {
  readonly problems: string[] = [];
  /** How often each kind of answer came back ("201", "503 redis_unavailable", "no answer: ECONNREFUSED" ...). */
  readonly answers = new Map<string, number>();
  readonly #options: PublisherOptions;
  readonly #inFlight = new Set<Promise<void>>();
  #running = false;
  #loop: Promise<void> | undefined;
  #giveUpAt = Number.POSITIVE_INFINITY;
  #sent = 0;
  #gaveUp = 0;

  constructor(options: PublisherOptions) {
    this.#options = options;
  }

  /** Messages scheduled so far, and those abandoned (no acknowledgement before the end). */
  get counts() {
    return { sent: this.#sent, gaveUp: this.#gaveUp };
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#schedule();
  }

  /** Stops scheduling; in-flight publishes keep retrying for up to `settleMs`, then give up. */
  async stop(settleMs: number): Promise<void> {
    this.#running = false;
    await this.#loop;
    this.#giveUpAt = Date.now() + settleMs;
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  async #schedule(): Promise<void> {
    const intervalMs = 1000 / this.#options.ratePerSecond;
    const startedAt = Date.now();
    for (let seq = 0; this.#running; seq++) {
      const wait = startedAt + seq * intervalMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (!this.#running) break;
      this.#sent++;
      const publish = this.#publish(seq).finally(() => this.#inFlight.delete(publish));
      this.#inFlight.add(publish);
    }
  }

  async #publish(seq: number): Promise<void> {
    const { channels, relayUrl, authorization, run, ledger } = this.#options;
    const channel = channels[seq % channels.length] as string;
    const headers = {
      authorization,
      "content-type": "application/json",
      "idempotency-key": `${run}-${seq}`,
    };
    for (let attempt = 0; ; attempt++) {
      if (Date.now() > this.#giveUpAt) {
        this.#gaveUp++;
        return;
      }
      let response: Response;
      try {
        response = await fetch(`${relayUrl}/v1/channels/${channel}/messages`, {
          method: "POST",
          headers,
          body: JSON.stringify({ seq }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (error) {
        this.#count(`no answer: ${causeOf(error)}`);
        await pause(backoff(attempt));
        continue;
      }
      const text = await response.text().catch(() => "");
      if (response.status === 201 || response.status === 200) {
        const id = safeJson(text)?.id;
        if (typeof id === "string") {
          this.#count(String(response.status));
          ledger.ack(seq, channel, id);
          return;
        }
        this.#count(`${response.status} without id`);
        this.problems.push(`seq ${seq}: ${response.status} without an id: ${text.slice(0, 200)}`);
        return;
      }
      const code = problemCodeOf(response, text);
      this.#count(`${response.status} ${code ?? "(no problem code)"}`);
      if (isRetryableProblem(response.status, code)) {
        const retryAfter = Number(response.headers.get("retry-after")) * 1000;
        await pause(Math.min(RETRY_MAX_MS, retryAfter > 0 ? retryAfter : backoff(attempt)));
        continue;
      }
      this.problems.push(`seq ${seq}: ${response.status} ${code ?? ""} ${text.slice(0, 300)}`);
      return;
    }
  }

  #count(answer: string) {
    this.answers.set(answer, (this.answers.get(answer) ?? 0) + 1);
  }
}

function backoff(attempt: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A fetch failure's underlying reason (ECONNREFUSED, UND_ERR_SOCKET, TimeoutError ...). */
export function causeOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? (error.name === "TypeError" ? (cause?.message ?? error.message) : error.name);
}
