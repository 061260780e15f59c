/** Data goes to stdout (one JSON value or text per line); progress and status go to stderr. */
export function printData(value: unknown): void {
  process.stdout.write(`${typeof value === "string" ? value : JSON.stringify(value)}\n`);
}

export function printStatus(line: string): void {
  process.stderr.write(`${line}\n`);
}
