# Redis for the container stack (compose.yaml): the public redis:7 image by default; on a plain Debian base (the
# locally made one where no registry is reachable) Debian's redis-server is installed (docs/containers.md).
ARG BASE=docker.io/library/redis:7
FROM ${BASE}
RUN command -v redis-server >/dev/null || { apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null \
 && rm -rf /var/lib/apt/lists/*; } && mkdir -p /data
WORKDIR /data
EXPOSE 6379
# redis-server exits on SIGTERM, so `stop` is quick. No persistence here: mount a volume at /data and add
# --appendonly yes for that (docs/containers.md).
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data"]
