/**
 * Opens `count` connections, at most `concurrency` at a time (a thousand handshakes at once would time out on
 * two shared cores). If any open fails, every connection already opened is discarded and the error is thrown.
 */
export async function openAll<T>(
  count: number,
  concurrency: number,
  open: (index: number) => Promise<T>,
  discard: (connection: T) => void,
): Promise<T[]> {
  const opened: T[] = [];
  let next = 0;
  let failed = false;
  async function worker() {
    while (next < count && !failed) {
      const index = next++;
      try {
        opened[index] = await open(index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  }
  const outcomes = await Promise.allSettled(Array.from({ length: Math.min(concurrency, count) }, worker));
  const rejection = outcomes.find((outcome) => outcome.status === "rejected");
  if (rejection) {
    for (const connection of opened) if (connection !== undefined) discard(connection);
    throw rejection.reason;
  }
  return opened;
}
