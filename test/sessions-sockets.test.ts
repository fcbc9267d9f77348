/**
 * Sessions end everywhere, on both transports: a ws-ticket is bound to the session that minted it
 * and refused once that session is gone (logged out, or deleted in the store behind the server's
 * back); an open socket whose session disappears from the store without any log-out signal is
 * closed with 4401 by the periodic recheck (1 s here), while other sessions' sockets stay; and the
 * per-user and per-address socket caps close the socket over them with 4429 — counted across two
 * nodes, and freed on one node for the other.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import WebSocket from "ws"
import { AppConfig, type AppConfigShape } from "../src/config/AppConfig.ts"
import { type Account, openSocket, openSocketAs, request, signup, TestApp, TestSocket } from "./support/app.ts"
import { secondNode } from "./support/servers.ts"

const settings: Partial<AppConfigShape> = {
  trustProxy: true,
  sockets: { sessionRecheckSeconds: 1, maxPerUser: 2, maxPerAddress: 3 },
  rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 10_000, dmThreadsPerUserPerHour: 10_000 }
}

const refusedStatus = (e: Error) => {
  const refused = e as unknown as { readonly _tag?: string; readonly status?: number }
  return refused._tag === "UpgradeRefused" ? refused.status : -1
}

const ticketOf = (account: Account) =>
  Effect.map(request("/api/v1/auth/ws-ticket", { method: "POST", headers: account.bearer }), (r) => {
    assert.strictEqual(r.status, 200)
    return r.json.ticket as string
  })

/** A socket opened with a fresh ticket, as if from `address`. */
const openFrom = (account: Account, address: string) =>
  Effect.flatMap(ticketOf(account), (ticket) => openSocket(`/ws?ticket=${ticket}`, { "x-forwarded-for": address }))

for (const transport of ["uws", "node"] as const) {
  describe(`sessions and sockets on ${transport}`, () => {
    layer(TestApp({ ...settings, transport }), { timeout: "120 seconds", excludeTestServices: true })((it) => {
      it.scoped("a ticket minted before log-out, or before its session was deleted in the store, is refused", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const ticket = yield* ticketOf(a)
          assert.strictEqual((yield* request("/api/v1/auth/logout", { method: "POST", headers: a.bearer })).status, 204)
          assert.strictEqual(refusedStatus(yield* openSocket(`/ws?ticket=${ticket}`).pipe(Effect.flip)), 401)

          const b = yield* signup()
          const early = yield* ticketOf(b)
          const sql = yield* SqlClient.SqlClient
          yield* sql`DELETE FROM sessions WHERE user_id = ${b.id}`
          assert.strictEqual(refusedStatus(yield* openSocket(`/ws?ticket=${early}`).pipe(Effect.flip)), 401)

          // a ticket of a session that stands still opens a socket
          const c = yield* signup()
          const socket = yield* openSocketAs(c)
          assert.strictEqual((yield* socket.next("hello")).payload.userId, c.id)
        }))

      it.scoped("a socket whose session is deleted in the store (no log-out signal) closes with 4401; others stay", () =>
        Effect.gen(function*() {
          const [a, b] = yield* Effect.all([signup(), signup()])
          const gone = yield* openSocketAs(a)
          const stays = yield* openSocketAs(b)
          yield* gone.next("hello")
          yield* stays.next("hello")
          const sql = yield* SqlClient.SqlClient
          yield* sql`DELETE FROM sessions WHERE user_id = ${a.id}`
          const closed = yield* gone.waitClosed()
          assert.strictEqual(closed.code, 4401)
          assert.strictEqual(closed.reason, "session ended")
          // the sweep that closed it asked about both sessions: the live one's socket is open
          assert.isUndefined(stays.closed)
          stays.send({ type: "ping" })
          yield* stays.next("pong")
        }))

      it.scoped("an expired session's socket closes with 4401 too", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const socket = yield* openSocketAs(a)
          yield* socket.next("hello")
          const sql = yield* SqlClient.SqlClient
          yield* sql`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = ${a.id}`
          assert.strictEqual((yield* socket.waitClosed()).code, 4401)
        }))

      it.scoped("per-user and per-address caps close the socket over them with 4429", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const first = yield* openFrom(a, "203.0.113.1")
          const second = yield* openFrom(a, "203.0.113.2")
          yield* first.next("hello")
          yield* second.next("hello")
          const third = yield* openFrom(a, "203.0.113.3")
          const refused = yield* third.waitClosed()
          assert.strictEqual(refused.code, 4429)
          assert.match(refused.reason, /per user/)
          assert.isUndefined(third.frames.find((f) => f.type === "hello"), "no hello on a refused socket")
          // a closed socket frees its place
          first.ws.close()
          yield* first.waitClosed()
          // (the server may not have seen the close yet: try until it has)
          const again = yield* Effect.gen(function*() {
            for (let i = 0; i < 50; i++) {
              const s = yield* openFrom(a, "203.0.113.4")
              const got = yield* Effect.raceFirst(
                Effect.map(s.next("hello"), () => true),
                Effect.map(s.waitClosed(), () => false)
              )
              if (got) return s
            }
            return yield* Effect.dieMessage("the closed socket's place was never freed")
          })
          assert.isUndefined(again.closed)

          const shared = "198.51.100.7"
          const people = yield* Effect.all([signup(), signup(), signup(), signup()])
          for (const p of people.slice(0, 3)) yield* (yield* openFrom(p, shared)).next("hello")
          const over = yield* openFrom(people[3]!, shared)
          const closed = yield* over.waitClosed()
          assert.strictEqual(closed.code, 4429)
          assert.match(closed.reason, /per address/)
          // the same person from another address is fine
          yield* (yield* openFrom(people[3]!, "198.51.100.8")).next("hello")
        }))
    })
  })
}

describe("socket caps across nodes", () => {
  layer(TestApp(settings), { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.scoped("the per-user cap counts the sockets of both nodes", () =>
      Effect.gen(function*() {
        const config = yield* AppConfig
        const { url: nodeB, port } = yield* secondNode(config, { WS_MAX_SOCKETS_PER_USER: String(config.sockets.maxPerUser) })
        const onB = (account: Account) =>
          Effect.flatMap(ticketOf(account), (ticket) =>
            Effect.acquireRelease(
              Effect.async<TestSocket, Error>((resume) => {
                const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?ticket=${ticket}`)
                const s = new TestSocket(ws)
                ws.once("open", () => resume(Effect.succeed(s)))
                ws.once("error", (e) => resume(Effect.fail(e)))
              }),
              (s) => Effect.sync(() => s.ws.terminate())
            ))
        const a = yield* signup()
        const here = yield* openSocketAs(a)
        yield* here.next("hello")
        yield* (yield* onB(a)).next("hello")
        const over = yield* onB(a)
        assert.strictEqual((yield* over.waitClosed()).code, 4429, "node B counts node A's socket")
        // a place given up on node A is free on node B
        here.ws.close()
        yield* here.waitClosed()
        for (let i = 0; ; i++) {
          const s = yield* onB(a)
          const got = yield* Effect.raceFirst(Effect.map(s.next("hello"), () => true), Effect.map(s.waitClosed(), () => false))
          if (got) break
          if (i >= 50) return yield* Effect.dieMessage("node A's place was never given up")
        }
      }))
  })
})
