/**
 * The GCRA limiter against Redis: limits, dry runs, costs, windows passing, reset, a race of 50
 * requests, and — on a private redis-server that the test stops — the fallbacks while Redis is
 * away. (Its Redis-free parts are tested beside it, in src/redis/RateLimiter.test.ts.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, Redacted } from "effect"
import { appConfig } from "../src/config/AppConfig.ts"
import { RateLimiter, type RateLimiterShape, type RateRule } from "../src/redis/RateLimiter.ts"
import * as RateLimiterLive from "../src/redis/RateLimiter.ts"
import * as Redis from "../src/redis/Redis.ts"
import { purgeRedisPrefix, uniqueId } from "./support/harness.ts"
import { privateRedis } from "./support/servers.ts"

/** The shared Redis under a key prefix of this test's own, deleted afterwards. */
const IsolatedRedis = Layer.scoped(
  Redis.Redis,
  Effect.gen(function*() {
    const { redisUrl } = yield* appConfig
    const prefix = `${uniqueId("rl")}:`
    yield* Effect.addFinalizer(() => purgeRedisPrefix(redisUrl, prefix).pipe(Effect.ignore))
    return yield* Redis.make({ url: redisUrl, prefix })
  })
)
const Live = RateLimiterLive.layer.pipe(Layer.provideMerge(IsolatedRedis))

const consumeWith = (limiter: RateLimiterShape, n: number, rule: RateRule, key: string) =>
  Effect.forEach(Array.from({ length: n }), () => limiter.consume(rule, key))

const consumeTimes = (n: number, rule: RateRule, key: string) =>
  Effect.flatMap(RateLimiter, (limiter) => consumeWith(limiter, n, rule, key))

const waitFor = (condition: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 250 && !condition(); i++) yield* Effect.sleep("20 millis")
    assert.isTrue(condition(), "condition not reached within 5 s")
  })

describe("RateLimiter against Redis", () => {
  it.live("allows up to the limit, then refuses with the time until the next unit frees", () =>
    Effect.gen(function*() {
      const rule = { name: "posts", limit: 3, windowSeconds: 60 }
      const decisions = yield* consumeTimes(4, rule, "user-1")
      assert.deepStrictEqual(decisions.map((d) => [d.allowed, d.remaining]), [[true, 2], [true, 1], [true, 0], [false, 0]])
      const refused = decisions[3]!
      assert.strictEqual(refused.limit, 3)
      // a burst of 3 per 60 s frees one unit every 20 s
      assert.isTrue(refused.retryAfterSeconds > 18 && refused.retryAfterSeconds <= 20, `${refused.retryAfterSeconds}`)
      assert.isTrue(refused.resetSeconds > 58 && refused.resetSeconds <= 60, `${refused.resetSeconds}`)
      assert.strictEqual(decisions[0]!.retryAfterSeconds, 0)
    }).pipe(Effect.provide(Live)))

  it.live("a dry run answers without using the budget", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter
      const rule = { name: "dry", limit: 2, windowSeconds: 60 }
      assert.isTrue((yield* limiter.consume(rule, "k", { dryRun: true })).allowed)
      yield* consumeWith(limiter, 2, rule, "k")
      assert.isFalse((yield* limiter.consume(rule, "k", { dryRun: true })).allowed)
      assert.isFalse((yield* limiter.consume(rule, "k")).allowed)
    }).pipe(Effect.provide(Live)))

  it.live("keys and rules are independent of each other", () =>
    Effect.gen(function*() {
      const rule = { name: "likes", limit: 1, windowSeconds: 60 }
      const [first, second] = yield* consumeTimes(2, rule, "a")
      assert.isTrue(first!.allowed)
      assert.isFalse(second!.allowed)
      const [otherKey] = yield* consumeTimes(1, rule, "b")
      assert.isTrue(otherKey!.allowed)
      const [otherRule] = yield* consumeTimes(1, { ...rule, name: "follows" }, "a")
      assert.isTrue(otherRule!.allowed)
    }).pipe(Effect.provide(Live)))

  it.live("a cost uses several units at once", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter
      const rule = { name: "uploads", limit: 3, windowSeconds: 60 }
      const first = yield* limiter.consume(rule, "u", { cost: 2 })
      const second = yield* limiter.consume(rule, "u", { cost: 2 })
      assert.deepStrictEqual([first.allowed, first.remaining], [true, 1])
      assert.deepStrictEqual([second.allowed, second.remaining], [false, 1])
      assert.isTrue((yield* limiter.consume(rule, "u")).allowed)
    }).pipe(Effect.provide(Live)))

  it.live("the whole limit is available again once the window has passed", () =>
    Effect.gen(function*() {
      const rule = { name: "burst", limit: 2, windowSeconds: 1 }
      const before = yield* consumeTimes(3, rule, "k")
      assert.deepStrictEqual(before.map((d) => d.allowed), [true, true, false])
      assert.strictEqual(before[2]!.retryAfterSeconds, 1)
      yield* Effect.sleep("1100 millis")
      const after = yield* consumeTimes(3, rule, "k")
      assert.deepStrictEqual(after.map((d) => d.allowed), [true, true, false])
    }).pipe(Effect.provide(Live)))

  it.live("reset forgets what a key has used", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter
      const rule = { name: "login-failures", limit: 2, windowSeconds: 60 }
      yield* consumeTimes(2, rule, "alice")
      assert.isFalse((yield* limiter.consume(rule, "alice")).allowed)
      yield* limiter.reset(rule, "alice")
      const after = yield* limiter.consume(rule, "alice")
      assert.deepStrictEqual([after.allowed, after.remaining], [true, 1])
    }).pipe(Effect.provide(Live)))

  it.live("50 concurrent requests against a limit of 10: exactly 10 allowed", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter
      const rule = { name: "race", limit: 10, windowSeconds: 60 }
      const decisions = yield* Effect.all(
        Array.from({ length: 50 }, () => limiter.consume(rule, "shared")),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(decisions.filter((d) => d.allowed).length, 10)
      assert.isTrue(decisions.filter((d) => !d.allowed).every((d) => d.retryAfterSeconds > 0 && d.remaining === 0))
    }).pipe(Effect.provide(Live)))

  it.live("a malformed rule is a defect, not a silent pass", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter
      const exit = yield* Effect.exit(limiter.consume({ name: "has space", limit: 1, windowSeconds: 1 }, "k"))
      assert.isTrue(exit._tag === "Failure")
    }).pipe(Effect.provide(Live)))
})

