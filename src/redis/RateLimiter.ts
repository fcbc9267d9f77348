/**
 * Rate limits shared by every node, kept in Redis with GCRA (the generic cell rate algorithm): one
 * key per (rule, subject) holding a "theoretical arrival time", updated by one Lua script so that
 * concurrent requests on any node cannot overshoot. A rule of `limit` per `windowSeconds` allows a
 * burst of `limit` and then one more every `windowSeconds / limit` — no boundary spikes as with
 * fixed windows, and one small key instead of a sorted set of timestamps.
 *
 * Redis holds derived state only, so when it is unreachable a limit either fails open ("allow":
 * nothing else is blocked because the limiter is down) or falls back to the same algorithm in this
 * process ("local": for limits that protect credentials, where failing open would invite guessing).
 */
import { Clock, Context, Duration, Effect, Layer } from "effect"
import { Redis } from "./Redis.ts"

export interface RateRule {
  /** Part of the Redis key: letters, digits, `_`, `-`, `.` only, so rules cannot collide. */
  readonly name: string
  readonly limit: number
  readonly windowSeconds: number
}

export interface RateDecision {
  readonly allowed: boolean
  readonly limit: number
  readonly remaining: number
  /** Seconds until the whole limit is available again. */
  readonly resetSeconds: number
  /** Seconds until this request would be allowed; 0 when allowed. */
  readonly retryAfterSeconds: number
}

export interface ConsumeOptions {
  /** How many units the request uses (default 1). */
  readonly cost?: number
  /** What to do while Redis is unreachable (default "allow"). */
  readonly fallback?: "allow" | "local"
  /** Answer whether the units would be allowed without using them (check before costly work). */
  readonly dryRun?: boolean
}

export interface RateLimiterShape {
  readonly consume: (rule: RateRule, key: string, options?: ConsumeOptions) => Effect.Effect<RateDecision>
  /** Forgets what `key` has used under `rule`, e.g. the failed logins once a login succeeds. */
  readonly reset: (rule: RateRule, key: string) => Effect.Effect<void>
}

export class RateLimiter extends Context.Tag("RateLimiter")<RateLimiter, RateLimiterShape>() {}

// Times are milliseconds as doubles. Comparisons allow 1 µs of float error so that `limit` requests
// in the same instant are all allowed. The time is Redis's own (TIME), so nodes' clocks need not agree.
const GCRA_LUA = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local dry = ARGV[4] == "1"
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = window / limit
local tat = tonumber(redis.call("GET", KEYS[1]) or "0")
if tat < now then tat = now end
local new_tat = tat + cost * interval
local allow_at = new_tat - window
if allow_at - now > 0.001 then
  local remaining = math.max(0, math.floor((window - (tat - now)) / interval + 0.000001))
  return {0, remaining, math.ceil(allow_at - now), math.ceil(tat - now)}
end
if new_tat > now and not dry then
  redis.call("SET", KEYS[1], string.format("%.17g", new_tat), "PX", math.ceil(new_tat - now))
