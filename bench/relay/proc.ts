/** Reading other processes from /proc (Linux): resident memory, CPU time, descendants. */
import { readdirSync, readFileSync } from "node:fs";

/** Resident set size of one process in bytes (VmRSS in /proc/<pid>/status), or 0 when it is gone. */
export function residentBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match?.[1] ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Sum of the resident set sizes of several processes, in bytes. */
export function totalResidentBytes(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += residentBytes(pid);
  return total;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)": state is field 3, utime field 14, stime field 15 (in clock ticks, 100 per second on Linux).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

const CLOCK_TICKS_PER_SECOND = 100;

interface ProcessEntry {
  pid: number;
  parent: number;
  command: string;
}

/** Every process below `root` (children, grandchildren, ...) whose command name matches `name`. */
export function descendantsNamed(root: number, name: RegExp): number[] {
  const table = processTable();
  const below = new Set<number>([root]);
  // Parents always have lower start order than children, but pids wrap: iterate until nothing new is found.
  let grew = true;
  while (grew) {
    grew = false;
    for (const entry of table) {
      if (!below.has(entry.pid) && below.has(entry.parent)) {
        below.add(entry.pid);
        grew = true;
      }
    }
  }
  return table
    .filter((entry) => entry.pid !== root && below.has(entry.pid) && name.test(entry.command))
    .map((e) => e.pid);
}

function processTable(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces or parentheses, so cut at the last ")".
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const command = stat.slice(stat.indexOf("(") + 1, close);
      const parent = Number(stat.slice(close + 2).split(" ")[1]);
      entries.push({ pid: Number(name), parent, command });
    } catch {
      // The process exited while we listed /proc.
    }
  }
  return entries;
}
