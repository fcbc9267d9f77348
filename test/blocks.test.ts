/**
 * Blocks are whole. On both transports, and from one node to another: after A blocks B (and A's
 * open socket holds back what B causes) and then unblocks B, B's follow of A reaches A's
 * already-open socket — no reconnect. And a block hides B's comments on A's posts from everyone
 * (a third viewer, anonymous visitors), with the posts' comment counts matching the lists; an
 * unblock shows them again, and a hidden comment deleted meanwhile stays out of both. The mentions
 * made in hidden comments leave the mentioned people's notifications (removed, not restored).
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import WebSocket from "ws"
import { AppConfig, type AppConfigShape } from "../src/config/AppConfig.ts"
import { Inbox } from "../src/streams/Inbox.ts"
import { type Account, openSocketAs, publishPost, request, signup, TestApp, TestSocket } from "./support/app.ts"
import { secondNode } from "./support/servers.ts"

const settings: Partial<AppConfigShape> = {
  celebrityThreshold: 1000,
  actorPartitions: 4,
  rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 10_000, dmThreadsPerUserPerHour: 10_000 }
}

const json = (account: Account) => ({ ...account.bearer, "content-type": "application/json" })

/**
 * Waits until `socket` (A's) holds back frames caused by `blocked`: a frame naming them and a marker
 * after it are stored in A's inbox; once the marker arrives without the first, the block is in force.
 */
const heldBack = (socket: TestSocket, owner: Account, blocked: Account) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    for (let i = 0; i < 100; i++) {
      const marker = crypto.randomUUID()
      yield* inbox.publish(owner.id, "like", { postId: marker, likes: 1, by: { id: blocked.id, username: blocked.username } }, crypto.randomUUID())
      yield* inbox.publish(owner.id, "test", { marker }, crypto.randomUUID())
      for (;;) {
        const m = yield* socket.next("test")
        if (m.payload.marker === marker) break
      }
      const leaked = socket.frames.findIndex((f) => f.type === "like" && f.payload.postId === marker)
      if (leaked < 0) return
      socket.frames.splice(leaked, 1)
    }
    return yield* Effect.dieMessage("the block never reached the socket")
  })

const follow = (who: Account, whom: Account) =>
  Effect.map(request(`/api/v1/users/${whom.username}/follow`, { method: "POST", headers: who.bearer }), (r) => {
    assert.strictEqual(r.status, 200)
  })

const setBlock = (method: "POST" | "DELETE", who: Account, whom: Account) =>
  Effect.map(request(`/api/v1/users/${whom.username}/block`, { method, headers: who.bearer }), (r) => {
    assert.isBelow(r.status, 300, r.text)
  })

/** A blocks B and unblocks; then B's follow must reach A's socket, open since before the block. */
const blockUnblockThenFollow = (socket: TestSocket, a: Account, b: Account) =>
  Effect.gen(function*() {
    yield* socket.next("hello")
    socket.send({ type: "ping" })
    yield* socket.next("pong")
    yield* setBlock("POST", a, b)
    yield* heldBack(socket, a, b)
    yield* setBlock("DELETE", a, b)
    yield* follow(b, a)
    assert.strictEqual((yield* socket.next("follow")).payload.by.id, b.id)
  })

