#!/usr/bin/env bash
# Stops and removes the container stack's containers and network (images stay, for a fast next start).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/container/compose-tool.sh"
[ -f "$root/.container/stack.env" ] && { set -a; source "$root/.container/stack.env"; set +a; }
compose down >&2
