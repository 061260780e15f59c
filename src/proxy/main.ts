import { serveProxy } from "./serve.ts";

/** `npm run proxy -- --listen 127.0.0.1:8079 --redis redis://127.0.0.1:6379 --token T` (see docs/proxy.md). */
serveProxy(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`proxy: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
