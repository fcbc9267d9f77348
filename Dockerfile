# The Aperture image: one image, every role (ROLES picks what a container runs).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
ENV NODE_ENV=production PORT=8080
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "src/main.ts"]
