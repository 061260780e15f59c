/** Waits until `check` holds, polling every 20 ms; throws after `timeoutMs`. */
export async function untilAsync(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  return untilAsync(async () => check(), timeoutMs);
}

/** Polls `check` every 50 ms; true once it holds, false once `timeoutMs` passed (for an assertion with its own message). */
export async function within(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
