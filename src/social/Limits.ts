/**
 * The rate-limit rules of accounts, the graph and writes, and how a use-case applies one. The
 * decision is data: an allowed request's `RateLimit` is returned next to the use-case's answer
 * (`Limited`), a refusal fails with `RateLimitRefused` (a 429 that carries the same decision), and
 * the route turns either into `X-RateLimit-*` headers. Use-cases know nothing of HTTP.
 */
import { Context, Effect, Layer } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { RateLimited } from "../domain/ApiError.ts"
import { type ConsumeOptions, RateLimiter, type RateRule } from "../redis/RateLimiter.ts"

export interface Rules {
  readonly signup: RateRule
  readonly loginFailuresAccount: RateRule
  readonly loginFailuresIp: RateRule
  readonly follow: RateRule
  readonly write: RateRule
  readonly dmSend: RateRule
  readonly dmThread: RateRule
}

/** Where a subject stands under one rule after a decision. */
export interface RateLimit {
  readonly limit: number
  readonly remaining: number
  /** Seconds until the whole limit is available again. */
  readonly resetSeconds: number
}

/** A use-case's answer with the rate-limit decision it was allowed by. */
export interface Limited<A> {
  readonly value: A
  readonly rateLimit: RateLimit
}

export const limited = <A>(rateLimit: RateLimit) => (value: A): Limited<A> => ({ value, rateLimit })

/** The 429 of a spent budget, carrying the decision (which stays off the wire body: routes send it as headers). */
export class RateLimitRefused extends RateLimited {
  constructor(readonly rateLimit: RateLimit, retryAfterSeconds: number) {
    super({ message: `too many requests; try again in ${retryAfterSeconds} s`, retryAfterSeconds })
  }
}

/** Of two decisions, the one closer to refusing (fewer remaining, then the later reset). */
export const tighter = (a: RateLimit, b: RateLimit): RateLimit =>
  a.remaining !== b.remaining ? (a.remaining < b.remaining ? a : b) : a.resetSeconds >= b.resetSeconds ? a : b

export class Limits extends Context.Tag("Limits")<Limits, {
  readonly rules: Rules
  /** Consumes one unit; fails with 429 when the budget is spent. */
  readonly enforce: (rule: RateRule, key: string, options?: ConsumeOptions) => Effect.Effect<RateLimit, RateLimitRefused>
  /** Fails with 429 when the budget is already spent, without using any of it. */
  readonly check: (rule: RateRule, key: string, options?: ConsumeOptions) => Effect.Effect<RateLimit, RateLimitRefused>
  readonly limiter: RateLimiter["Type"]
}>() {}

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const limiter = yield* RateLimiter
  const r = config.rateLimits
  const rules: Rules = {
    signup: { name: "signup-ip", limit: r.signupsPerIpPerHour, windowSeconds: 3600 },
    loginFailuresAccount: { name: "login-fail-account-ip", limit: r.loginFailuresPerAccountPer15Min, windowSeconds: 900 },
    loginFailuresIp: { name: "login-fail-ip", limit: r.loginFailuresPerIpPer15Min, windowSeconds: 900 },
    follow: { name: "follow-user", limit: r.followsPerUserPerHour, windowSeconds: 3600 },
    write: { name: "write-user", limit: r.writesPerUserPerMinute, windowSeconds: 60 },
    dmSend: { name: "dm-send-user", limit: r.dmSendsPerUserPerMinute, windowSeconds: 60 },
    dmThread: { name: "dm-thread-user", limit: r.dmThreadsPerUserPerHour, windowSeconds: 3600 }
  }
  const apply = (rule: RateRule, key: string, options: ConsumeOptions) =>
    Effect.flatMap(limiter.consume(rule, key, options), (decision) => {
      const rateLimit: RateLimit = { limit: decision.limit, remaining: decision.remaining, resetSeconds: decision.resetSeconds }
      return decision.allowed ? Effect.succeed(rateLimit) : Effect.fail(new RateLimitRefused(rateLimit, decision.retryAfterSeconds))
    })
  return Limits.of({
    rules,
    limiter,
    enforce: (rule, key, options = {}) => apply(rule, key, options),
    check: (rule, key, options = {}) => apply(rule, key, { ...options, dryRun: true })
  })
})

export const layer = Layer.effect(Limits, make)