end
local remaining = math.max(0, math.floor((window - (new_tat - now)) / interval + 0.000001))
return {1, remaining, 0, math.ceil(new_tat - now)}
`

/** The same step as GCRA_LUA, for the in-process fallback. */
const gcraStep = (now: number, stored: number | undefined, limit: number, windowMs: number, cost: number) => {
  const interval = windowMs / limit
  const tat = Math.max(stored ?? 0, now)
  const newTat = tat + cost * interval
  const allowAt = newTat - windowMs
  if (allowAt - now > 0.001) {
    const remaining = Math.max(0, Math.floor((windowMs - (tat - now)) / interval + 1e-6))
    return { reply: [0, remaining, Math.ceil(allowAt - now), Math.ceil(tat - now)] as const, tat: stored }
  }
  const remaining = Math.max(0, Math.floor((windowMs - (newTat - now)) / interval + 1e-6))
  return { reply: [1, remaining, 0, Math.ceil(newTat - now)] as const, tat: newTat }
}

type GcraReply = readonly [allowed: number, remaining: number, retryMs: number, resetMs: number]

const toDecision = (limit: number, [allowed, remaining, retryMs, resetMs]: GcraReply): RateDecision => ({
  allowed: allowed === 1,
  limit,
  remaining,
  resetSeconds: Math.ceil(resetMs / 1000),
  retryAfterSeconds: Math.ceil(retryMs / 1000)
})

/**
 * Limits in this process while Redis is away. Entries whose arrival time has passed mean the same
 * as no entry, so they are swept; at `maxKeys` the least recently written goes, so a flood of
 * distinct keys costs memory up to a bound and not beyond.
 */
export const makeLocalLimits = (maxKeys: number) => {
  const tats = new Map<string, number>()
  let lastSweep = 0
  return {
    consume: (now: number, key: string, rule: RateRule, cost: number, dryRun = false): GcraReply => {
      if (now - lastSweep > 10_000) {
        lastSweep = now
        for (const [k, tat] of tats) if (tat <= now) tats.delete(k)
      }
      const step = gcraStep(now, tats.get(key), rule.limit, rule.windowSeconds * 1000, cost)
      if (dryRun) return step.reply
      // delete before set: Map order becomes least recently written first
      tats.delete(key)
      if (step.tat !== undefined && step.tat > now) {
        if (tats.size >= maxKeys) tats.delete(tats.keys().next().value as string)
        tats.set(key, step.tat)
      }
      return step.reply
    },
    delete: (key: string) => void tats.delete(key),
    size: () => tats.size
  }
}

const RULE_NAME = /^[A-Za-z0-9_.-]{1,64}$/
const COMMAND = "apertureGcra"
const WARNING_INTERVAL_MS = 10_000

type GcraCommand = (key: string, limit: number, windowMs: number, cost: number, dry: "0" | "1") => Promise<GcraReply>

const validate = (rule: RateRule, cost: number) =>
  !RULE_NAME.test(rule.name)
    ? Effect.dieMessage(`rate rule name "${rule.name}" must match ${RULE_NAME}`)
    : !Number.isInteger(rule.limit) || rule.limit < 1 || !(rule.windowSeconds > 0)
    ? Effect.dieMessage(`rate rule "${rule.name}" needs an integer limit ≥ 1 and a positive window`)
    : !Number.isInteger(cost) || cost < 0
    ? Effect.dieMessage(`rate limit cost must be an integer ≥ 0, got ${cost}`)
    : Effect.void

export const make = (options: {
  /** How long a Redis call may take before the fallback applies (default 500 ms). */
  readonly timeout?: Duration.DurationInput
  /** Most keys the local fallback remembers (default 100,000). */
  readonly maxLocalKeys?: number
} = {}) =>
  Effect.gen(function*() {
    const { client } = yield* Redis
    // defineCommand sends EVALSHA and falls back to EVAL once per connection, and prefixes KEYS
    client.defineCommand(COMMAND, { numberOfKeys: 1, lua: GCRA_LUA })
    const gcra = (client as unknown as Record<typeof COMMAND, GcraCommand>)[COMMAND].bind(client)
    const timeout = options.timeout ?? Duration.millis(500)
    const local = makeLocalLimits(options.maxLocalKeys ?? 100_000)
    const redisKey = (rule: RateRule, key: string) => `rl:${rule.name}:${key}`

    let lastWarning = Number.NEGATIVE_INFINITY
    const warnThrottled = (message: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (now - lastWarning < WARNING_INTERVAL_MS) return Effect.void
        lastWarning = now
        return Effect.logWarning(message)
      })

    const consume = Effect.fn("RateLimiter.consume")(
      function*(rule: RateRule, key: string, consumeOptions?: ConsumeOptions) {
        const cost = consumeOptions?.cost ?? 1
        const fallback = consumeOptions?.fallback ?? "allow"
        yield* validate(rule, cost)
        const reply = yield* Effect.tryPromise({
          try: () => gcra(redisKey(rule, key), rule.limit, rule.windowSeconds * 1000, cost, consumeOptions?.dryRun ? "1" : "0"),
          catch: (e) => e instanceof Error ? e : new Error(String(e))
        }).pipe(
          Effect.timeoutFail({ duration: timeout, onTimeout: () => new Error(`no reply within ${Duration.format(timeout)}`) }),
          Effect.either
        )
        if (reply._tag === "Right") return toDecision(rule.limit, reply.right)
        yield* warnThrottled(
          `rate limiter: Redis unavailable (${reply.left.message}); limits fail open or run per process`
        )
        if (fallback === "allow") {
          return {
            allowed: true,
            limit: rule.limit,
            remaining: Math.max(0, rule.limit - cost),
            resetSeconds: 0,
            retryAfterSeconds: 0
          } satisfies RateDecision
        }
        const now = yield* Clock.currentTimeMillis
        return toDecision(rule.limit, local.consume(now, redisKey(rule, key), rule, cost, consumeOptions?.dryRun ?? false))
      }
    )

    const reset = Effect.fn("RateLimiter.reset")(function*(rule: RateRule, key: string) {
      local.delete(redisKey(rule, key))
      // best effort: a failed reset only leaves a stricter limit in place until it expires
      yield* Effect.tryPromise(() => client.del(redisKey(rule, key))).pipe(
        Effect.timeout(timeout),
        Effect.catchAll((e) => warnThrottled(`rate limiter: reset not stored in Redis (${String(e)})`))
      )
    })

    return RateLimiter.of({ consume, reset })
  })

export const layer = Layer.effect(RateLimiter, make())
