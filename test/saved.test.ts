/**
 * Saved posts: newest save first with a cursor; a post deleted since, or of an account that has
 * blocked the viewer since, is left out; only the viewer sees their list. Muted accounts are listed
 * the same way, so they can be unmuted.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { publishPost, request, signup, TestApp } from "./support/app.ts"

describe("saved posts", () => {
  layer(TestApp({
    rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 100_000, dmThreadsPerUserPerHour: 10_000 }
  }), { timeout: "90 seconds", excludeTestServices: true })((it) => {
    it.scoped("newest first, paged; deleted and blocked-since posts left out; 401 and 400", () =>
      Effect.gen(function*() {
        const viewer = yield* signup()
        const a = yield* signup()
        const b = yield* signup()
        const posts = [yield* publishPost(a, "one"), yield* publishPost(b, "two"), yield* publishPost(a, "three")]
        for (const id of posts) {
          const r = yield* request(`/api/v1/posts/${id}/save`, { method: "POST", headers: viewer.bearer })
          assert.isBelow(r.status, 300, r.text)
          yield* Effect.sleep("5 millis")
        }
        const all = yield* request("/api/v1/users/me/saved", { headers: viewer.bearer })
        assert.strictEqual(all.status, 200, all.text)
        assert.deepStrictEqual(all.json.items.map((p: any) => p.id), [...posts].reverse())
        assert.isTrue(all.json.items.every((p: any) => p.viewer?.isSaved !== false))

        const first = yield* request("/api/v1/users/me/saved?limit=2", { headers: viewer.bearer })
        assert.strictEqual(first.json.items.length, 2)
        assert.isTrue(first.json.hasMore)
        const second = yield* request(`/api/v1/users/me/saved?limit=2&cursor=${first.json.nextCursor}`, { headers: viewer.bearer })
        assert.deepStrictEqual(second.json.items.map((p: any) => p.id), [posts[0]])
        assert.isFalse(second.json.hasMore)

        // b blocks the viewer; a deletes "three"
        assert.isBelow((yield* request(`/api/v1/users/${viewer.username}/block`, { method: "POST", headers: b.bearer })).status, 300)
        assert.isBelow((yield* request(`/api/v1/posts/${posts[2]}`, { method: "DELETE", headers: a.bearer })).status, 300)
        const after = yield* request("/api/v1/users/me/saved", { headers: viewer.bearer })
        assert.deepStrictEqual(after.json.items.map((p: any) => p.id), [posts[0]])

        assert.strictEqual((yield* request("/api/v1/users/me/saved")).status, 401)
        assert.strictEqual((yield* request("/api/v1/users/me/saved?cursor=garbage", { headers: viewer.bearer })).status, 400)
        const theirs = yield* request("/api/v1/users/me/saved", { headers: a.bearer })
        assert.deepStrictEqual(theirs.json.items, [])
      }))

    it.scoped("muted accounts: listed newest first, gone once unmuted", () =>
      Effect.gen(function*() {
        const viewer = yield* signup()
        const x = yield* signup()
        const y = yield* signup()
        for (const u of [x, y]) {
          const r = yield* request(`/api/v1/users/${u.username}/mute`, { method: "POST", headers: viewer.bearer })
          assert.strictEqual(r.status, 204, r.text)
          yield* Effect.sleep("5 millis")
        }
        const list = yield* request("/api/v1/users/me/muted", { headers: viewer.bearer })
        assert.strictEqual(list.status, 200, list.text)
        assert.deepStrictEqual(list.json.items.map((u: any) => u.username), [y.username, x.username])
        assert.strictEqual((yield* request(`/api/v1/users/${y.username}/mute`, { method: "DELETE", headers: viewer.bearer })).status, 204)
        const after = yield* request("/api/v1/users/me/muted", { headers: viewer.bearer })
        assert.deepStrictEqual(after.json.items.map((u: any) => u.username), [x.username])
        assert.strictEqual((yield* request("/api/v1/users/me/muted")).status, 401)
      }))
  })
})
