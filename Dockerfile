# The Aperture image: one image, every role (ROLES picks what a container runs).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# the web client: built into dist/web, which the server serves at / and /widgets/
COPY web-components ./web-components
RUN npx tsx web-components/build.ts
ENV NODE_ENV=production PORT=8080
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "src/main.ts"]
