/**
 * The operations endpoints behind a door, on a production configuration (NODE_ENV=production):
 * `/metrics` is not served to the public — a 404 without OPS_TOKEN (a separate METRICS_PORT
 * listener serves it instead), a 401 without the right bearer token when one is set;
 * `/api/v1/system/info` tells the public its name alone; and the benchmark fixtures do not exist
 * unless BENCH_FIXTURES is on.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { AppConfig } from "../src/config/AppConfig.ts"
import { request, TestApp } from "./support/app.ts"
import { freePort } from "./support/servers.ts"

const TOKEN = "ops-token-for-the-test-0123456789"
const production = { production: true, token: undefined, metricsPort: undefined, benchFixtures: false }

const fixturesAreGone = Effect.gen(function*() {
  const sample = yield* request("/api/v1/system/sample?limit=2")
  assert.strictEqual(sample.status, 404)
  assert.strictEqual(sample.json.error.code, "NotFound")
  // gone, not merely refused: no 405 that would betray the route
  const echo = yield* request("/api/v1/system/echo", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message: "hi" })
  })
  assert.strictEqual(echo.status, 404)
  assert.strictEqual((yield* request("/api/v1/system/echo")).status, 404)
})

describe("operations endpoints in production", () => {
  // without a token the main listener keeps /metrics closed; METRICS_PORT is the door
  const withMetricsPort = Layer.unwrapEffect(
    Effect.map(freePort, (metricsPort) => TestApp({ transport: "uws", ops: { ...production, metricsPort } }))
  )
  layer(withMetricsPort, { timeout: "60 seconds" })((it) => {
    it.effect("/metrics is a 404 on the main listener and served on METRICS_PORT", () =>
      Effect.gen(function*() {
        const main = yield* request("/metrics")
        assert.strictEqual(main.status, 404)
        assert.notInclude(main.text, "# HELP")
        const port = (yield* AppConfig).ops.metricsPort!
        const scraped = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/metrics`))
        assert.strictEqual(scraped.status, 200)
        assert.include(yield* Effect.promise(() => scraped.text()), "aperture_http_request_duration_seconds")
        const other = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/api/v1/system/info`))
        assert.strictEqual(other.status, 404)
      }))

    it.effect("/system/info tells the public its name alone", () =>
      Effect.gen(function*() {
        const info = yield* request("/api/v1/system/info")
        assert.strictEqual(info.status, 200)
        assert.deepStrictEqual(info.json, { name: "aperture" })
      }))

    it.effect("the benchmark fixtures are 404 without BENCH_FIXTURES", () => fixturesAreGone)
  })

  layer(TestApp({ transport: "node", ops: { ...production, token: Redacted.make(TOKEN) } }), { timeout: "60 seconds", excludeTestServices: true })((it) => {
    it.effect("/metrics needs the bearer token: 401 without it or with another, 200 with it", () =>
      Effect.gen(function*() {
        const none = yield* request("/metrics")
        assert.strictEqual(none.status, 401)
        assert.strictEqual(none.json.error.code, "Unauthorized")
        assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/)
        const wrong = yield* request("/metrics", { headers: { authorization: `Bearer ${TOKEN}x` } })
        assert.strictEqual(wrong.status, 401)
        assert.notInclude(wrong.text, "# HELP")
        const right = yield* request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } })
        assert.strictEqual(right.status, 200)
        assert.include(right.text, "aperture_process_resident_memory_bytes")
      }))

    it.effect("/system/info is whole only for the token", () =>
      Effect.gen(function*() {
        const config = yield* AppConfig
        const anonymous = yield* request("/api/v1/system/info")
        assert.deepStrictEqual(anonymous.json, { name: "aperture" })
        const stranger = yield* request("/api/v1/system/info", { headers: { authorization: "Bearer not-the-token" } })
        assert.deepStrictEqual(stranger.json, { name: "aperture" })
        const operator = yield* request("/api/v1/system/info", { headers: { authorization: `Bearer ${TOKEN}` } })
        assert.strictEqual(operator.json.nodeId, config.nodeId)
        assert.strictEqual(operator.json.transport, "node")
        assert.isString(operator.json.version)
        assert.match(operator.json.runtime, /^node /)
      }))

    it.effect("the benchmark fixtures are 404 without BENCH_FIXTURES", () => fixturesAreGone)
  })
})
