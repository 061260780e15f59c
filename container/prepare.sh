#!/usr/bin/env bash
# Assembles the build context of container/app.Dockerfile in .container/context: the sources, production
# node_modules (npm ci --omit=dev, from npm's cache when it has everything) and the Node 22 binary of the `node`
# devDependency. Building from it needs no network: hosts whose HTTPS goes through an intercepting CA, where
# `npm install` inside a build fails, build the same images as any other (docs/containers.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
context="$root/.container/context"
node_bin="$root/node_modules/node/bin/node"
[ -x "$node_bin" ] || { echo "prepare: $node_bin is missing: run npm install first" >&2; exit 1; }
rm -rf "$context"
mkdir -p "$context"
cp "$root/package.json" "$root/package-lock.json" "$context/"
cp -r "$root/src" "$context/src"
cp -r "$root/container" "$context/container"
cp "$node_bin" "$context/node"
( cd "$context" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null )
# Tests beside the sources are not needed at run time.
find "$context/src" -name '*.test.ts' -delete
echo "$context"
