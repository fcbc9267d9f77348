/**
 * The real-time gateway on both transports: upgrade refusals, hello with the inbox sequence,
 * ordered delivery with stream sequences as ids, resume under concurrent publishing (no gap, no
 * duplicate, order kept), resume past retention, a slow reader closed with 1013 while a fast one
 * keeps up, client frame rate limiting, log-out closing that session's sockets, and the producers
 * (post_ready, feed_new, like, comment, follow, follow_request, notification) with grouping, the
 * unread count, read marking and blocks. Then two server processes: a socket on one node receives
 * an event produced on the other.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import WebSocket from "ws"
import { AppConfig, type AppConfigShape } from "../src/config/AppConfig.ts"
import { Inbox } from "../src/streams/Inbox.ts"
import { type Account, baseUrl, openSocket, openSocketAs, request, signup, TestApp, type TestSocket } from "./support/app.ts"
import { multipart, plainPng } from "./support/images.ts"
import { secondNode } from "./support/servers.ts"

const settings: Partial<AppConfigShape> = {
  celebrityThreshold: 1000,
  actorPartitions: 4,
  actors: { idleMillis: 5000, mailboxCapacity: 64, maxDeliver: 5, leaseTickMillis: 300, askTimeoutMillis: 3000 },
  rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 10_000, dmThreadsPerUserPerHour: 10_000 }
}

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/** Waits until `socket` has at least `n` frames of `type` (without consuming them). */
const framesOf = (socket: TestSocket, type: string, n: number, timeoutMs = 15_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = socket.frames.filter((f) => f.type === type)
      if (found.length >= n || Date.now() > deadline) return found
      yield* sleep(20)
    }
  })

const publishN = (userId: string, from: number, count: number) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    for (let i = from; i < from + count; i++) yield* inbox.publish(userId, "test", { n: i }, crypto.randomUUID())
  })

const json = (account: Account) => ({ ...account.bearer, "content-type": "application/json" })

