// Container health check: exit 0 when http://127.0.0.1:<port>/healthz answers 2xx within 2 s, else 1.
const port = process.argv[2] ?? "8787";
fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
