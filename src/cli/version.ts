import { readFileSync } from "node:fs";

/**
 * The package's version, from its package.json: one directory up from the build (dist/cli.mjs), two from the
 * source (src/cli/version.ts).
 */
export function packageVersion(): string {
  for (const path of ["../package.json", "../../package.json"]) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === "edge-relay" && manifest.version) return manifest.version;
    } catch {
      // Not this one: the other layout.
    }
  }
  return "unknown";
}
