import { Command, CommanderError } from "commander";
import { deleteCommand, getCommand, keysCommand, setCommand } from "./commands/kv.ts";
import { proxyCommand } from "./commands/proxy.ts";
import { publishCommand } from "./commands/publish.ts";
import { serveCommand } from "./commands/serve.ts";
import { startCommand } from "./commands/start.ts";
import { subscribeCommand } from "./commands/subscribe.ts";
import { tokenCommand } from "./commands/token.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { packageVersion } from "./version.ts";

/** The `relay` command. Data goes to stdout, progress and errors to stderr; exit codes are in exit-codes.ts. */
export function buildProgram(): Command {
  const program = new Command("relay")
    .description(
      "Edge relay from a terminal: KV, publish/subscribe, tokens, the local stack and the REST proxy",
    )
    .version(packageVersion(), "-V, --version", "print the version")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride();
  for (const command of [
    setCommand(),
    getCommand(),
    deleteCommand(),
    keysCommand(),
    publishCommand(),
    subscribeCommand(),
    tokenCommand(),
    startCommand(),
    serveCommand(),
    proxyCommand(),
  ]) {
    program.addCommand(command.exitOverride().showHelpAfterError("(add --help for usage)"));
  }
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  // `relay subscribe | head -3`: a closed pipe is the reader saying "enough", not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(EXIT.ok);
    throw error;
  });
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed the message (or the help); only the code is ours.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`relay: ${error instanceof Error ? error.message : String(error)}\n`);
    return exitCodeFor(error);
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
