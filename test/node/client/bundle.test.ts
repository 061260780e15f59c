import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..", "..");

/** The client SDK bundled for a browser, as the live page and any app would bundle it. */
async function bundleClient() {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["src/client/index.ts"],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    metafile: true,
    logLevel: "silent",
  });
  return { inputs: Object.keys(result.metafile.inputs), bytes: result.outputFiles[0]?.contents.length ?? 0 };
}

describe("client bundle", () => {
  it("contains no zod: only the SDK, the zod-free protocol modules and eventsource-parser", async () => {
    const { inputs, bytes } = await bundleClient();
    expect(inputs.filter((input) => input.includes("node_modules/zod/"))).toEqual([]);
    // The protocol modules that build zod schemas must stay out too (they would bring zod back).
    expect(inputs).not.toContain("src/protocol/names.ts");
    expect(inputs).not.toContain("src/protocol/message.ts");
    expect(inputs).not.toContain("src/protocol/schemas.ts");
    expect(inputs).not.toContain("src/protocol/index.ts");
    const foreign = inputs.filter(
      (input) =>
        !input.startsWith("src/client/") &&
        !input.startsWith("src/protocol/") &&
        !input.startsWith("node_modules/eventsource-parser/"),
    );
    expect(foreign, "modules the client bundle should not pull in").toEqual([]);
    expect(inputs).toContain("src/client/index.ts");
    // About 19 KB minified today (94 KB when zod was in); a generous ceiling that a new heavy dependency breaks.
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(40_000);
  });
});
