/**
 * Every dependency call is bounded: with a private Redis or NATS frozen by SIGSTOP (its connections
 * stay open and it answers nothing — only a timeout can tell) no request waits longer than the
 * timeout of the call it makes plus a margin. Reads with a fallback take it (the feed from
 * PostgreSQL, marked degraded); what has none answers 503 or is refused; after SIGCONT everything
 * works again. A statement PostgreSQL runs past PG_STATEMENT_TIMEOUT_MS is cancelled the same way.
 * The deadlines are bounds, not performance claims: the margin is generous.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import WebSocket from "ws"
import type { AppConfigShape } from "../../src/config/AppConfig.ts"
import { isDependencyFailure } from "../../src/http/DependencyFailure.ts"
import { RedisError } from "../../src/redis/Redis.ts"
import { type Account, baseUrl, openSocketAs, publishPost, request, signup, TestApp } from "../support/app.ts"
import { privateNats, privateRedis, type ServiceProcess } from "../support/servers.ts"

const timeouts: AppConfigShape["timeouts"] = {
  redisCommandMillis: 1000,
  pgStatementMillis: 2000,
  pgConnectMillis: 5000,
  natsRequestMillis: 1000
}
/** What a busy two-core machine may add to a timeout before the answer is out. */
const MARGIN_MS = 3000

const settings: Partial<AppConfigShape> = {
  timeouts,
  actorPartitions: 4,
  actors: { idleMillis: 5000, mailboxCapacity: 64, maxDeliver: 5, leaseTickMillis: 300, askTimeoutMillis: 3000 },
  rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 10_000, dmThreadsPerUserPerHour: 10_000 }
}

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/** `effect`'s value, failing the test when it has not completed within `deadlineMs`. */
const within = <A, E, R>(what: string, deadlineMs: number, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.timeoutFail({ duration: deadlineMs, onTimeout: () => new Error(`${what}: no answer within ${deadlineMs} ms`) }),
    Effect.orDie
  )

/** The server frozen (SIGSTOP) for the scope; thawed (SIGCONT) when it closes, whatever happened. */
const frozen = (server: ServiceProcess) => Effect.acquireRelease(server.signal("SIGSTOP"), () => server.signal("SIGCONT"))

/**
 * A `/ws` upgrade attempt: 101 when the socket opened (it is closed again), else the refusal's
 * status. Interruptible, unlike the support helper, so a hanging upgrade fails its deadline.
 */
const upgradeStatus = (path: string) =>
  Effect.flatMap(baseUrl, (base) =>
    Effect.async<number, Error>((resume) => {
      const ws = new WebSocket(base.replace("http", "ws") + path)
      ws.once("open", () => {
        ws.close()
        resume(Effect.succeed(101))
      })
      ws.once("unexpected-response", (req, res) => {
        req.destroy()
        resume(Effect.succeed(res.statusCode ?? 0))
      })
      ws.once("error", (e) => resume(Effect.fail(e)))
      return Effect.sync(() => ws.terminate())
    })
  )

const publish = (author: Account) => publishPost(author)

const feed = (viewer: Account) => request("/api/v1/feed", { headers: viewer.bearer })
const ticket = (account: Account) => request("/api/v1/auth/ws-ticket", { method: "POST", headers: account.bearer })
const markRead = (account: Account) =>
  request("/api/v1/notifications/read", { method: "POST", headers: { ...account.bearer, "content-type": "application/json" }, body: "{}" })

/** Polls `check` until it holds (asynchronous consumers after a thaw), failing after `timeoutMs`. */
const eventually = <E, R>(what: string, check: Effect.Effect<boolean, E, R>, timeoutMs = 15_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (!(yield* check)) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`${what}: not within ${timeoutMs} ms`)
      yield* sleep(100)
    }
  })

