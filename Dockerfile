# The gateway's image. Two stages: the build compiles with the dev dependencies (TypeScript), the
# runtime holds only the compiled dist/ and the production dependencies, and runs it on plain Node
# (no tsx) as the unprivileged `node` user. test/deploy/image.test.ts replays these steps: keep to
# FROM, WORKDIR, COPY, RUN npm …, ENV, USER, EXPOSE and an exec-form CMD, which it knows how to check.
# No container runtime was available where this was written: the file is checked, not built, there.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY deploy/bundle.ts ./deploy/
COPY src ./src
COPY schema ./schema
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
USER node
EXPOSE 4000
# `npm run serve`, without npm in between: SIGTERM reaches Node directly and starts the drain. The
# heap settings are the benchmark's (README, Benchmarks): RSS about half of V8's default, no CPU cost.
CMD ["node", "--max-semi-space-size=4", "--max-old-space-size=96", "dist/src/main.js"]
