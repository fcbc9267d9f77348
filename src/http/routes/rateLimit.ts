/**
 * Rate-limit decisions, which use-cases return as data, become `X-RateLimit-*` headers here: on
 * the answer of an allowed request and on a 429 (whose `Retry-After` the error mapping adds).
 */
import { Effect } from "effect"
import { addResponseHeader } from "../../observability/RequestContext.ts"
import { type Limited, type RateLimit, RateLimitRefused } from "../../social/Limits.ts"

export const rateLimitHeaders = (r: RateLimit): Record<string, string> => ({
  "x-ratelimit-limit": String(r.limit),
  "x-ratelimit-remaining": String(r.remaining),
  "x-ratelimit-reset": String(r.resetSeconds)
})

const addHeaders = (r: RateLimit) => Effect.forEach(Object.entries(rateLimitHeaders(r)), ([k, v]) => addResponseHeader(k, v), { discard: true })

/** The use-case's answer, with its decision sent as headers whether it was allowed or refused. */
export const withRateLimit = <A, E, R>(useCase: Effect.Effect<Limited<A>, E, R>): Effect.Effect<A, E, R> =>
  useCase.pipe(
    Effect.tapError((e) => (e instanceof RateLimitRefused ? addHeaders(e.rateLimit) : Effect.void)),
    Effect.tap(({ rateLimit }) => addHeaders(rateLimit)),
    Effect.map(({ value }) => value)
  )
