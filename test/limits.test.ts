/**
 * Rate limits through the API: they trigger with 429, Retry-After and X-RateLimit-* headers, and a
 * successful log-in resets the failure count (windows passing is shown in RateLimiter.test.ts).
 * With Redis down, log-in limiting carries on in process and nothing else is blocked.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import type { AppConfigShape } from "../src/config/AppConfig.ts"
import { request, signup, TestApp } from "./support/app.ts"
import { privateRedis } from "./support/servers.ts"

const limits: AppConfigShape["rateLimits"] = {
  signupsPerIpPerHour: 2,
  loginFailuresPerAccountPer15Min: 3,
  loginFailuresPerIpPer15Min: 5,
  followsPerUserPerHour: 2,
  writesPerUserPerMinute: 1000,
  dmSendsPerUserPerMinute: 1000,
  dmThreadsPerUserPerHour: 1000
}

const login = (login: string, password: string, ip: string) =>
  request("/api/v1/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip },
    body: JSON.stringify({ login, password })
  })

const PASSWORD = "correct horse battery staple"

describe("rate limits", () => {
  layer(TestApp({ trustProxy: true, rateLimits: limits }), { timeout: "60 seconds", excludeTestServices: true })((it) => {
    it.effect("sign-ups per address: 429 with Retry-After and X-RateLimit headers; other addresses unaffected", () =>
      Effect.gen(function*() {
        const attempt = (n: number, ip: string) =>
          request("/api/v1/auth/signup", {
            method: "POST",
            headers: { "content-type": "application/json", "x-forwarded-for": ip },
            body: JSON.stringify({ username: `lim${Date.now().toString(36)}${n}`, email: `lim${Date.now()}${n}@example.com`, password: PASSWORD })
          })
        const first = yield* attempt(1, "10.1.0.1")
        assert.strictEqual(first.status, 201)
        assert.strictEqual(first.headers.get("x-ratelimit-limit"), "2")
        assert.strictEqual(first.headers.get("x-ratelimit-remaining"), "1")
        assert.strictEqual((yield* attempt(2, "10.1.0.1")).status, 201)
        const refused = yield* attempt(3, "10.1.0.1")
        assert.strictEqual(refused.status, 429)
        assert.strictEqual(refused.json.error.code, "RateLimited")
        assert.isAbove(Number(refused.headers.get("retry-after")), 0)
        assert.strictEqual(refused.headers.get("x-ratelimit-remaining"), "0")
        assert.isAbove(Number(refused.headers.get("x-ratelimit-reset")), 0)
        assert.strictEqual((yield* attempt(4, "10.1.0.2")).status, 201)
      }))

    it.effect("failed log-ins per account and address: after the limit even the right password waits; a success resets", () =>
      Effect.gen(function*() {
        const a = yield* signup({ ip: "10.2.0.1" })
        const b = yield* signup({ ip: "10.2.0.2" })
        assert.strictEqual((yield* login(b.username, "wrong password", "10.2.0.3")).status, 401)
        assert.strictEqual((yield* login(b.username, PASSWORD, "10.2.0.3")).status, 200)
        for (let i = 0; i < 3; i++) assert.strictEqual((yield* login(b.username, "wrong password", "10.2.0.3")).status, 401, "the success reset the count")
        for (let i = 0; i < 3; i++) assert.strictEqual((yield* login(a.username, "wrong password", "10.2.0.4")).status, 401)
        const locked = yield* login(a.username, PASSWORD, "10.2.0.4")
        assert.strictEqual(locked.status, 429)
        assert.isAbove(Number(locked.headers.get("retry-after")), 0)
        assert.strictEqual((yield* login(a.username, PASSWORD, "10.2.0.5")).status, 200, "another address is not locked out")
      }))

    it.effect("failed log-ins per address across accounts", () =>
      Effect.gen(function*() {
        for (let i = 0; i < 5; i++) assert.strictEqual((yield* login(`nobody${i}`, "wrong password", "10.3.0.1")).status, 401)
        assert.strictEqual((yield* login("nobody9", "wrong password", "10.3.0.1")).status, 429)
      }))

    it.effect("follows per user per hour", () =>
      Effect.gen(function*() {
        const fan = yield* signup({ ip: "10.4.0.1" })
        const targets = yield* Effect.all([signup({ ip: "10.4.0.2" }), signup({ ip: "10.4.0.3" }), signup({ ip: "10.4.0.4" })])
        const follow = (t: { username: string }) => request(`/api/v1/users/${t.username}/follow`, { method: "POST", headers: fan.bearer })
        assert.strictEqual((yield* follow(targets[0])).status, 200)
        assert.strictEqual((yield* follow(targets[1])).status, 200)
        const refused = yield* follow(targets[2])
        assert.strictEqual(refused.status, 429)
        assert.strictEqual(refused.headers.get("x-ratelimit-limit"), "2")
      }))
  })

  it.scopedLive("with Redis down, log-in limiting falls back to the process and nothing else is blocked", () =>
    Effect.gen(function*() {
      const redis = yield* privateRedis
      yield* Effect.gen(function*() {
        const a = yield* signup({ ip: "10.5.0.1" })
        const b = yield* signup({ ip: "10.5.0.2" })
        yield* redis.stop
        for (let i = 0; i < 3; i++) assert.strictEqual((yield* login(a.username, "wrong password", "10.5.0.3")).status, 401)
        assert.strictEqual((yield* login(a.username, PASSWORD, "10.5.0.3")).status, 429, "limited in process")
        assert.strictEqual((yield* login(b.username, PASSWORD, "10.5.0.4")).status, 200, "log-in itself works")
        for (let i = 0; i < 3; i++) {
          const s = yield* signup({ ip: "10.5.0.9" })
          assert.isString(s.token, "sign-ups are not blocked by the limiter being down")
        }
        const f = yield* request(`/api/v1/users/${b.username}/follow`, { method: "POST", headers: a.bearer })
        assert.strictEqual(f.status, 200)
        const ticket = yield* request("/api/v1/auth/ws-ticket", { method: "POST", headers: a.bearer })
        assert.strictEqual(ticket.status, 503, "tickets live in Redis: unavailable, and said so")
      }).pipe(Effect.provide(Layer.fresh(TestApp({ trustProxy: true, rateLimits: limits, redisUrl: Redacted.make(redis.url) }))))
    }), { timeout: 60_000 })
})
