# Redis for the container stack (compose.yaml). Debian's redis-server on any Debian base: the public image by
# default, or a locally made one where no registry is reachable (docs/containers.md).
ARG BASE=docker.io/library/debian:bookworm-slim
FROM ${BASE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null \
 && rm -rf /var/lib/apt/lists/*
EXPOSE 6379
# No persistence settings here: mount a volume and pass --appendonly yes for that (docs/containers.md).
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no"]
