#!/usr/bin/env bash
# Stops and removes the container stack's containers and network (images stay, for a fast next start).
# Env: COMPOSE_PROJECT_NAME (edge-relay), as for up.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/container/compose-tool.sh"
[ -f "$root/.container/stack.env" ] && { set -a; source "$root/.container/stack.env"; set +a; }
compose down >&2
# podman-compose 1.0.x leaves the project's network behind (docker compose removes it).
if [ "${tool[0]}" = podman-compose ] && podman network exists "${project}_default"; then
  podman network rm "${project}_default" >/dev/null
fi