for (const transport of ["uws", "node"] as const) {
  describe(`gateway on ${transport}`, () => {
    layer(TestApp({ ...settings, transport, limits: { jsonBodyBytes: 65536, uploadBytes: 10 * 1024 * 1024, wsMaxFrameBytes: 16384, wsMaxBufferedBytes: 256 * 1024, wsIdleTimeoutSeconds: 60, urlBytes: 8192, headerBytes: 16384, jsonDepth: 32, headersTimeoutSeconds: 10 } }), {
      timeout: "120 seconds",
      excludeTestServices: true
    })((it) => {
      it.scoped("upgrades without a session, with a reused ticket or a cookie from a foreign origin are refused", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const refused = (e: Error) => (e as { _tag?: string })._tag
          assert.strictEqual(refused(yield* openSocket("/ws").pipe(Effect.flip)), "UpgradeRefused")
          const t = yield* request("/api/v1/auth/ws-ticket", { method: "POST", headers: a.bearer })
          yield* openSocket(`/ws?ticket=${t.json.ticket}`)
          assert.strictEqual(refused(yield* openSocket(`/ws?ticket=${t.json.ticket}`).pipe(Effect.flip)), "UpgradeRefused")
          assert.strictEqual(refused(yield* openSocket("/ws", { cookie: a.cookie, origin: "http://evil.example" }).pipe(Effect.flip)), "UpgradeRefused")
        }))

      it.scoped("hello carries the inbox sequence; frames arrive in order with their sequence as id", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          yield* publishN(a.id, 0, 3)
          const socket = yield* openSocketAs(a)
          const hello = yield* socket.next("hello")
          assert.isAbove(hello.payload.inboxSeq, 0, "the three stored frames are before hello")
          yield* publishN(a.id, 3, 5)
          const got = yield* framesOf(socket, "test", 5)
          assert.deepStrictEqual(got.map((f) => f.payload.n), [3, 4, 5, 6, 7])
          assert.isTrue(got.every((f, i) => i === 0 ? f.id > hello.payload.inboxSeq : f.id > got[i - 1].id))
          assert.isString(got[0].ts)
        }))

      it.scoped("resume under concurrent publishing: every frame once, in order, then live", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const first = yield* openSocketAs(a)
          yield* first.next("hello")
          yield* publishN(a.id, 0, 20)
          const seen = yield* framesOf(first, "test", 20)
          const lastSeen = seen[9]!.id // pretend the client only processed ten before dropping
          first.ws.terminate()
          // publishing goes on while the client reconnects and replays
          const publishing = yield* Effect.fork(publishN(a.id, 20, 150))
          yield* sleep(30)
          const second = yield* openSocketAs(a)
          yield* second.next("hello")
          second.send({ type: "resume", payload: { sinceSeq: lastSeen } })
          yield* publishing.await
          const resumed = yield* second.next("resumed")
          assert.isTrue(resumed.payload.complete)
          const after = yield* framesOf(second, "test", 160)
          const ns = after.map((f) => f.payload.n)
          assert.deepStrictEqual(ns, Array.from({ length: 160 }, (_, i) => i + 10), "no gap, no duplicate, in order")
          assert.isTrue(after.every((f, i) => i === 0 || f.id > after[i - 1].id))
          // and live afterwards
          yield* publishN(a.id, 170, 1)
          assert.strictEqual((yield* framesOf(second, "test", 161)).at(-1)!.payload.n, 170)
        }))

      it.scoped("resume from a sequence no longer retained says so", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const b = yield* signup()
          yield* publishN(b.id, 0, 1)
          const inbox = yield* Inbox
          const foreign = yield* inbox.lastSeq(b.id)
          const socket = yield* openSocketAs(a)
          yield* socket.next("hello")
          socket.send({ type: "resume", payload: { sinceSeq: foreign } })
          const resumed = yield* socket.next("resumed")
          assert.isFalse(resumed.payload.complete, "the client refetches")
        }))

      it.scoped("a slow reader is closed with 1013 while a fast reader keeps up", () =>
        Effect.gen(function*() {
          const slowUser = yield* signup()
          const fastUser = yield* signup()
          const slow = yield* openSocketAs(slowUser)
          const fast = yield* openSocketAs(fastUser)
          yield* slow.next("hello")
          yield* fast.next("hello")
          // the slow client stops reading from its socket
          ;(slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause()
          const big = "x".repeat(60_000)
          const inbox = yield* Inbox
          const started = Date.now()
          // ~38 MB: far past the 256 KB send-buffer limit and the kernel's loopback buffers
          for (let i = 0; i < 640; i++) {
            yield* inbox.publish(slowUser.id, "test", { n: i, big }, crypto.randomUUID())
            if (i % 16 === 0) yield* inbox.publish(fastUser.id, "test", { n: i }, crypto.randomUUID())
          }
          const fastGot = yield* framesOf(fast, "test", 40)
          assert.strictEqual(fastGot.length, 40, "the fast reader got everything")
          assert.isBelow(Date.now() - started, 15_000)
          // the server closed it (it counts each 1013) without waiting for the client to read
          const slowClosed = yield* Effect.gen(function*() {
            for (let i = 0; i < 300; i++) {
              const metrics = yield* request("/metrics")
              if (/^aperture_ws_slow_consumers_total [1-9]/m.test(metrics.text)) return true
              yield* sleep(50)
            }
            return false
          })
          assert.isTrue(slowClosed, "the slow socket was closed by the server")
          // the close frame reaches the client after the megabytes queued before it
          ;(slow.ws as unknown as { _socket: { resume(): void } })._socket.resume()
          const closed = yield* slow.waitClosed(40_000)
          assert.strictEqual(closed.code, 1013)
        }))

      it.scoped("client frames are rate limited; logging out closes that session's sockets only", () =>
        Effect.gen(function*() {
          const a = yield* signup()
          const socket = yield* openSocketAs(a)
          yield* socket.next("hello")
          for (let i = 0; i < 40; i++) socket.send({ type: "ping" })
          const err = yield* socket.next("error")
          assert.strictEqual(err.payload.code, "RateLimited")
          assert.strictEqual((yield* socket.waitClosed()).code, 1008)

          const other = yield* request("/api/v1/auth/login", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ login: a.username, password: "correct horse battery staple" })
          })
          const otherAccount = { ...a, token: other.json.token, bearer: { authorization: `Bearer ${other.json.token}` } }
          const mine = yield* openSocketAs(a)
          const theirs = yield* openSocketAs(otherAccount)
          yield* mine.next("hello")
          yield* theirs.next("hello")
          assert.strictEqual((yield* request("/api/v1/auth/logout", { method: "POST", headers: a.bearer })).status, 204)
          assert.strictEqual((yield* mine.waitClosed()).code, 4401)
          yield* sleep(200)
          assert.isUndefined(theirs.closed, "the other session's socket stays")
        }))

      it.scoped("producers: follow, follow_request, post_ready, feed_new, like, comment and grouped notifications; blocks silence", () =>
        Effect.gen(function*() {
          const [owner, fan, fan2, fan3, priv] = yield* Effect.all([signup(), signup(), signup(), signup(), signup({ isPrivate: true })])
          const ownerSocket = yield* openSocketAs(owner)
          const fanSocket = yield* openSocketAs(fan)
          yield* ownerSocket.next("hello")
          yield* fanSocket.next("hello")

          yield* request(`/api/v1/users/${owner.username}/follow`, { method: "POST", headers: fan.bearer })
          const follow = yield* ownerSocket.next("follow")
          assert.strictEqual(follow.payload.by.username, fan.username)
          const n1 = yield* ownerSocket.next("notification")
          assert.strictEqual(n1.payload.notification.kind, "follow")
          assert.strictEqual(n1.payload.unreadCount, 1)

          yield* request(`/api/v1/users/${priv.username}/follow`, { method: "POST", headers: fan.bearer })
          const privSocket = yield* openSocketAs(priv)
          yield* privSocket.next("hello")
          privSocket.send({ type: "resume", payload: { sinceSeq: 0 } })
          assert.strictEqual((yield* privSocket.next("follow_request")).payload.by.username, fan.username)

          const image = yield* Effect.promise(() => plainPng(40, 40))
          const created = yield* request("/api/v1/posts", { method: "POST", headers: owner.bearer, body: multipart(image, { caption: "hi @" + fan2.username }, "p.png", "image/png") })
          const postId = created.json.postId
          const ready = yield* ownerSocket.next("post_ready")
          assert.strictEqual(ready.payload.postId, postId)
          const feedNew = yield* fanSocket.next("feed_new")
          assert.strictEqual(feedNew.payload.newestPostId, postId)
          assert.isAtLeast(feedNew.payload.count, 1)

          for (const liker of [fan, fan2, fan3]) yield* request(`/api/v1/posts/${postId}/like`, { method: "POST", headers: liker.bearer })
          yield* request(`/api/v1/posts/${postId}/like`, { method: "POST", headers: owner.bearer }) // your own: nothing
          const likes = yield* framesOf(ownerSocket, "like", 3)
          assert.sameMembers(likes.map((f) => f.payload.by.username), [fan.username, fan2.username, fan3.username])
          const grouped = yield* Effect.gen(function*() {
            for (let i = 0; i < 100; i++) {
              const r = yield* request("/api/v1/notifications", { headers: owner.bearer })
              const like = r.json.items.find((n: { kind: string }) => n.kind === "like")
              if (like?.actorCount === 3) return r.json
              yield* sleep(50)
            }
            return yield* Effect.dieMessage("likes never grouped")
          })
          const likeGroup = grouped.items.find((n: { kind: string }) => n.kind === "like")
          assert.strictEqual(likeGroup.actors.length, 3)
          assert.strictEqual(likeGroup.post.id, postId)
          assert.strictEqual(grouped.unreadCount, 2, "follow + the like group")
          assert.strictEqual(grouped.items.length, 2)

          // mention in the caption notified fan2
          const fan2List = yield* request("/api/v1/notifications", { headers: fan2.bearer })
          assert.deepStrictEqual(fan2List.json.items.map((n: { kind: string }) => n.kind), ["mention"])

          yield* request(`/api/v1/posts/${postId}/comments`, { method: "POST", headers: json(fan), body: JSON.stringify({ text: "lovely" }) })
          assert.strictEqual((yield* ownerSocket.next("comment")).payload.text, "lovely")

          // read marking: exact count, pushed to other tabs
          const read = yield* request("/api/v1/notifications/read", { method: "POST", headers: json(owner), body: "{}" })
          assert.deepStrictEqual(read.json, { unreadCount: 0 })
          assert.strictEqual((yield* ownerSocket.next("notifications_read")).payload.unreadCount, 0)
          // an unlike removes its source; after reading, a new like opens a new group
          yield* request(`/api/v1/posts/${postId}/like`, { method: "DELETE", headers: fan3.bearer })
          yield* request(`/api/v1/posts/${postId}/like`, { method: "POST", headers: fan3.bearer })
          const again = yield* Effect.gen(function*() {
            for (let i = 0; i < 100; i++) {
              const r = yield* request("/api/v1/notifications", { headers: owner.bearer })
              if (r.json.unreadCount === 1) return r.json
              yield* sleep(50)
            }
            return yield* Effect.dieMessage("no new group")
          })
          const likeGroups = again.items.filter((n: { kind: string }) => n.kind === "like")
          assert.deepStrictEqual(likeGroups.map((n: { actorCount: number; read: boolean }) => [n.actorCount, n.read]), [[1, false], [2, true]])

          // a block: the blocked person's actions produce nothing for the blocker
          const before = ownerSocket.frames.length
          yield* request(`/api/v1/users/${fan2.username}/block`, { method: "POST", headers: owner.bearer })
          yield* request(`/api/v1/posts/${postId}/comments`, { method: "POST", headers: json(fan2), body: JSON.stringify({ text: "blocked?" }) })
          yield* request(`/api/v1/users/${owner.username}/follow`, { method: "POST", headers: fan2.bearer })
          yield* sleep(800)
          assert.isUndefined(ownerSocket.frames.slice(before).find((f) => f.payload?.by?.id === fan2.id), "no frame from the blocked person")
          const afterBlock = yield* request("/api/v1/notifications", { headers: owner.bearer })
          assert.isFalse(JSON.stringify(afterBlock.json).includes(fan2.id), "and nothing of theirs remains")

          // deleting the post removes its notifications
          yield* request(`/api/v1/posts/${postId}`, { method: "DELETE", headers: owner.bearer })
          const afterDelete = yield* request("/api/v1/notifications", { headers: owner.bearer })
          assert.isTrue(afterDelete.json.items.every((n: { post: unknown }) => n.post === null))

          // bad input
          assert.strictEqual((yield* request("/api/v1/notifications/read", { method: "POST", headers: json(owner), body: JSON.stringify({ ids: ["nope"] }) })).status, 400)
          assert.strictEqual((yield* request("/api/v1/notifications")).status, 401)
        }))
    })
  })
}

