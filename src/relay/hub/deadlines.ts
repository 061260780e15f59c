interface Entry {
  deadline: number;
  expire: () => void;
  live: boolean;
}

/** Below this many entries a mostly cancelled heap is left to drain as its deadlines pass. */
const COMPACT_ABOVE = 64;

/**
 * The wait deadlines of every long-poll waiter of a process (or isolate) on ONE timer: a min-heap by deadline,
 * the timer armed for the earliest. Most waiters are woken by a message long before their deadline; a timer each
 * cost them a setTimeout and a clearTimeout, which on Deno (Node's timers, a Timeout object each) was 3-4% of the
 * relay's CPU under the long-poll benchmark (docs/benchmarks.md). A cancelled entry stays in the heap until it
 * surfaces or the heap is rebuilt (when most of it is cancelled); with no live entry left the timer is cleared,
 * so nothing keeps the process alive that a timer per waiter would not have.
 */
export class Deadlines {
  private heap: Entry[] = [];
  private cancelled = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Calls `expire` once `now()` reaches `deadline`, unless the returned cancel runs first. */
  add(deadline: number, expire: () => void): () => void {
    const entry: Entry = { deadline, expire, live: true };
    this.push(entry);
    this.arm();
    return () => {
      if (!entry.live) return;
      entry.live = false;
      this.cancelled++;
      if (this.cancelled === this.heap.length) this.reset();
      else if (this.heap.length > COMPACT_ABOVE && this.cancelled * 2 > this.heap.length) this.compact();
    };
  }

  /** Entries held, cancelled ones not yet dropped included (for tests). */
  get size(): number {
    return this.heap.length;
  }

  private arm(): void {
    const first = this.heap[0];
    if (first === undefined || (this.timer !== undefined && this.armedFor <= first.deadline)) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedFor = first.deadline;
    this.timer = setTimeout(() => this.fire(), Math.max(0, first.deadline - this.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    for (let first = this.heap[0]; first !== undefined && first.deadline <= now; first = this.heap[0]) {
      this.pop();
      if (!first.live) {
        this.cancelled--;
        continue;
      }
      first.live = false;
      first.expire();
    }
    this.arm();
  }

  private reset(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    this.heap = [];
    this.cancelled = 0;
  }

  private compact(): void {
    const live = this.heap.filter((entry) => entry.live);
    this.heap = [];
    this.cancelled = 0;
    for (const entry of live) this.push(entry);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    let index = heap.push(entry) - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((heap[parent] as Entry).deadline <= entry.deadline) break;
      heap[index] = heap[parent] as Entry;
      index = parent;
    }
    heap[index] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop() as Entry;
    if (heap.length === 0) return;
    let index = 0;
    for (;;) {
      const left = index * 2 + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && (heap[right] as Entry).deadline < (heap[left] as Entry).deadline
          ? right
          : left;
      if ((heap[child] as Entry).deadline >= last.deadline) break;
      heap[index] = heap[child] as Entry;
      index = child;
    }
    heap[index] = last;
  }
}