describe("RateLimiter while Redis is down", () => {
  it.scopedLive("'allow' fails open, 'local' keeps limiting in process, one warning per 10 s, then Redis again", () =>
    Effect.gen(function*() {
      const warnings: Array<string> = []
      const server = yield* privateRedis
      const redis = yield* Redis.make({ url: Redacted.make(server.url), prefix: "rl-down:" })
      const limiter = yield* RateLimiterLive.make().pipe(Effect.provideService(Redis.Redis, redis))
      const rule = { name: "login-failures", limit: 3, windowSeconds: 60 }
      const run = <A>(effect: Effect.Effect<A>) =>
        effect.pipe(
          Effect.provide(Logger.replace(
            Logger.defaultLogger,
            Logger.make(({ logLevel, message }) => {
              if (logLevel._tag === "Warning") warnings.push(String(message))
            })
          ))
        )

      yield* server.stop
      yield* waitFor(() => redis.client.status !== "ready")

      const open = yield* run(consumeWith(limiter, 10, rule, "ip-1"))
      assert.isTrue(open.every((d) => d.allowed))

      const local = yield* run(
        Effect.forEach(Array.from({ length: 5 }), () => limiter.consume(rule, "ip-2", { fallback: "local" }))
      )
      assert.deepStrictEqual(local.map((d) => d.allowed), [true, true, true, false, false])
      assert.deepStrictEqual(local.map((d) => d.remaining), [2, 1, 0, 0, 0])
      assert.isTrue(local[3]!.retryAfterSeconds > 18 && local[3]!.retryAfterSeconds <= 20)

      yield* run(limiter.reset(rule, "ip-2"))
      assert.isTrue((yield* run(limiter.consume(rule, "ip-2", { fallback: "local" }))).allowed)

      assert.strictEqual(warnings.length, 1, warnings.join("\n"))
      assert.match(warnings[0]!, /Redis unavailable/)

      yield* server.start
      yield* waitFor(() => redis.client.status === "ready")
      // limit 1 with fail-open fallback: a refusal can only have come from Redis
      const back = yield* run(consumeWith(limiter, 2, { name: "after", limit: 1, windowSeconds: 60 }, "k"))
      assert.deepStrictEqual(back.map((d) => d.allowed), [true, false])
    }))
})
