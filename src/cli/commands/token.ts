import { Command, Option } from "commander";
import { UsageError } from "../exit-codes.ts";
import { durationArgument } from "../option-parsers.ts";
import { printData } from "../output.ts";
import { mintToken } from "../token.ts";

export function tokenCommand(): Command {
  return new Command("token")
    .description("mint an HS256 relay token and print it")
    .requiredOption(
      "--scope <scopes>",
      'space-separated: "publish:orders subscribe:sensors.* kv:read:* kv:write:cfg.* admin"',
    )
    .option("--ttl <duration>", "lifetime: 30s, 15m, 1h, 7d", durationArgument, 3600)
    .option("--sub <subject>", "the token's subject (sub claim)")
    .addOption(new Option("--secret <secret>", "HS256 signing secret").env("RELAY_JWT_SECRET"))
    .action(async (options: { scope: string; ttl: number; sub?: string; secret?: string }) => {
      if (!options.secret) throw new UsageError("no signing secret: pass --secret or set RELAY_JWT_SECRET");
      printData(
        await mintToken({
          secret: options.secret,
          scope: options.scope,
          ttlSeconds: options.ttl,
          ...(options.sub ? { subject: options.sub } : {}),
        }),
      );
    });
}
