/**
 * The rate-limit rules of accounts and the graph, and how a use-case applies one: the decision's
 * X-RateLimit-* headers go on the response, and a refusal is a 429 with Retry-After.
 */
import { Context, Effect, Layer } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { RateLimited } from "../domain/ApiError.ts"
import { addResponseHeader } from "../observability/RequestContext.ts"
import { type ConsumeOptions, RateLimiter, type RateRule, rateLimitHeaders } from "../redis/RateLimiter.ts"

export interface Rules {
  readonly signup: RateRule
  readonly loginFailuresAccount: RateRule
  readonly loginFailuresIp: RateRule
  readonly follow: RateRule
  readonly write: RateRule
}

export class Limits extends Context.Tag("Limits")<Limits, {
  readonly rules: Rules
  /** Consumes one unit; fails with 429 when the budget is spent. */
  readonly enforce: (rule: RateRule, key: string, options?: ConsumeOptions) => Effect.Effect<void, RateLimited>
  /** Fails with 429 when the budget is already spent, without using any of it. */
  readonly check: (rule: RateRule, key: string, options?: ConsumeOptions) => Effect.Effect<void, RateLimited>
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
    write: { name: "write-user", limit: r.writesPerUserPerMinute, windowSeconds: 60 }
  }
  const apply = (rule: RateRule, key: string, options: ConsumeOptions) =>
    Effect.gen(function*() {
      const decision = yield* limiter.consume(rule, key, options)
      for (const [k, v] of Object.entries(rateLimitHeaders(decision))) yield* addResponseHeader(k, v)
      if (!decision.allowed) {
        return yield* new RateLimited({
          message: `too many requests; try again in ${decision.retryAfterSeconds} s`,
          retryAfterSeconds: decision.retryAfterSeconds
        })
      }
    })
  return Limits.of({
    rules,
    limiter,
    enforce: (rule, key, options = {}) => apply(rule, key, options),
    check: (rule, key, options = {}) => apply(rule, key, { ...options, dryRun: true })
  })
})

export const layer = Layer.effect(Limits, make)
