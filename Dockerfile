# One image for every process; the command picks web, worker or release (see Procfile).
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Production dependencies only (tsx, which runs the TypeScript sources, is one of them).
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
USER node
EXPOSE 3000
# node runs as PID 1 and gets SIGTERM itself, so it drains; through npm and sh it would never see it.
CMD ["node", "--import", "tsx", "src/cli/web.ts"]
