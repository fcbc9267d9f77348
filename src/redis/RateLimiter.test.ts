/** The limiter's parts that need no Redis (its behaviour against Redis is in test/rate-limiter.test.ts). */
import { assert, describe, it } from "@effect/vitest"
import { makeLocalLimits } from "./RateLimiter.ts"

describe("local limits", () => {
  it("forget expired entries and never hold more than their bound", () => {
    const local = makeLocalLimits(100)
    const rule = { name: "r", limit: 1, windowSeconds: 1 }
    for (let i = 0; i < 1000; i++) local.consume(0, `k${i}`, rule, 1)
    assert.strictEqual(local.size(), 100)
    // the most recent keys are the ones kept
    assert.strictEqual(local.consume(0, "k999", rule, 1)[0], 0)
    local.consume(20_000, "later", rule, 1)
    assert.strictEqual(local.size(), 1)
  })
})
