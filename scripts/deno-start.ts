// `deno task start`: serves the relay on Deno (src/entry/deno.ts --listen) with the Deno that runs this script,
// whether that is a `deno` on PATH or the npm package's copy (`npx deno task start`). With node_modules installed
// (`npm install`) the packages come from there, offline; without, Deno fetches what package.json names into its
// own cache (`--node-modules-dir=none`), so a Deno user needs no npm step. See docs/deploy.md.
interface DenoApi {
  execPath(): string;
  args: string[];
  statSync(path: string): unknown;
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  exit(code: number): never;
  Command: new (
    command: string,
    options: { args: string[]; stdin: "inherit"; stdout: "inherit"; stderr: "inherit" },
  ) => { spawn(): { status: Promise<{ code: number }>; kill(signal: "SIGINT" | "SIGTERM"): void } };
}
// Reached through globalThis so the file also type-checks under tsc (no Deno lib there).
const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

function installed(path: string): boolean {
  try {
    deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const dependencies = installed("node_modules/hono/package.json")
  ? []
  : ["--node-modules-dir=none", "--no-lock"];
const child = new deno.Command(deno.execPath(), {
  args: ["run", "--allow-net", "--allow-env", ...dependencies, "src/entry/deno.ts", "--listen", ...deno.args],
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
for (const signal of ["SIGINT", "SIGTERM"] as const) deno.addSignalListener(signal, () => child.kill(signal));
deno.exit((await child.status).code);

export {};
