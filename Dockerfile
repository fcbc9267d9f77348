# The Aperture image: one image, every role (ROLES picks what a container runs).
# Node 24 (LTS) on Debian 13 (trixie): uWebSockets.js 3.0.6's binary for Node 24 (uws_linux_*_137.node)
# needs glibc 2.38, and trixie has 2.41 (Debian 12's 2.36 cannot load it; see README, "Node versions").

# build: every dependency, then the server compiled to dist/main.js and the web client to dist/web/
FROM node:24-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY web-components ./web-components
RUN npm run build

# runtime: production dependencies and dist/ only; no TypeScript, no build tools
FROM node:24-trixie-slim
WORKDIR /app
ENV NODE_ENV=production PORT=8080
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# DATA_DIR (the filesystem media store) defaults to ./data; the server runs unprivileged
RUN mkdir -p data && chown node:node data
USER node
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
