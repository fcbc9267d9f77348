/**
 * `METRICS_PORT`: a second listener, on HOST, that serves `GET /metrics` and nothing else — the
 * door for a Prometheus on a private network, on every role (a media-only node has no API
 * listener but has metrics). The main listener's `/metrics` is then closed unless OPS_TOKEN is
 * set. Without METRICS_PORT this layer does nothing.
 */
import { Effect, Layer } from "effect"
import * as Http from "node:http"
import { AppConfig } from "../config/AppConfig.ts"
import { Metrics } from "./Metrics.ts"

const notFound = JSON.stringify({ error: { code: "NotFound", message: "this listener serves GET /metrics only" } })

export const layer = Layer.scopedDiscard(
  Effect.gen(function*() {
    const config = yield* AppConfig
    const port = config.ops.metricsPort
    if (port === undefined) return
    const metrics = yield* Metrics
    const server = Http.createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0]
      if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
        res.writeHead(404, { "content-type": "application/json" }).end(notFound)
        return
      }
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(req.method === "HEAD" ? undefined : text),
        () => res.writeHead(500).end()
      )
    })
    yield* Effect.acquireRelease(
      Effect.async<void, Error>((resume) => {
        server.once("error", (e) => resume(Effect.fail(new Error(`METRICS_PORT ${port} cannot be used: ${e.message}`))))
        server.listen({ port, host: config.host, exclusive: true }, () => resume(Effect.void))
      }).pipe(Effect.orDie),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          // a scraper keeps its connection alive; shutdown must not wait for it
          server.closeAllConnections?.()
        })
    )
    yield* Effect.logInfo(`metrics listening on http://${config.host}:${port}/metrics`)
  })
)