for (const transport of ["uws", "node"] as const) {
  describe(`blocks on ${transport}`, () => {
    layer(TestApp({ ...settings, transport }), { timeout: "120 seconds", excludeTestServices: true })((it) => {
      it.scoped("after block and unblock, the other's follow reaches the blocker's open socket", () =>
        Effect.gen(function*() {
          const [a, b] = yield* Effect.all([signup(), signup()])
          const socket = yield* openSocketAs(a)
          yield* blockUnblockThenFollow(socket, a, b)
          assert.isUndefined(socket.closed, "the same socket, never reconnected")
        }))

      it.scoped("a block hides the blocked person's comments on the blocker's posts from everyone, counts included", () =>
        Effect.gen(function*() {
          const [a, b, c] = yield* Effect.all([signup(), signup(), signup()])
          const postId = yield* publishPost(a, "a post")
          const comment = (who: Account, text: string) =>
            Effect.map(request(`/api/v1/posts/${postId}/comments`, { method: "POST", headers: json(who), body: JSON.stringify({ text }) }), (r) => {
              assert.strictEqual(r.status, 201, r.text)
              return r.json.id as string
            })
          const bFirst = yield* comment(b, "from b")
          const again = `b again @${c.username}`
          yield* comment(b, again)
          yield* comment(c, "from c")
          const mentionsOfC = Effect.map(request("/api/v1/notifications", { headers: c.bearer }), (r) =>
            r.json.items.filter((n: { kind: string }) => n.kind === "mention").length as number)
          const until = <A, R>(what: string, get: Effect.Effect<A, never, R>, ok: (a: A) => boolean) =>
            Effect.gen(function*() {
              for (let i = 0; i < 200; i++) {
                if (ok(yield* get)) return
                yield* Effect.sleep("50 millis")
              }
              return yield* Effect.dieMessage(`never: ${what}`)
            })
          yield* until("C is notified of the mention", mentionsOfC, (n) => n === 1)
          const seen = (viewer: Account | undefined) =>
            Effect.gen(function*() {
              const headers = viewer?.bearer ?? {}
              const list = yield* request(`/api/v1/posts/${postId}/comments`, { headers })
              const post = yield* request(`/api/v1/posts/${postId}`, { headers })
              assert.strictEqual(list.status, 200)
              assert.strictEqual(post.status, 200)
              return { texts: list.json.items.map((i: { text: string }) => i.text), count: post.json.counts.comments }
            })
          assert.deepStrictEqual(yield* seen(c), { texts: ["from b", again, "from c"], count: 3 })

          yield* setBlock("POST", a, b)
          for (const viewer of [c, undefined, a]) assert.deepStrictEqual(yield* seen(viewer), { texts: ["from c"], count: 1 })
          // the mention in B's hidden comment leaves C's notifications (the block's consumer removes it)
          yield* until("the hidden comment's mention is gone", mentionsOfC, (n) => n === 0)
          const feed = yield* request("/api/v1/users/" + a.username + "/posts", { headers: c.bearer })
          assert.strictEqual(feed.json.items.find((p: { id: string }) => p.id === postId)?.counts.comments, 1, "the grid's count too")

          // B deletes a hidden comment: it stays out of the count, now and after the unblock
          assert.strictEqual((yield* request(`/api/v1/comments/${bFirst}`, { method: "DELETE", headers: b.bearer })).status, 204)
          assert.deepStrictEqual(yield* seen(c), { texts: ["from c"], count: 1 })

          yield* setBlock("DELETE", a, b)
          for (const viewer of [c, undefined]) assert.deepStrictEqual(yield* seen(viewer), { texts: [again, "from c"], count: 2 })
          yield* comment(b, "b after")
          assert.deepStrictEqual(yield* seen(c), { texts: [again, "from c", "b after"], count: 3 })
        }))

      it.scoped("comments racing blocks and unblocks: the count always equals the list everyone sees", () =>
        Effect.gen(function*() {
          const [a, b, c] = yield* Effect.all([signup(), signup(), signup()])
          const postId = yield* publishPost(a, "raced")
          const comments = Array.from({ length: 30 }, (_, i) =>
            request(`/api/v1/posts/${postId}/comments`, { method: "POST", headers: json(b), body: JSON.stringify({ text: `b${i}` }) }))
          const toggles = Array.from({ length: 6 }, (_, i) => setBlock(i % 2 === 0 ? "POST" : "DELETE", a, b))
          const check = Effect.gen(function*() {
            const list = yield* request(`/api/v1/posts/${postId}/comments?limit=50`, { headers: c.bearer })
            const post = yield* request(`/api/v1/posts/${postId}`, { headers: c.bearer })
            assert.strictEqual(post.json.counts.comments, list.json.items.length)
            return list.json.items.length as number
          })
          yield* Effect.all([...comments, ...toggles.map((t) => Effect.asVoid(t))], { concurrency: 12, discard: true })
          yield* setBlock("POST", a, b)
          assert.strictEqual(yield* check, 0, "blocked: none of B's comments shows")
          yield* setBlock("DELETE", a, b)
          const shown = yield* check
          const stored = yield* request(`/api/v1/posts/${postId}/comments?limit=50`, { headers: b.bearer })
          assert.strictEqual(shown, stored.json.items.length)
        }))
    })
  })
}

describe("blocks across nodes", () => {
  layer(TestApp(settings), { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.scoped("an unblock on node A reaches the blocker's socket on node B at once", () =>
      Effect.gen(function*() {
        const config = yield* AppConfig
        const { url: nodeB, port } = yield* secondNode(config)
        const [a, b] = yield* Effect.all([signup(), signup()])
        // A's socket is on node B; everything else goes through node A (this process)
        const t = yield* request("/api/v1/auth/ws-ticket", { method: "POST", headers: a.bearer })
        const socket = yield* Effect.acquireRelease(
          Effect.async<TestSocket, Error>((resume) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?ticket=${t.json.ticket}`)
            const s = new TestSocket(ws)
            ws.once("open", () => resume(Effect.succeed(s)))
            ws.once("error", (e) => resume(Effect.fail(e)))
          }),
          (s) => Effect.sync(() => s.ws.terminate())
        )
        yield* blockUnblockThenFollow(socket, a, b)
      }))
  })
})
