/**
 * Live counts for everyone viewing a post: a socket's `watch {postIds}` keeps the posts its reader
 * may see (never a private author's to a stranger, never across a block) and is sent `post_counts`
 * when anyone likes, unlikes, comments or deletes a comment — on this node or another. Each burst
 * of changes ends on the counts the database holds (rings carry nothing that could be stale), and
 * bad `watch` frames get readable errors.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import WebSocket from "ws"
import { AppConfig, type AppConfigShape } from "../src/config/AppConfig.ts"
import { MAX_WATCHED_POSTS } from "../src/domain/Ws.ts"
import { type Account, openSocketAs, publishPost, request, signup, TestApp, type TestSocket } from "./support/app.ts"
import { secondNode } from "./support/servers.ts"

const settings: Partial<AppConfigShape> = {
  actorPartitions: 4,
  rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 10_000, dmThreadsPerUserPerHour: 10_000 }
}

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

const json = (account: Account) => ({ ...account.bearer, "content-type": "application/json" })

/** The last `post_counts` of `postId` once it equals `want`, or what it was when the wait ran out. */
const countsReach = (frames: ReadonlyArray<any>, postId: string, want: { likes: number; comments: number }, timeoutMs = 15_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const last = frames.filter((f) => f.type === "post_counts" && f.payload.postId === postId).at(-1)?.payload
      if ((last?.likes === want.likes && last?.comments === want.comments) || Date.now() > deadline) return last
      yield* sleep(20)
    }
  })

const watch = (socket: TestSocket, postIds: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    socket.send({ type: "watch", payload: { postIds } })
    return (yield* socket.next("watching")).payload.posts as Array<{ postId: string; likes: number; comments: number }>
  })

const like = (who: Account, postId: string, method = "POST") => request(`/api/v1/posts/${postId}/like`, { method, headers: who.bearer })

describe("live counts", () => {
  layer(TestApp(settings), { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.scoped("a watcher sees everyone's likes, unlikes, comments and deleted comments; a private post stays hidden from a stranger", () =>
      Effect.gen(function*() {
        const [alice, bob, carol, dana] = yield* Effect.all([signup(), signup(), signup(), signup({ isPrivate: true })], { concurrency: "unbounded" })
        const [post, secret] = yield* Effect.all([publishPost(alice, "watched"), publishPost(dana, "followers only")], { concurrency: 2 })
        const socket = yield* openSocketAs(bob)
        yield* socket.next("hello")

        const watching = yield* watch(socket, [post, secret, crypto.randomUUID()])
        assert.deepStrictEqual(watching, [{ postId: post, likes: 0, comments: 0 }], "only the post bob may see, with its counts now")

        assert.strictEqual((yield* like(carol, post)).status, 200)
        assert.deepStrictEqual(yield* countsReach(socket.frames, post, { likes: 1, comments: 0 }), { postId: post, likes: 1, comments: 0 })
        const c = yield* request(`/api/v1/posts/${post}/comments`, { method: "POST", headers: json(carol), body: JSON.stringify({ text: "nice" }) })
        assert.strictEqual(c.status, 201, c.text)
        assert.deepStrictEqual(yield* countsReach(socket.frames, post, { likes: 1, comments: 1 }), { postId: post, likes: 1, comments: 1 })
        assert.strictEqual((yield* like(carol, post, "DELETE")).status, 200)
        assert.strictEqual((yield* request(`/api/v1/comments/${c.json.id}`, { method: "DELETE", headers: carol.bearer })).status, 204)
        assert.deepStrictEqual(yield* countsReach(socket.frames, post, { likes: 0, comments: 0 }), { postId: post, likes: 0, comments: 0 })

        // the private post's likes never reach bob
        assert.strictEqual((yield* like(dana, secret)).status, 200)
        yield* sleep(500)
        assert.isFalse(socket.frames.some((f) => f.type === "post_counts" && f.payload.postId === secret))

        // watching nothing: no more counts
        assert.deepStrictEqual(yield* watch(socket, []), [])
        const before = socket.frames.length
        yield* like(carol, post)
        yield* sleep(500)
        assert.isFalse(socket.frames.slice(before).some((f) => f.type === "post_counts"))
      }))

    it.scoped("a burst of concurrent likes ends on the database's count; a block stops the counts at once", () =>
      Effect.gen(function*() {
        const alice = yield* signup()
        const likers = yield* Effect.all(Array.from({ length: 12 }, () => signup()), { concurrency: 4 })
        const bob = yield* signup()
        const post = yield* publishPost(alice, "busy")
        const socket = yield* openSocketAs(bob)
        yield* socket.next("hello")
        yield* watch(socket, [post])
        yield* Effect.all(likers.map((l) => like(l, post)), { concurrency: "unbounded" })
        yield* Effect.all(likers.slice(0, 5).map((l) => like(l, post, "DELETE")), { concurrency: "unbounded" })
        const final = (yield* request(`/api/v1/posts/${post}`, { headers: bob.bearer })).json.counts.likes
        assert.strictEqual(final, 7)
        assert.deepStrictEqual(yield* countsReach(socket.frames, post, { likes: 7, comments: 0 }), { postId: post, likes: 7, comments: 0 })

        // alice blocks bob: his watch is asked about again and the post leaves it
        assert.strictEqual((yield* request(`/api/v1/users/${bob.username}/block`, { method: "POST", headers: alice.bearer })).status, 204)
        const rewatched = yield* socket.next("watching")
        assert.deepStrictEqual(rewatched.payload.posts, [])
        const before = socket.frames.length
        yield* like(likers[0]!, post)
        yield* sleep(500)
        assert.isFalse(socket.frames.slice(before).some((f) => f.type === "post_counts"), "no counts across a block")
      }))

    it.scoped("bad watch frames: too many posts, not ids, no list — an error each, the socket stays", () =>
      Effect.gen(function*() {
        const bob = yield* signup()
        const socket = yield* openSocketAs(bob)
        yield* socket.next("hello")
        socket.send({ type: "watch", payload: { postIds: Array.from({ length: MAX_WATCHED_POSTS + 1 }, () => crypto.randomUUID()) } })
        assert.strictEqual((yield* socket.next("error")).payload.code, "BadFrame")
        socket.send({ type: "watch", payload: { postIds: ["../../etc/passwd"] } })
        assert.strictEqual((yield* socket.next("error")).payload.code, "BadFrame")
        socket.send({ type: "watch", payload: {} })
        assert.strictEqual((yield* socket.next("error")).payload.code, "BadFrame")
        assert.deepStrictEqual(yield* watch(socket, []), [])
        assert.isUndefined(socket.closed)
      }))

    it.scoped("a like on another node reaches a watcher on this one", () =>
      Effect.gen(function*() {
        const config = yield* AppConfig
        const { url: nodeB } = yield* secondNode(config)
        const [alice, bob, carol] = yield* Effect.all([signup(), signup(), signup()])
        const post = yield* publishPost(alice, "two nodes")
        const socket = yield* openSocketAs(bob)
        yield* socket.next("hello")
        yield* watch(socket, [post])
        const r = yield* Effect.promise(() => fetch(`${nodeB}/api/v1/posts/${post}/like`, { method: "POST", headers: carol.bearer }))
        assert.strictEqual(r.status, 200)
        assert.deepStrictEqual(yield* countsReach(socket.frames, post, { likes: 1, comments: 0 }), { postId: post, likes: 1, comments: 0 })
        assert.isDefined(WebSocket)
      }))
  })
})
