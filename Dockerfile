# One image for every process; the command picks web, worker or release (see Procfile).

# The Mini App and the panel are built with Vite (a dev dependency) in a stage of their own.
FROM node:24-bookworm-slim AS web-build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./web
RUN npm run -s build:web

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Production dependencies only: Node 24 runs the TypeScript sources itself, stripping the types
# (the code is erasable syntax only; tsconfig `erasableSyntaxOnly`), so no transpiler ships.
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# The built pages (dist/web), served by the web process with a year's cache on hashed assets.
COPY --from=web-build /build/dist/web ./dist/web
USER node
EXPOSE 3000
# node runs as PID 1 and gets SIGTERM itself, so it drains; through npm and sh it would never see it.
CMD ["node", "src/cli/web.ts"]
