/** Redis stopped: /readyz says so with a 503 naming it, the process stays up, and recovers after. */
import { assert, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { request, TestApp } from "./support/app.ts"
import { privateRedis } from "./support/servers.ts"

it.scopedLive("readyz is 503 naming redis while Redis is down, and 200 again once it is back", () =>
  Effect.gen(function*() {
    const redis = yield* privateRedis
    yield* Effect.gen(function*() {
      assert.strictEqual((yield* request("/readyz")).status, 200)
      yield* redis.stop
      const down = yield* request("/readyz")
      assert.strictEqual(down.status, 503)
      assert.strictEqual(down.json.error.code, "ServiceUnavailable")
      assert.include(down.json.error.message, "redis")
      assert.deepStrictEqual(down.json.error.details.checks, { postgres: "up", redis: "down", nats: "up" })
      const health = yield* request("/healthz")
      assert.strictEqual(health.status, 200)
      yield* redis.start
      let ready = 0
      for (let i = 0; i < 50 && ready !== 200; i++) {
        yield* Effect.sleep("100 millis")
        ready = (yield* request("/readyz")).status
      }
      assert.strictEqual(ready, 200)
    }).pipe(Effect.provide(Layer.fresh(TestApp({ redisUrl: Redacted.make(redis.url) }))))
  }), { timeout: 60_000 })
