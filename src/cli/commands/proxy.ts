import { Command } from "commander";
import { serveProxy } from "../../proxy/serve.ts";

/**
 * `relay proxy [flags]`: the Upstash-compatible REST proxy (the SRH drop-in) with exactly the flags and
 * environment of `npm run proxy` (docs/proxy.md). The proxy parses its own flags, so they pass through untouched.
 */
export function proxyCommand(): Command {
  return new Command("proxy")
    .description(
      "serve the Upstash-compatible REST proxy in front of a Redis (relay proxy --help for its flags)",
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[flags...]", "the proxy's flags, see relay proxy --help")
    .action(async (flags: string[]) => {
      process.exitCode = await serveProxy(flags, process.env, "relay proxy");
    });
}
