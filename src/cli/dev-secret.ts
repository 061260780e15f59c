import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";

/** The file `relay start` keeps its generated dev secret in, in the directory it runs from (git-ignored here). */
export const DEV_SECRET_FILE = ".relay-dev-secret";

/**
 * The local stack's JWT secret when RELAY_JWT_SECRET is unset: the one saved in `file` by an earlier run, so
 * printed tokens and open pages survive a restart; else a new random one, saved (mode 0600) for the next run.
 * Deleting the file rotates it.
 */
export async function devSecret(file: string): Promise<{ secret: string; created: boolean }> {
  try {
    const saved = (await readFile(file, "utf8")).trim();
    if (saved.length >= 32) return { secret: saved, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const secret = randomBytes(32).toString("hex");
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return { secret, created: true };
}
