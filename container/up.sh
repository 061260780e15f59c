#!/usr/bin/env bash
# One command for the container stack (compose.yaml): assembles the build context, keeps the stack's secrets in
# .container/stack.env (generated once, git-ignored), builds and starts Redis, the proxy and the relay, waits
# until the relay answers /healthz, and prints the URLs and an admin token. docs/containers.md.
# Env: RELAY_PORT (8787), PROXY_PORT (8079), BASE_IMAGE (a Debian image for all three images, instead of the public
# debian:bookworm-slim and redis:7; local/debian:bookworm where no registry is reachable: container/base-image.sh
# makes it), REDIS_BASE_IMAGE (Redis's alone), IMAGE_TAG (dev), COMPOSE_PROJECT_NAME (edge-relay).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source "$root/container/compose-tool.sh"
# A plain Debian base for the app images serves Redis too (its Dockerfile installs redis-server there).
if [ -n "${BASE_IMAGE:-}" ] && [ -z "${REDIS_BASE_IMAGE:-}" ]; then export REDIS_BASE_IMAGE="$BASE_IMAGE"; fi

bash container/prepare.sh >/dev/null
env_file="$root/.container/stack.env"
if [ ! -f "$env_file" ]; then
  umask 077
  proxy_token="$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
  printf 'PROXY_TOKEN=%s\nUPSTASH_REDIS_REST_TOKEN=%s\nRELAY_JWT_SECRET=%s\n' "$proxy_token" "$proxy_token" \
    "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$env_file"
fi
set -a
# shellcheck disable=SC1090
source "$env_file"
set +a

# The compose tool's own output (every command it runs) goes to a log, shown when something fails.
log="$root/.container/up.log"
compose up -d --build >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
relay="http://127.0.0.1:${RELAY_PORT:-8787}"
for _ in $(seq 1 120); do
  if curl -fsS "$relay/healthz" >/dev/null 2>&1; then
    token="$(RELAY_JWT_SECRET="$RELAY_JWT_SECRET" "$root/node_modules/.bin/node" --experimental-strip-types --no-warnings \
      src/cli/main.ts token --scope admin --ttl 24h)"
    echo "relay  $relay"
    echo "proxy  http://127.0.0.1:${PROXY_PORT:-8079}  (token in .container/stack.env)"
    echo "page   $relay/#token=$token"
    echo "token  $token"
    exit 0
  fi
  sleep 1
done
echo "up: the relay did not answer $relay/healthz within 120 s; see $log and: ${tool[*]} logs" >&2
exit 1
