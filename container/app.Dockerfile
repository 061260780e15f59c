# The REST proxy (target `proxy`) and the relay on Node (target `relay`), from the context that
# container/prepare.sh assembles: the sources, production node_modules and a Node 22 binary, so nothing is
# downloaded during the build and any glibc Debian base works (docs/containers.md).
ARG BASE=docker.io/library/debian:bookworm-slim
FROM ${BASE} AS app
WORKDIR /app
COPY node /usr/local/bin/node
COPY package.json ./
COPY node_modules ./node_modules
COPY src ./src
COPY container/healthcheck.mjs ./healthcheck.mjs
ENV NODE_ENV=production
USER 65534:65534

FROM app AS proxy
ENV PROXY_LISTEN=0.0.0.0:8079
EXPOSE 8079
# SIGTERM drains open streams and exits (src/proxy/main.ts), so `stop` does not wait for a kill.
CMD ["node", "--experimental-strip-types", "--no-warnings", "src/proxy/main.ts"]

FROM app AS relay
ENV HOST=0.0.0.0 PORT=8787
EXPOSE 8787
CMD ["node", "--experimental-strip-types", "--no-warnings", "src/entry/node.ts"]
