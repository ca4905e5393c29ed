# syntax=docker/dockerfile:1
#
# Granary: one image for all four services and the web console. The command picks which:
#
#   docker run IMAGE                               # metadata (the default)
#   docker run IMAGE node dist/online.js           # online
#   docker run IMAGE node dist/offline.js          # offline
#   docker run IMAGE node dist/registry.js         # registry
#   docker run IMAGE node dist/console.js          # the console
#   docker run IMAGE node apps/cli/bin/granary.mjs # the CLI
#
# Nothing compiles at run time: a build stage bundles the TypeScript with esbuild (npm run build:
# dist/ and apps/cli/dist/) and another builds the console's browser files (Vite); only their
# output reaches the runtime image, with the SQL migrations and the production dependencies.
# Debian (glibc), not Alpine: lmdb, @duckdb/node-api and embedded-postgres ship prebuilt
# linux glibc binaries through npm. Configuration is environment only (docs/operations.md);
# nothing secret is baked in. See docs/deploy.md.

# Pinned to an exact Node release (the one CI runs); change it deliberately, together with
# package-lock.json if need be. `npm run validate:deploy` refuses a floating tag.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- manifests: only the package.json files and the lock, so that the install layer below is
# rebuilt only when dependencies change, not on every source edit.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /manifests \
 && cp package.json package-lock.json /manifests/ \
 && find libs services apps -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /manifests/ \;

# --- deps: the full install, dev dependencies included.
FROM ${NODE_IMAGE} AS deps
# Compilers only for a native module that has no prebuilt binary for the build platform; they
# never reach the runtime image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=manifests /manifests/ ./
# npm ci is exact; it can refuse a lock that lacks an optional platform package of another machine,
# and then npm install resolves that one from the same lock.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund \
 || { echo "npm ci failed; falling back to npm install" >&2; npm install --no-audit --no-fund; }

# --- console: the console's static files (apps/console/dist), built by Vite from apps/console and
# the generated protocol code in libs/; only dist reaches the runtime image.
FROM deps AS console
COPY tsconfig.json tsconfig.base.json ./
COPY libs/ ./libs/
COPY apps/ ./apps/
RUN npm run build:console

# --- build: the services, tools and CLI compiled (scripts/build.mjs, esbuild, a dev dependency).
FROM deps AS build
COPY tsconfig.json tsconfig.base.json ./
COPY libs/ ./libs/
COPY services/ ./services/
COPY apps/ ./apps/
COPY scripts/ ./scripts/
RUN npm run build

# --- prod-deps: what runs. lmdb, DuckDB, pg, grpc-js ... are "dependencies"; tsx, esbuild and
# TypeScript are dev dependencies, pruned here.
FROM deps AS prod-deps
RUN npm prune --omit=dev --no-audit --no-fund

# --- runtime
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="granary" \
      org.opencontainers.image.description="Granary feature store and model registry (metadata, online, offline, registry gRPC services)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    GRANARY_HOST=0.0.0.0 \
    GRANARY_DATA_DIR=/data \
    HOME=/tmp \
    NPM_CONFIG_UPDATE_NOTIFIER=false
# uid/gid 10001, as the Helm chart's securityContext expects. /data and its store directories
# belong to it, so a new named volume mounted there starts out writable.
RUN groupadd --system --gid 10001 granary \
 && useradd --system --uid 10001 --gid granary --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin granary \
 && mkdir -p /data/online /data/offline /data/registry/blobs \
 && chown -R 10001:10001 /data
WORKDIR /app
# node_modules and the workspace manifests, then the compiled bundles, the SQL migrations they
# read (found from dist/ as ../services/*/src/store/sql) and the console's files. Everything stays
# owned by root: the code is not writable at run time.
COPY --from=prod-deps /app/ ./
COPY --from=build /app/dist/ ./dist/
COPY --from=build /app/apps/cli/dist/ ./apps/cli/dist/
COPY apps/cli/bin/ ./apps/cli/bin/
COPY services/metadata/src/store/sql/ ./services/metadata/src/store/sql/
COPY services/registry/src/store/sql/ ./services/registry/src/store/sql/
COPY --from=console /app/apps/console/dist/ ./apps/console/dist/
# Operational scripts (plain JavaScript): the compose healthcheck and an online-store backup.
COPY deploy/healthcheck.mjs deploy/lmdb-backup.mjs ./deploy/
USER 10001:10001
# gRPC, then HTTP (Connect, gRPC-Web, JSON) of the four services, then the console.
EXPOSE 50051 50052 50053 50054 51051 51052 51053 51054 51050
# No HEALTHCHECK here: the port depends on which service the command starts. Compose runs
#   node deploy/healthcheck.mjs 127.0.0.1:<port>              (a service: grpc.health.v1)
#   node deploy/healthcheck.mjs http://127.0.0.1:51050/healthz (the console)
# and Kubernetes uses its native gRPC probes (an HTTP GET of /healthz for the console).
CMD ["node", "dist/metadata.js"]
