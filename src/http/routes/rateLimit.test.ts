import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { NotFound } from "../../domain/ApiError.ts"
import { RequestContext, type RequestContextShape } from "../../observability/RequestContext.ts"
import { limited, RateLimitRefused } from "../../social/Limits.ts"
import { withRateLimit } from "./rateLimit.ts"

const request = (): RequestContextShape => ({
  requestId: "test-request",
  method: "POST",
  path: "/",
  headers: {},
  remoteAddress: "127.0.0.1",
  responseHeaders: []
})

describe("withRateLimit", () => {
  it.effect("an allowed request answers its value with the decision as X-RateLimit-* headers", () =>
    Effect.gen(function*() {
      const ctx = request()
      const value = yield* withRateLimit(Effect.succeed(limited<string>({ limit: 5, remaining: 4, resetSeconds: 12 })("ok"))).pipe(
        Effect.provideService(RequestContext, ctx)
      )
      assert.strictEqual(value, "ok")
      assert.deepStrictEqual(ctx.responseHeaders, [["x-ratelimit-limit", "5"], ["x-ratelimit-remaining", "4"], ["x-ratelimit-reset", "12"]])
    }))

  it.effect("a refusal keeps its 429 and sends the decision too; other failures send none", () =>
    Effect.gen(function*() {
      const ctx = request()
      const refused = new RateLimitRefused({ limit: 5, remaining: 0, resetSeconds: 60 }, 12)
      const exit = yield* Effect.exit(withRateLimit(Effect.fail(refused)).pipe(Effect.provideService(RequestContext, ctx)))
      assert.deepStrictEqual(exit, Exit.fail(refused))
      assert.strictEqual(refused._tag, "RateLimited")
      assert.strictEqual(refused.retryAfterSeconds, 12)
      assert.deepStrictEqual(ctx.responseHeaders, [["x-ratelimit-limit", "5"], ["x-ratelimit-remaining", "0"], ["x-ratelimit-reset", "60"]])
      const other = request()
      yield* Effect.exit(withRateLimit(Effect.fail(new NotFound({ message: "no" }))).pipe(Effect.provideService(RequestContext, other)))
      assert.deepStrictEqual(other.responseHeaders, [])
    }))
})
