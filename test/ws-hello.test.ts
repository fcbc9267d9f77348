/**
 * Reproductions of the gateway's two flaky symptoms, each repeated 20 times on both transports:
 *
 * - 50 sockets opened at once (ten people, five tabs each) every one gets `hello`, and then a
 *   frame published to each person reaches every one of their tabs — while the previous round's
 *   sockets are still being closed on the server;
 * - a follow then a post reaches the follower's open socket as `feed_new`, every time — also
 *   when the post comes within a second of the previous `feed_new` (the frame's rate limit).
 *
 * No sleeps race with the server: every wait is on a frame (the helpers' own time limits).
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { AppConfigShape } from "../src/config/AppConfig.ts"
import { Inbox } from "../src/streams/Inbox.ts"
import { openSocketAs, publishPost, request, signup, TestApp, type TestSocket } from "./support/app.ts"

const settings: Partial<AppConfigShape> = {
  celebrityThreshold: 1000,
  actorPartitions: 4,
  actors: { idleMillis: 5000, mailboxCapacity: 64, maxDeliver: 5, leaseTickMillis: 300, askTimeoutMillis: 3000 },
  rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 10_000, dmThreadsPerUserPerHour: 10_000 }
}

const ROUNDS = 20
const PEOPLE = 10
const TABS = 5

/** Waits (up to the helpers' 15 s) until `socket` has a frame of `type` whose payload satisfies `test`. */
const frameWhere = (socket: TestSocket, type: string, test: (payload: any) => boolean) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 15_000
    for (;;) {
      const found = socket.frames.find((f) => f.type === type && test(f.payload))
      if (found !== undefined) return found
      if (Date.now() > deadline) return yield* Effect.fail(new Error(`no matching ${type} frame within 15000 ms`))
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 20)))
    }
  })

for (const transport of ["uws", "node"] as const) {
  describe(`sockets on ${transport}`, () => {
    layer(TestApp({ ...settings, transport }), { timeout: "300 seconds", excludeTestServices: true })((it) => {
      it.scoped(`${PEOPLE * TABS} sockets opened at once all get hello, and live frames, ${ROUNDS} times`, () =>
        Effect.gen(function*() {
          const inbox = yield* Inbox
          const people = yield* Effect.all(Array.from({ length: PEOPLE }, () => signup()), { concurrency: 5 })
          for (let round = 0; round < ROUNDS; round++) {
            yield* Effect.scoped(Effect.gen(function*() {
              const owners = people.flatMap((p) => Array.from({ length: TABS }, () => p))
              // every upgrade, subscription and hello at once
              const sockets = yield* Effect.all(owners.map((p) => openSocketAs(p, "ticket")), { concurrency: "unbounded" })
              const hellos = yield* Effect.all(sockets.map((s) => s.next("hello")), { concurrency: "unbounded" })
              assert.strictEqual(hellos.length, PEOPLE * TABS, `round ${round}`)
              // every tab is followed live: one frame to each person reaches all of their tabs
              yield* Effect.forEach(people, (p) => inbox.publish(p.id, "test", { round }, crypto.randomUUID()), { concurrency: "unbounded" })
              yield* Effect.forEach(sockets, (s) => frameWhere(s, "test", (payload) => payload.round === round), { concurrency: "unbounded" })
            }))
            // the sockets are terminated here; the next round opens while the server closes these
          }
        }))

      it.scoped(`a follow then a post reaches the follower as feed_new, ${ROUNDS} times`, () =>
        Effect.gen(function*() {
          // one follower, a new author each round, rounds faster than feed_new's one-per-second limit:
          // a post inside the follower's second must still be announced (it was dropped)
          const follower = yield* signup()
          const socket = yield* openSocketAs(follower, "ticket")
          yield* socket.next("hello")
          for (let round = 0; round < ROUNDS; round++) {
            const author = yield* signup()
            const followed = yield* request(`/api/v1/users/${author.username}/follow`, { method: "POST", headers: follower.bearer })
            assert.strictEqual(followed.status, 200)
            const postId = yield* publishPost(author)
            const feedNew = yield* frameWhere(socket, "feed_new", (payload) => payload.newestPostId === postId)
            assert.isAtLeast(feedNew.payload.count, 1, `round ${round}`)
          }
          // every post announced exactly once: the counts add up
          const total = socket.frames.filter((f) => f.type === "feed_new").reduce((sum, f) => sum + f.payload.count, 0)
          assert.strictEqual(total, ROUNDS)
        }))
    })
  })
}