describe("gateway across nodes", () => {
  layer(TestApp(settings), { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.scoped("a socket on node A receives an event produced on node B", () =>
      Effect.gen(function*() {
        const config = yield* AppConfig
        const { url: nodeB, port } = yield* secondNode(config)
        const [alice, bob] = yield* Effect.all([signup(), signup()])
        const socket = yield* openSocketAs(alice) // on node A (this process)
        yield* socket.next("hello")
        // bob follows alice through node B
        const r = yield* Effect.promise(() => fetch(`${nodeB}/api/v1/users/${alice.username}/follow`, { method: "POST", headers: bob.bearer }))
        assert.strictEqual(r.status, 200)
        const follow = yield* socket.next("follow")
        assert.strictEqual(follow.payload.by.username, bob.username)

        // and a socket on node B receives what node A produces
        const t = yield* request("/api/v1/auth/ws-ticket", { method: "POST", headers: bob.bearer })
        const onB = yield* Effect.acquireRelease(
          Effect.async<WebSocket>((resume) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?ticket=${t.json.ticket}`)
            ws.once("open", () => resume(Effect.succeed(ws)))
          }),
          (ws) => Effect.sync(() => ws.terminate())
        )
        const frames: Array<any> = []
        onB.on("message", (d) => frames.push(JSON.parse(d.toString())))
        yield* request(`/api/v1/users/${bob.username}/follow`, { method: "POST", headers: alice.bearer })
        for (let i = 0; i < 200 && !frames.some((f) => f.type === "follow"); i++) yield* sleep(50)
        assert.strictEqual(frames.find((f) => f.type === "follow")?.payload.by.username, alice.username)
        assert.isString(yield* baseUrl)
      }))
  })
})
