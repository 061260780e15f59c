import type { Ack, PublishLog } from "./ledger.ts";

/** What a publish attempt got: an HTTP status, or "network" when no answer came (refused, reset). */
export type PublishOutcome = number | "network";

export interface Publisher {
  /** Stops after the message in flight is acknowledged or given up; resolves with the log. */
  stop(): Promise<PublishLog>;
  /** Every status seen, with how often. */
  outcomes: Map<PublishOutcome, number>;
  log: PublishLog;
}

const RETRYABLE = new Set<PublishOutcome>([503, 504, "network"]);
/** 504 and a cut connection leave the outcome unknown: the attempt may have been stored. */
const AMBIGUOUS = new Set<PublishOutcome>([504, "network"]);

/**
 * Publishes `{seq}` one after another at about `ratePerSecond`, each with its own Idempotency-Key, and retries
 * 503, 504 and network errors with the same key (docs/api.md, "Upstream failures and retries") every
 * `retryMs` until acknowledged or `deadlineMs` after its first attempt. Sequential, so a fault slows it down
 * instead of piling up requests.
 */
export function startPublisher(options: {
  url: string;
  token: string;
  ratePerSecond?: number;
  retryMs?: number;
  deadlineMs?: number;
}): Publisher {
  const { url, token, ratePerSecond = 50, retryMs = 200, deadlineMs = 30_000 } = options;
  const log: PublishLog = { acks: [], attempted: new Set(), ambiguous: new Set() };
  const outcomes = new Map<PublishOutcome, number>();
  const run = `${process.pid}-${Date.now()}`;
  let stopping = false;

  async function attempt(seq: number): Promise<PublishOutcome> {
    log.attempted.add(seq);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "idempotency-key": `fault-${run}-${seq}`,
        },
        body: JSON.stringify({ seq }),
        signal: AbortSignal.timeout(15_000),
      });
      if (response.status === 200 || response.status === 201) {
        const { id } = (await response.json()) as { id: string };
        log.acks.push({ seq, id, ackedAt: Date.now() } satisfies Ack);
      } else await response.body?.cancel();
      return response.status;
    } catch {
      return "network";
    }
  }

  const done = (async () => {
    let scheduleFrom = { at: Date.now(), seq: 0 };
    for (let seq = 1; !stopping; seq++) {
      const firstAt = Date.now();
      for (;;) {
        const outcome = await attempt(seq);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        if (AMBIGUOUS.has(outcome)) log.ambiguous.add(seq);
        if (!RETRYABLE.has(outcome) || Date.now() - firstAt > deadlineMs) break;
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
      // Keep to the schedule (one every 1/rate s), so request latency does not lower the rate; after a stall
      // (a fault) start a new schedule rather than bursting what was missed.
      let nextAt = scheduleFrom.at + ((seq - scheduleFrom.seq) * 1000) / ratePerSecond;
      if (Date.now() - nextAt > 1000) {
        scheduleFrom = { at: Date.now(), seq };
        nextAt = scheduleFrom.at;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextAt - Date.now())));
    }
  })();

  return {
    outcomes,
    log,
    async stop() {
      stopping = true;
      await done;
      return log;
    },
  };
}
