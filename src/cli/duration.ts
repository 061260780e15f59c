const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** Parses `30s`, `15m`, `1h`, `7d` (or plain seconds) into seconds; throws a message naming the input. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!match)
    throw new Error(
      `invalid duration ${JSON.stringify(text)}: use a whole number with s, m, h or d (e.g. 30s, 15m, 1h, 7d)`,
    );
  const seconds = Number(match[1]) * UNIT_SECONDS[(match[2] || "s") as keyof typeof UNIT_SECONDS];
  if (seconds <= 0) throw new Error(`invalid duration ${JSON.stringify(text)}: must be more than zero`);
  return seconds;
}
