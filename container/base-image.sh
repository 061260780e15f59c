#!/usr/bin/env bash
# Makes the local base image `local/debian:bookworm` with debootstrap, for hosts that reach a Debian mirror but
# no container registry (docs/containers.md). Does nothing when the image exists. Needs root and debootstrap.
set -euo pipefail
image="${1:-local/debian:bookworm}"
if podman image exists "$image"; then exit 0; fi
mirror="${DEBIAN_MIRROR:-$(grep -hoE '^(deb|URIs:) +(\[[^]]*\] +)?https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
  grep -oE 'https?://[^ ]+' | grep -v security | head -n 1 || true)}"
mirror="${mirror:-http://deb.debian.org/debian}"
rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
echo "base-image: debootstrap bookworm from $mirror" >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
tar -C "$rootfs" -c . | podman import - "$image" >/dev/null
echo "base-image: $image ready" >&2
