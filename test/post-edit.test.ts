/**
 * Editing a post's words: the author changes the caption and alt text; the post, a follower's home
 * feed (whose card cache held the old words) and the hashtag rows follow at once; anyone else gets
 * a 404 and changes nothing; bad input is a 400 and changes nothing.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { publishPost, request, signup, TestApp } from "./support/app.ts"
import { until } from "./support/harness.ts"

describe("editing a post", () => {
  layer(TestApp({
    rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 100_000, dmThreadsPerUserPerHour: 10_000 }
  }), { timeout: "90 seconds", excludeTestServices: true })((it) => {
    it.scoped("the caption and alt text change everywhere; others and bad input change nothing", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const author = yield* signup()
        const follower = yield* signup()
        const stranger = yield* signup()
        assert.strictEqual((yield* request(`/api/v1/users/${author.username}/follow`, { method: "POST", headers: follower.bearer })).status, 200)
        const postId = yield* publishPost(author, "first words #before")
        // the follower's feed shows it (and caches its card)
        yield* until(request("/api/v1/feed", { headers: follower.bearer }), (r) => r.json?.items?.some((p: any) => p.id === postId), 15_000)
        const edit = (who: typeof author | undefined, body: unknown) =>
          request(`/api/v1/posts/${postId}`, {
            method: "PATCH",
            headers: { ...(who?.bearer ?? {}), "content-type": "application/json" },
            body: JSON.stringify(body)
          })

        assert.strictEqual((yield* edit(undefined, { caption: "x" })).status, 401)
        assert.strictEqual((yield* edit(stranger, { caption: "hijacked" })).status, 404)
        assert.strictEqual((yield* edit(author, { caption: "x".repeat(2201) })).status, 400)
        assert.strictEqual((yield* edit(author, { caption: 42 })).status, 400)
        const unchanged = yield* request(`/api/v1/posts/${postId}`, { headers: author.bearer })
        assert.strictEqual(unchanged.json.caption, "first words #before")

        const r = yield* edit(author, { caption: "better words #after @" + follower.username, altText: "a pier at sunset" })
        assert.strictEqual(r.status, 200, r.text)
        assert.strictEqual(r.json.caption, `better words #after @${follower.username}`)
        assert.strictEqual(r.json.altText, "a pier at sunset")
        const tags = yield* sql<{ tag: string }>`SELECT tag FROM hashtags WHERE post_id = ${postId}`
        assert.deepStrictEqual(tags.map((t) => t.tag), ["after"])
        const mentioned = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM mentions WHERE post_id = ${postId}`
        assert.strictEqual(mentioned[0]!.n, 1)

        const feed = yield* request("/api/v1/feed", { headers: follower.bearer })
        const card = feed.json.items.find((p: any) => p.id === postId)
        assert.strictEqual(card.caption, `better words #after @${follower.username}`)
        assert.strictEqual(card.altText, "a pier at sunset")

        // only the alt text: the caption stays
        const alt = yield* edit(author, { altText: "the pier, later" })
        assert.strictEqual(alt.json.caption, `better words #after @${follower.username}`)
        assert.strictEqual(alt.json.altText, "the pier, later")
        assert.strictEqual((yield* edit(stranger, {})).status, 404)
      }))
  })
})
