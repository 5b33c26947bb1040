# apexdns container image: build stage compiles TypeScript, runtime stage carries only production dependencies and
# runs as an unprivileged user that may still bind port 53 (file capability on the node binary).

# ---- build ----
FROM node:20-slim AS build
WORKDIR /src
# A C compiler for the batched UDP addon (src/server/native/udp.c); Node's headers come with the image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# `prepare` runs the build, which needs the sources: install without scripts, build explicitly below.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# APEXDNS_REQUIRE_NATIVE: the image must have batched UDP, so a failed addon build fails the image build.
RUN APEXDNS_REQUIRE_NATIVE=1 npm run build

# ---- runtime ----
FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app

# setcap comes from libcap2-bin; the capability lets the non-root user bind ports below 1024 (53/udp, 53/tcp).
# Alternatives when file capabilities are not honoured (e.g. some rootless runtimes or nosuid mounts):
#   docker run --cap-add=NET_BIND_SERVICE ...   or   docker run --sysctl net.ipv4.ip_unprivileged_port_start=53 ...
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcap2-bin \
 && setcap 'cap_net_bind_service=+ep' "$(readlink -f "$(command -v node)")" \
 && apt-get purge -y --auto-remove libcap2-bin \
 && rm -rf /var/lib/apt/lists/*

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY zones ./zones

RUN groupadd --system apexdns \
 && useradd --system --gid apexdns --home-dir /var/lib/apexdns --create-home --shell /usr/sbin/nologin apexdns \
 && mkdir -p /etc/apexdns \
 && chown -R apexdns:apexdns /var/lib/apexdns

USER apexdns
EXPOSE 53/udp 53/tcp
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["serve", "--config", "/etc/apexdns/config.yaml"]
