#!/usr/bin/env node
// Writes the files the examples ship that come from the relay's own source, so they cannot drift from it:
//   examples/python/publish.lua   PUBLISH_LUA of src/relay/redis/publish-script.ts, verbatim (docs/data-model.md)
// `npm run build:examples` rewrites them; `-- --check` exits 1 when one is stale (test/node/examples.test.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { PUBLISH_LUA } from "../src/relay/redis/publish-script.ts";

const root = join(import.meta.dirname, "..");

/** Each generated example file and the text it must hold. */
export const GENERATED_EXAMPLES: Record<string, string> = {
  [join(root, "examples", "python", "publish.lua")]: PUBLISH_LUA,
};

/** The generated files whose committed text differs from what the sources give (relative paths). */
export function staleExamples(): string[] {
  return Object.entries(GENERATED_EXAMPLES)
    .filter(([file, text]) => {
      try {
        return readFileSync(file, "utf8") !== text;
      } catch {
        return true;
      }
    })
    .map(([file]) => relative(root, file));
}

if (import.meta.main) {
  if (process.argv.includes("--check")) {
    const stale = staleExamples();
    if (stale.length > 0) {
      console.error(`stale: ${stale.join(", ")}; run \`npm run build:examples\``);
      process.exit(1);
    }
  } else {
    for (const [file, text] of Object.entries(GENERATED_EXAMPLES)) writeFileSync(file, text);
    console.log(
      `wrote ${Object.keys(GENERATED_EXAMPLES)
        .map((file) => relative(root, file))
        .join(", ")}`,
    );
  }
}
