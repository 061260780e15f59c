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