describe("a stalled dependency costs a request its timeout, never the stall", () => {
  it("Redis errors, timeouts included, are dependency failures (503), not bugs", () => {
    assert.isTrue(isDependencyFailure(new RedisError({ op: "get", cause: new Error("Command timed out") })))
  })

  for (const transport of ["uws", "node"] as const) {
    it.scopedLive(`on ${transport}: Redis, NATS and PostgreSQL`, () =>
      Effect.gen(function*() {
        const redis = yield* privateRedis
        const nats = yield* privateNats
        const app = TestApp({ ...settings, transport, redisUrl: Redacted.make(redis.url), natsUrl: nats.url })
        yield* Effect.gen(function*() {
          const [reader, author] = yield* Effect.all([signup(), signup()])
          assert.strictEqual((yield* request(`/api/v1/users/${author.username}/follow`, { method: "POST", headers: reader.bearer })).status, 200)
          const postId = yield* publish(author)
          yield* eventually("the post in the reader's feed", Effect.map(feed(reader), (r) => r.json?.items?.[0]?.id === postId))
          const issued = yield* ticket(reader)
          assert.strictEqual(issued.status, 200)

          // Redis frozen: the feed falls back, tickets are refused, a ticketed upgrade is refused
          const redisDeadline = timeouts.redisCommandMillis + MARGIN_MS
          yield* Effect.scoped(Effect.gen(function*() {
            yield* frozen(redis)
            const degraded = yield* within("GET /feed with Redis frozen", redisDeadline, feed(reader))
            assert.strictEqual(degraded.status, 200, degraded.text)
            assert.strictEqual(degraded.headers.get("x-aperture-degraded"), "redis")
            assert.deepStrictEqual(degraded.json.items.map((p: { id: string }) => p.id), [postId], "served from PostgreSQL")
            const refusedTicket = yield* within("POST /auth/ws-ticket with Redis frozen", redisDeadline, ticket(reader))
            assert.strictEqual(refusedTicket.status, 503, refusedTicket.text)
            assert.strictEqual(refusedTicket.json.error.code, "ServiceUnavailable")
            const upgrade = yield* within("ticketed /ws upgrade with Redis frozen", redisDeadline, upgradeStatus(`/ws?ticket=${issued.json.ticket}`))
            assert.oneOf(upgrade, [401, 503], "refused")
          }))

          // thawed: Redis again
          yield* eventually("the feed from Redis again", Effect.map(feed(reader), (r) => r.status === 200 && r.headers.get("x-aperture-degraded") === null))
          const fresh = yield* ticket(reader)
          assert.strictEqual(fresh.status, 200, fresh.text)
          assert.strictEqual(yield* upgradeStatus(`/ws?ticket=${fresh.json.ticket}`), 101)

          // NATS frozen: writes commit through the outbox without waiting for it; the one request
          // that waits for a PubAck (the read marker pushed to the user's other tabs) gives up in time
          const natsDeadline = timeouts.natsRequestMillis + MARGIN_MS
          yield* Effect.scoped(Effect.gen(function*() {
            yield* frozen(nats)
            const like = yield* within("POST /posts/:id/like with NATS frozen", MARGIN_MS, request(`/api/v1/posts/${postId}/like`, { method: "POST", headers: reader.bearer }))
            assert.strictEqual(like.status, 200, like.text)
            const read = yield* within("POST /notifications/read with NATS frozen", natsDeadline, markRead(author))
            assert.strictEqual(read.status, 200, read.text)
            const page = yield* within("GET /feed with NATS frozen", MARGIN_MS, feed(reader))
            assert.strictEqual(page.status, 200)
          }))

          // thawed: the like made while NATS was frozen reaches the author's notifications and socket
          const socket = yield* openSocketAs(author)
          yield* socket.next("hello")
          yield* eventually(
            "the like's notification",
            Effect.map(request("/api/v1/notifications", { headers: author.bearer }), (r) => r.json?.items?.some((n: { kind: string }) => n.kind === "like") === true)
          )
          assert.strictEqual((yield* markRead(author)).status, 200)
          assert.strictEqual((yield* socket.next("notifications_read")).payload.unreadCount, 0)

          // PostgreSQL: a statement running past PG_STATEMENT_TIMEOUT_MS is cancelled by the server
          const sql = yield* SqlClient.SqlClient
          const slow = yield* within("SELECT pg_sleep(30)", timeouts.pgStatementMillis + MARGIN_MS, sql`SELECT pg_sleep(30)`.pipe(Effect.flip))
          assert.isTrue(isDependencyFailure(slow), `a statement timeout is a 503: ${slow.message}`)
        }).pipe(Effect.provide(Layer.fresh(app)))
      }), { timeout: 120_000 })
  }
})
