# syntax=docker/dockerfile:1
#
# Images of the producer API and the consumer service.
#
# One Dockerfile, shared stages, and one final target per service (`producer`,
# `consumer`) that differ only in their command. Both services are one TypeScript build
# with one set of dependencies, so the two images share every layer but the last
# (metadata only): building and loading the second costs nothing, while each image still
# starts its own service with a plain `docker run` and the chart needs no command
# override. skaffold builds both targets (skaffold.yaml, artifacts).
#
# Stages: deps (production dependencies from the lockfile) and build (all dependencies,
# `npm run build` = tsc) feed runtime, which holds only node_modules (production),
# dist/services and package.json. tests/containers builds both targets from this file and
# runs them as the chart does (tests/chart/image.test.ts reads it statically).

ARG NODE_VERSION=24.17.0
ARG DEBIAN_RELEASE=trixie

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS base
WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# Production dependencies only, exactly as locked; no install scripts are needed.
FROM base AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# Compile the services with the full (dev) dependency set.
FROM base AS build
COPY package.json package-lock.json ./
RUN npm ci --include=dev --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY services ./services
RUN npm run build

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only for the service's user: the root filesystem can be
# mounted read-only (the chart does) and nothing in /app is ever written.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/services ./dist/services
COPY package.json ./
# A numeric user with no entry in /etc/passwd, so Kubernetes can verify runAsNonRoot.
USER 10001:10001
# node is PID 1 and gets SIGTERM directly (npm start would not forward it); the
# services install their own signal handlers and exit within SHUTDOWN_TIMEOUT_MS.
# kafkajs 2.2's request queue schedules a check `throttledUntil - Date.now()` ahead, a negative
# delay while never throttled; Node runs it after 1 ms, as kafkajs means, and from Node 23 on
# prints a TimeoutNegativeWarning at every start. That one warning is silenced, no other.
ENTRYPOINT ["node", "--enable-source-maps", "--disable-warning=TimeoutNegativeWarning"]

FROM runtime AS consumer
# Its default management port (the chart sets MANAGEMENT_PORT=8081 in the pod).
EXPOSE 8082
CMD ["dist/services/consumer/main.js"]

# Last, so that a plain `docker build .` gives the producer.
FROM runtime AS producer
EXPOSE 8080 8081
CMD ["dist/services/producer/main.js"]
