/**
 * Fastify serving the sample route the way Aperture does: the object is built per request and
 * serialized per request (no response schema, so no precompiled fast-json-stringify serializer).
 * Usage: `node --import tsx bench/http/fastify.ts <port>`.
 */
import Fastify from "fastify"
import { SAMPLE_PATH, sampleList } from "./sample.ts"

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0) throw new Error(`usage: fastify.ts <port>; got ${process.argv[2]}`)

const app = Fastify({ logger: false })

app.get<{ Querystring: { limit?: string } }>(SAMPLE_PATH, async (request) => {
  const limit = Number(request.query.limit ?? 20)
  return sampleList(Number.isInteger(limit) && limit >= 1 && limit <= 50 ? limit : 20)
})

// readiness probe for run.ts, same path as Aperture's
app.get("/healthz", async () => ({ status: "ok" }))

process.once("SIGTERM", () => {
  void app.close().then(() => process.exit(0))
})

await app.listen({ host: "127.0.0.1", port })
