# syntax=docker/dockerfile:1
# The DroidFarm Dashboard as a small, non-root, read-only-friendly image.
#   docker build -t ghcr.io/droidfarm/dashboard:0.1.0 .
# test/integration/runtime-image.test.ts checks the runtime stage's contract without a Docker
# engine: the same production install in an empty folder, run as non-root, read-only.

# ---- build: every dependency, TypeScript compiled, CSS and htmx into public/ ----
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# npm ci runs the postinstall (the engine check on the Node that runs the scripts).
COPY scripts/check-install.mjs scripts/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/vendor-assets.mjs scripts/
COPY src src
COPY views views
COPY public public
RUN npm run build

# ---- runtime: production dependencies only, no npm at run time ----
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
COPY --from=build /app/views views
COPY --from=build /app/public public
# The node image's unprivileged user (uid 1000); the Deployment also sets runAsNonRoot and a
# read-only root filesystem: the server writes nothing to disk.
USER 1000:1000
EXPOSE 8080
# node is PID 1: it gets no default signal handlers, so the server installs its own for
# SIGTERM and SIGINT (src/server.ts) and spawns no children to reap.
ENTRYPOINT ["node", "dist/server.js"]
