# The stockmesh region service. One image serves every region: STOCKMESH_REGION picks which one,
# and STOCKMESH_CLUSTER_FILE describes the cluster (see docs/configuration.md). The same image runs
# the provisioning step: `node dist/infra/db/provision.js`, and docker-compose's one-shot steps
# (the cluster secret, the Kafka passwords, the Kafka ACLs; see docs/deployment.md).
#
#   docker build -t stockmesh .

# ---- build: compile TypeScript with the dev dependencies, then drop them ----
FROM node:24-bookworm-slim AS build
WORKDIR /app
# swagger-ui-dist's install script would otherwise try to send install analytics.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
# The same install as CI and the README: exactly the committed lock file, or a failure.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY infra ./infra
# infra/chaos uses the benchmarks' helpers, and the build compiles both (tsconfig.build.json).
COPY bench ./bench
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: compiled code and production dependencies only ----
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# package.json is needed at run time: its "type": "module" makes Node load dist/ as ES modules.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Plain JavaScript that runs before a build too (kafka.sh runs it); docker-compose's kafka-acls
# service runs it from the image: `node infra/kafka/acls.mjs` (docs/deployment.md).
COPY --from=build /app/infra/kafka/acls.mjs ./infra/kafka/acls.mjs
USER node
# The port of the regions in infra/compose/cluster.json; a region binds the host and port its
# entry in the cluster file names.
EXPOSE 3000
# Ready = every shard database of the region answers. Assumes port 3000, as in the compose
# cluster file; override the healthcheck if a region listens elsewhere.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/health/ready',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/apps/region/src/main.js"]
