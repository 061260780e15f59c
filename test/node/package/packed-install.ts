import { execFile } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, delimiter, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const REPO_ROOT = join(import.meta.dirname, "..", "..", "..");
/** Never copied: installed or generated state, and local secrets. */
const NOT_COPIED = new Set([
  "node_modules",
  ".git",
  "dist",
  ".wrangler",
  ".test-results",
  "coverage",
  ".dev.vars",
  ".env",
  ".relay-dev-secret",
]);

export interface PackedInstall {
  /** Paths inside the tarball (README.md, dist/cli.mjs, …). */
  packedFiles: string[];
  /** The client-only package (packages/client) packed from the same copy. */
  client: { tarball: string; packedFiles: string[] };
  /** A fresh project with the tarball installed as a dependency. */
  app: string;
  /** The installed package: app/node_modules/edge-relay. */
  installed: string;
}

/**
 * `npm pack` a copy of the repository (its prepack builds dist/ there, not in the shared work tree, so the build
 * never races other tests or another run), then `npm install` the tarball into a new project, as a user would.
 */
export async function packAndInstall(scratch: string): Promise<PackedInstall> {
  const copy = join(scratch, "repo");
  cpSync(REPO_ROOT, copy, {
    recursive: true,
    filter: (source) => source === REPO_ROOT || !isExcluded(basename(source), source),
  });
  symlinkSync(join(REPO_ROOT, "node_modules"), join(copy, "node_modules"), "dir");
  const tarballs = join(scratch, "tarballs");
  mkdirSync(tarballs);
  const tarball = await pack(copy, tarballs);
  const client = await pack(join(copy, "packages", "client"), tarballs);
  const app = await installIntoNewProject(join(scratch, "app"), tarball.path);
  return {
    packedFiles: tarball.files,
    client: { tarball: client.path, packedFiles: client.files },
    app,
    installed: join(app, "node_modules", "edge-relay"),
  };
}

/** `npm pack` in `directory` (its prepack runs); the tarball's path and the paths inside it. */
async function pack(directory: string, destination: string): Promise<{ path: string; files: string[] }> {
  const packed = await npm(["pack", "--json", "--pack-destination", destination], directory);
  // prepack's own output comes first on stdout; the JSON report is the rest.
  const report = JSON.parse(packed.slice(packed.search(/^\[/m))) as {
    filename: string;
    files: { path: string }[];
  }[];
  const tarball = report[0];
  if (!tarball) throw new Error(`npm pack reported no tarball:\n${packed}`);
  return { path: join(destination, tarball.filename), files: tarball.files.map((file) => file.path) };
}

/** A new, empty ESM project at `app` with `tarball` installed as its one dependency, as a user would. */
export async function installIntoNewProject(app: string, tarball: string): Promise<string> {
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({ name: basename(app), private: true, type: "module" }),
  );
  await npm(["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], app);
  return app;
}

/** Every package directory under `app`/node_modules (`name` or `@scope/name`), sorted. */
export function installedPackages(app: string): string[] {
  const root = join(app, "node_modules");
  const names: string[] = [];
  for (const entry of readdirSync(root)) {
    if (entry.startsWith(".")) continue;
    if (entry.startsWith("@"))
      for (const scoped of readdirSync(join(root, entry))) names.push(`${entry}/${scoped}`);
    else names.push(entry);
  }
  return names.sort();
}

/**
 * `npm install git+file://<this repository>#<HEAD>` into a new project: npm clones the commit, installs its
 * dependencies and runs its `prepare` (the build) before packing it, as for a GitHub URL. Tests the committed
 * HEAD, not uncommitted edits.
 */
export async function installFromGit(scratch: string): Promise<string> {
  const { stdout: head } = await run("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT }).catch((error) => {
    throw new Error(`installing from git needs the repository's git history: ${String(error)}`);
  });
  const app = join(scratch, "git-app");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({ name: "git-app", private: true, type: "module" }),
  );
  await npm(
    ["install", "--prefer-offline", "--no-audit", "--no-fund", `git+file://${REPO_ROOT}#${head.trim()}`],
    app,
  );
  return app;
}

function isExcluded(name: string, source: string): boolean {
  // Only top-level entries are excluded by name (a nested `dist/` or `.env` in a fixture would be copied).
  return join(REPO_ROOT, name) === source && (NOT_COPIED.has(name) || name.startsWith(".scratch"));
}

async function npm(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run("npm", args, { cwd, maxBuffer: 16 * 1024 * 1024, timeout: 150_000 });
    return stdout;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(" ")} failed in ${cwd}:\n${stdout}\n${stderr}`);
  }
}

export function scratchDirectory(): string {
  return mkdtempSync(join(tmpdir(), "relay-package-"));
}

/**
 * The Node binaries to run the installed package with: this one (Node 22) and the first `node` on PATH outside
 * any node_modules (the system Node, 20 on the project's machines) when it is another binary: the build must run
 * on Node >= 20 as plain JavaScript.
 */
export function nodeBinaries(): string[] {
  const binaries = [process.execPath];
  for (const directory of (process.env.PATH ?? "").split(delimiter)) {
    if (!directory || directory.includes("node_modules")) continue;
    const candidate = join(directory, "node");
    if (!existsSync(candidate)) continue;
    if (realpathSync(candidate) !== realpathSync(process.execPath)) binaries.push(candidate);
    break;
  }
  return binaries;
}
