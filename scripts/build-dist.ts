#!/usr/bin/env node
// Builds what the published packages run into dist/ (git-ignored). `npm run build`; npm runs it as `prepare`
// before `npm pack` and publish (so a tarball always holds a fresh dist/), when a project installs the package
// from a git URL, and on `npm install` in a clone. Node refuses to strip TypeScript types under
// node_modules, so an installed package must ship JavaScript. The package `edge-relay` (this directory):
//   dist/relay.mjs   `edge-relay`: createApp and parseConfig (platform-neutral, for Workers, Deno and Node)
//   dist/proxy.mjs   `edge-relay/proxy`: createProxy, the Upstash-compatible REST proxy (Node)
//   dist/node.mjs    `edge-relay/node`: the Node entry (startNodeRelay), which `relay start --runtime node` runs
//   dist/cli.mjs     the `relay` command, plain JS for Node >= 20 (bin/relay.mjs runs it when src/ is absent)
//   dist/client.js   `edge-relay/client`: the client SDK: ESM, platform-neutral, no zod
//   dist/types/      declarations of the above, emitted by tsc
// The package `@edge-relay/client` (packages/client, docs/client.md "Installing"): the same SDK build and its
// declarations in packages/client/dist/, so a client-only install pulls in no server dependency.
// Runtime dependencies stay external: they are each package's `dependencies`, installed beside it.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
const dist = join(root, "dist");
const types = join(dist, "types");
const clientEntry = join(types, "client", "index.d.ts");
/** The declaration files the package exports; everything they do not import is left out. */
const DECLARATION_ENTRIES = [
  clientEntry,
  join(types, "entry", "node.d.ts"),
  join(types, "relay", "index.d.ts"),
  join(types, "proxy", "index.d.ts"),
];
/** The client-only package: packages/client/dist/{index.js, types/}. */
const clientPackageDist = join(root, "packages", "client", "dist");

async function bundle(entry: string, outfile: string, platform: "node" | "neutral"): Promise<void> {
  await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: resolve(dist, outfile),
    bundle: true,
    format: "esm",
    platform,
    target: platform === "node" ? "node20" : "es2022",
    packages: "external",
    charset: "utf8",
    legalComments: "none",
    logLevel: "warning",
  });
}

/**
 * Runs tsc (declarations only), then makes them importable from any moduleResolution: `./x.ts` -> `./x.js`.
 * A type error is reported but does not fail the build while tsc still emitted the declarations: `npm install`
 * runs this build (prepare), and `npm run typecheck` is the gate for type errors.
 */
function emitDeclarations(): void {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  try {
    execFileSync(process.execPath, [tsc, "-p", join(root, "scripts", "build-dist.tsconfig.json")], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
    });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    if (!DECLARATION_ENTRIES.every((entry) => existsSync(entry)))
      throw new Error(`tsc could not emit the declarations:\n${stdout}${stderr}`);
    console.warn(`build-dist: tsc reported errors (declarations emitted anyway):\n${stdout}${stderr}`);
  }
  const reachable = new Set<string>();
  for (const entry of DECLARATION_ENTRIES) for (const file of rewriteImports(entry)) reachable.add(file);
  for (const entry of readdirSync(types, { recursive: true, withFileTypes: true })) {
    const file = join(entry.parentPath, entry.name);
    if (entry.isFile() && !reachable.has(file)) rmSync(file);
  }
  removeEmptyDirectories(types);
}

/**
 * Makes the declarations reachable from `entry` importable from any moduleResolution (`./x.ts` -> `./x.js`) and
 * returns them. Idempotent: a file already rewritten has no `.ts` import left.
 */
function rewriteImports(entry: string): Set<string> {
  const reachable = new Set<string>();
  const visit = (file: string) => {
    if (reachable.has(file)) return;
    if (!existsSync(file)) throw new Error(`declaration ${relative(root, file)} was not emitted`);
    reachable.add(file);
    const text = readFileSync(file, "utf8").replace(
      /(from\s+|import\()(["'])(\.\.?\/[^"']+)\.(ts|js)\2/g,
      (_match, lead: string, quote: string, path: string) => {
        visit(resolve(dirname(file), `${path}.d.ts`));
        return `${lead}${quote}${path}.js${quote}`;
      },
    );
    writeFileSync(file, text);
  };
  visit(entry);
  return reachable;
}

/** packages/client/dist: the SDK bundle and the declarations it needs, at the same relative paths. */
function buildClientPackage(): void {
  rmSync(clientPackageDist, { recursive: true, force: true });
  mkdirSync(clientPackageDist, { recursive: true });
  cpSync(join(dist, "client.js"), join(clientPackageDist, "index.js"));
  for (const file of rewriteImports(clientEntry)) {
    const target = join(clientPackageDist, "types", relative(types, file));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(file, target);
  }
}

function removeEmptyDirectories(directory: string): void {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.isDirectory()) removeEmptyDirectories(join(directory, entry.name));
  }
  if (readdirSync(directory).length === 0) rmSync(directory, { recursive: true });
}

/** dist/client.js, the SDK as `edge-relay/client` ships it; tests build it elsewhere with `outfile` (absolute). */
export function bundleClient(outfile = "client.js"): Promise<void> {
  return bundle("src/client/index.ts", outfile, "neutral");
}

export async function buildDist(): Promise<void> {
  rmSync(dist, { recursive: true, force: true });
  await bundle("src/cli/main.ts", "cli.mjs", "node");
  await bundle("src/entry/node.ts", "node.mjs", "node");
  await bundle("src/relay/index.ts", "relay.mjs", "neutral");
  await bundle("src/proxy/index.ts", "proxy.mjs", "node");
  await bundleClient();
  emitDeclarations();
  buildClientPackage();
}

if (import.meta.main) {
  await buildDist();
  console.log(
    `built ${relative(process.cwd(), dist) || "."} (cli, node, relay, proxy, client, types) and packages/client/dist`,
  );
}
