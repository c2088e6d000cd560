# syntax=docker/dockerfile:1
# keepcache in a small image: `docker build -t keepcache .`
#   docker run -v /etc/keepcache:/etc/keepcache:ro -p 22121:22121 keepcache
# VRRP in a container needs the host's network and two capabilities:
#   docker run --network host --cap-add NET_RAW --cap-add NET_ADMIN ...

# Build stage: compiler tools for the raw-socket addon (VRRP), every dependency for tsc.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY test ./test
COPY bench ./bench
# `npm ci` runs the prepare script (tsc); then only production and optional dependencies stay.
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf dist/test dist/bench dist/.tsbuildinfo \
 && find dist -name '*.map' -delete

# Runtime stage: node, keepcache and its production dependencies, run as the `node` user.
FROM node:20-bookworm-slim
# ip(8) and arping move and announce VRRP addresses; nothing else is added.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 iputils-arping \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /opt/keepcache
COPY --from=build /src/package.json ./
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/node_modules ./node_modules
COPY schema ./schema
COPY deploy/docker/keepcache.yml /etc/keepcache/keepcache.yml
RUN ln -s /opt/keepcache/bin/keepcache.js /usr/local/bin/keepcache
USER node
# The proxy pool of the default config and the twemproxy stats port.
EXPOSE 22121 22222
ENTRYPOINT ["keepcache"]
CMD ["run", "-c", "/etc/keepcache/keepcache.yml", "-a", "0.0.0.0"]
