#!/usr/bin/env bash
# Stops and removes the container stack's containers and network (images stay, for a fast next start).
# Env: COMPOSE_PROJECT_NAME (edge-relay), as for up.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/container/compose-tool.sh"
[ -f "$root/.container/stack.env" ] && { set -a; source "$root/.container/stack.env"; set +a; }
# The compose tool's own output (and podman's complaints about a missing systemd) goes to a log, shown on failure.
mkdir -p "$root/.container"
log="$root/.container/down.log"
compose down >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
# podman-compose 1.0.x leaves the project's network behind (docker compose removes it).
if [ "${tool[0]}" = podman-compose ] && podman network exists "${project}_default"; then
  podman network rm "${project}_default" >/dev/null
fi
