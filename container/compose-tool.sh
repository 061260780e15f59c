# Sourced by container/up.sh and down.sh: `compose ...` runs podman-compose or docker compose on compose.yaml.
# With podman on a host where root cannot raise limits and crun lacks cgroup support, container/containers.conf
# is used unless CONTAINERS_CONF names another file (docs/containers.md).
project="${COMPOSE_PROJECT_NAME:-edge-relay}"
if command -v podman-compose >/dev/null 2>&1; then
  if [ -z "${CONTAINERS_CONF:-}" ] && command -v runc >/dev/null 2>&1; then
    export CONTAINERS_CONF="$root/container/containers.conf"
  fi
  tool=(podman-compose -p "$project" -f "$root/compose.yaml")
elif docker compose version >/dev/null 2>&1; then
  tool=(docker compose -p "$project" -f "$root/compose.yaml")
else
  echo "containers: neither podman-compose nor docker compose is installed" >&2
  exit 1
fi
compose() { "${tool[@]}" "$@"; }
