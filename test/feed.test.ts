/**
 * The home feed end to end through the API, on the whole application (media worker, actors,
 * fan-out): small and celebrity authors and mixed follow lists, cursor stability while posts
 * arrive, follow backfill, unfollow and block purge, private approval, a flushed Redis rebuilt,
 * Redis down (degraded, from PostgreSQL), and engagement: likes (100 concurrent → 1), saves,
 * comments with their limits and permissions.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import type { AppConfigShape } from "../src/config/AppConfig.ts"
import { Redis } from "../src/redis/Redis.ts"
import { type Account, publishPost, request, signup, TestApp } from "./support/app.ts"
import { purgeRedisPrefix } from "./support/harness.ts"
import { privateRedis } from "./support/servers.ts"
import { AppConfig } from "../src/config/AppConfig.ts"

const settings: Partial<AppConfigShape> = {
  celebrityThreshold: 3,
  actorPartitions: 4,
  actors: { idleMillis: 2000, mailboxCapacity: 64, maxDeliver: 5, leaseTickMillis: 300, askTimeoutMillis: 3000 },
  rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 10_000, dmThreadsPerUserPerHour: 10_000 }
}

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

const publish = (author: Account, caption = "") => publishPost(author, caption, 200)

const feed = (viewer: Account, query = "") => request(`/api/v1/feed${query}`, { headers: viewer.bearer })
const feedIds = (viewer: Account, query = "") => Effect.map(feed(viewer, query), (r) => (r.json.items as Array<{ id: string }>).map((p) => p.id))

/** Polls the feed until `done` holds (fan-out and actors are asynchronous). */
const feedUntil = (viewer: Account, done: (ids: Array<string>) => boolean, timeoutMs = 10_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const ids = yield* feedIds(viewer, "?limit=50")
      if (done(ids) || Date.now() > deadline) return ids
      yield* sleep(50)
    }
  })

const follow = (a: Account, b: Account) => request(`/api/v1/users/${b.username}/follow`, { method: "POST", headers: a.bearer })
const unfollow = (a: Account, b: Account) => request(`/api/v1/users/${b.username}/follow`, { method: "DELETE", headers: a.bearer })

describe("home feed", () => {
  layer(TestApp(settings), { timeout: "180 seconds", excludeTestServices: true })((it) => {
    it.effect("small authors are pushed, a celebrity is merged at read time, own posts included, newest first", () =>
      Effect.gen(function*() {
        const [alice, bob, carol, dan, celeb] = yield* Effect.all([signup(), signup(), signup(), signup(), signup()])
        for (const fan of [alice, bob, carol]) assert.strictEqual((yield* follow(fan, celeb)).status, 200)
        assert.strictEqual((yield* follow(alice, bob)).status, 200)
        assert.strictEqual((yield* follow(dan, bob)).status, 200)

        const b1 = yield* publish(bob, "from bob")
        const c1 = yield* publish(celeb, "from the celebrity")
        const a1 = yield* publish(alice, "my own")
        const ids = yield* feedUntil(alice, (ids) => ids.length === 3)
        assert.deepStrictEqual(ids, [a1, c1, b1])
        // dan follows bob only: no celebrity post, no alice post
        assert.deepStrictEqual(yield* feedUntil(dan, (ids) => ids.length === 1), [b1])

        // the push went to Redis timelines; the celebrity's post to its outbox only
        const redis = yield* Redis
        const timeline = yield* Effect.promise(() => redis.client.zrange(`tl:${alice.id}`, 0, -1))
        assert.include(timeline, b1)
        assert.notInclude(timeline, c1)
        assert.include(yield* Effect.promise(() => redis.client.zrange(`ob:${celeb.id}`, 0, -1)), c1)

        // cards carry counts and viewer flags
        const page = yield* feed(alice)
        const card = page.json.items.find((p: { id: string }) => p.id === b1)
        assert.deepStrictEqual(card.viewer, { isLiked: false, isSaved: false })
        assert.strictEqual(card.author.username, bob.username)
        assert.isNotNull(card.variants)
        assert.isNull(page.headers.get("x-aperture-degraded"))

        // anonymous and bad input
        assert.strictEqual((yield* request("/api/v1/feed")).status, 401)
        assert.strictEqual((yield* feed(alice, "?limit=0")).status, 400)
        assert.strictEqual((yield* feed(alice, "?limit=51")).status, 400)
        assert.strictEqual((yield* feed(alice, "?cursor=bm9wZQ")).status, 400)
      }))

    it.effect("the cursor is stable while new posts arrive: no duplicates, no gaps", () =>
      Effect.gen(function*() {
        const [reader, author] = yield* Effect.all([signup(), signup()])
        yield* follow(reader, author)
        const posted: Array<string> = []
        for (let i = 0; i < 7; i++) posted.push(yield* publish(author, `post ${i}`))
        const expected = [...posted].reverse()
        yield* feedUntil(reader, (ids) => ids.length === 7)

        const seen: Array<string> = []
        let cursor: string | null = null
        let round = 0
        do {
          const r: { status: number; json: any } = yield* feed(reader, `?limit=3${cursor ? `&cursor=${cursor}` : ""}`)
          assert.strictEqual(r.status, 200)
          seen.push(...r.json.items.map((p: { id: string }) => p.id))
          cursor = r.json.nextCursor
          // new posts land on top while the reader pages down
          if (round++ === 0) yield* publish(author, "late")
        } while (cursor !== null)
        assert.deepStrictEqual(seen, expected)
      }))

    it.effect("follow backfills, unfollow and block purge, a private author reaches approved followers only", () =>
      Effect.gen(function*() {
        const [erin, dave, frank, gina] = yield* Effect.all([signup(), signup(), signup({ isPrivate: true }), signup()])
        const d1 = yield* publish(dave, "older")
        const d2 = yield* publish(dave, "newer")
        yield* follow(erin, dave)
        assert.deepStrictEqual(yield* feedUntil(erin, (ids) => ids.length === 2), [d2, d1], "backfilled on follow")
        yield* unfollow(erin, dave)
        assert.deepStrictEqual(yield* feedUntil(erin, (ids) => ids.length === 0), [], "purged on unfollow")
        const redis = yield* Redis
        yield* Effect.promise(async () => {
          for (let i = 0; i < 100 && (await redis.client.zscore(`tl:${erin.id}`, d1)) !== null; i++) await new Promise((r) => setTimeout(r, 50))
        })
        assert.isNull(yield* Effect.promise(() => redis.client.zscore(`tl:${erin.id}`, d1)), "removed from the Redis timeline too")

        // block: both ways, at once
        yield* follow(erin, dave)
        yield* feedUntil(erin, (ids) => ids.length === 2)
        assert.strictEqual((yield* request(`/api/v1/users/${erin.username}/block`, { method: "POST", headers: dave.bearer })).status, 204)
        assert.deepStrictEqual(yield* feedIds(erin, "?limit=50"), [], "a block hides the posts immediately")

        // private: a request reaches nothing; approval backfills
        const f1 = yield* publish(frank, "private")
        assert.strictEqual((yield* follow(gina, frank)).json.status, "requested")
        yield* sleep(300)
        assert.deepStrictEqual(yield* feedIds(gina, "?limit=50"), [])
        const requests = yield* request("/api/v1/follow-requests", { headers: frank.bearer })
        const approve = yield* request(`/api/v1/follow-requests/${requests.json.items[0].id}/approve`, { method: "POST", headers: frank.bearer })
        assert.strictEqual(approve.status, 204)
        assert.deepStrictEqual(yield* feedUntil(gina, (ids) => ids.length === 1), [f1])
        const f2 = yield* publish(frank, "private, later")
        assert.deepStrictEqual(yield* feedUntil(gina, (ids) => ids.length === 2), [f2, f1], "then pushed like any author")
      }))

    it.effect("a deleted post leaves every feed; a flushed Redis gives the same feed, rebuilt", () =>
      Effect.gen(function*() {
        const [hank, ivy, star, x, y] = yield* Effect.all([signup(), signup(), signup(), signup(), signup()])
        for (const fan of [hank, x, y]) yield* follow(fan, star)
        yield* follow(hank, ivy)
        const i1 = yield* publish(ivy, "one")
        const s1 = yield* publish(star, "celebrity one")
        const i2 = yield* publish(ivy, "two")
        const gone = yield* publish(ivy, "to delete")
        yield* feedUntil(hank, (ids) => ids.length === 4)
        assert.strictEqual((yield* request(`/api/v1/posts/${gone}`, { method: "DELETE", headers: ivy.bearer })).status, 204)
        const before = yield* feedUntil(hank, (ids) => !ids.includes(gone))
        assert.deepStrictEqual(before, [i2, s1, i1])

        const config = yield* AppConfig
        yield* purgeRedisPrefix(config.redisUrl, config.redisKeyPrefix)
        const first = yield* feed(hank, "?limit=50")
        assert.deepStrictEqual(first.json.items.map((p: { id: string }) => p.id), before, "answered from PostgreSQL while rebuilding")
        const redis = yield* Redis
        yield* Effect.promise(async () => {
          for (let i = 0; i < 100 && (await redis.client.zscore(`tl:${hank.id}`, "~")) === null; i++) await new Promise((r) => setTimeout(r, 50))
        })
        assert.isNotNull(yield* Effect.promise(() => redis.client.zscore(`tl:${hank.id}`, "~")), "the timeline actor rebuilt it")
        assert.deepStrictEqual(yield* feedIds(hank, "?limit=50"), before, "the same feed from Redis")
        assert.sameMembers(yield* Effect.promise(() => redis.client.zrange(`tl:${hank.id}`, 1, -1)), [i1, i2])
      }))

    it.effect("likes: idempotent, exact under concurrency, visible in cards; saves; comments", () =>
      Effect.gen(function*() {
        const [owner, fan, stranger] = yield* Effect.all([signup(), signup(), signup()])
        yield* follow(fan, owner)
        const post = yield* publish(owner, "like me")
        const likes = yield* Effect.all(
          Array.from({ length: 100 }, () => request(`/api/v1/posts/${post}/like`, { method: "POST", headers: fan.bearer })),
          { concurrency: 100 }
        )
        assert.isTrue(likes.every((r) => r.status === 200 && r.json.liked === true))
        assert.deepStrictEqual((yield* request(`/api/v1/posts/${post}`, { headers: fan.bearer })).json.counts, { likes: 1, comments: 0 })
        // many people at once: exact
        const others = yield* Effect.all(Array.from({ length: 12 }, () => signup()), { concurrency: 4 })
        yield* Effect.all(others.map((o) => request(`/api/v1/posts/${post}/like`, { method: "POST", headers: o.bearer })), { concurrency: 12 })
        assert.strictEqual((yield* request(`/api/v1/posts/${post}`)).json.counts.likes, 13)
        yield* Effect.all(others.map((o) => request(`/api/v1/posts/${post}/like`, { method: "DELETE", headers: o.bearer })), { concurrency: 12 })
        const unliked = yield* request(`/api/v1/posts/${post}/like`, { method: "DELETE", headers: stranger.bearer })
        assert.deepStrictEqual(unliked.json, { liked: false, likes: 1 }, "unliking what you never liked changes nothing")

        assert.strictEqual((yield* request(`/api/v1/posts/${post}/save`, { method: "POST", headers: fan.bearer })).json.saved, true)
        assert.strictEqual((yield* request(`/api/v1/posts/${post}/save`, { method: "POST", headers: fan.bearer })).json.saved, true)
        const card = (yield* feedUntil(fan, (ids) => ids.includes(post)), yield* feed(fan)).json.items.find((p: { id: string }) => p.id === post)
        assert.deepStrictEqual(card.viewer, { isLiked: true, isSaved: true })
        assert.strictEqual(card.counts.likes, 1)

        // comments: create, list by cursor, limits, delete by author or post owner only
        const say = (who: Account, text: string) =>
          request(`/api/v1/posts/${post}/comments`, { method: "POST", headers: { ...who.bearer, "content-type": "application/json" }, body: JSON.stringify({ text }) })
        const c1 = yield* say(fan, "first!")
        assert.strictEqual(c1.status, 201)
        assert.strictEqual(c1.json.author.username, fan.username)
        const c2 = yield* say(stranger, "second")
        yield* say(owner, "thanks")
        assert.strictEqual((yield* say(fan, "   ")).status, 400)
        assert.strictEqual((yield* say(fan, "x".repeat(2201))).status, 400)
        const page1 = yield* request(`/api/v1/posts/${post}/comments?limit=2`)
        assert.deepStrictEqual(page1.json.items.map((c: { text: string }) => c.text), ["first!", "second"])
        const page2 = yield* request(`/api/v1/posts/${post}/comments?limit=2&cursor=${page1.json.nextCursor}`)
        assert.deepStrictEqual(page2.json.items.map((c: { text: string }) => c.text), ["thanks"])
        assert.strictEqual((yield* request(`/api/v1/comments/${c2.json.id}`, { method: "DELETE", headers: fan.bearer })).status, 404)
        assert.strictEqual((yield* request(`/api/v1/comments/${c2.json.id}`, { method: "DELETE", headers: owner.bearer })).status, 204)
        assert.strictEqual((yield* request(`/api/v1/comments/${c1.json.id}`, { method: "DELETE", headers: fan.bearer })).status, 204)
        assert.strictEqual((yield* request(`/api/v1/posts/${post}`)).json.counts.comments, 1)

        // nothing reveals a post the caller may not see
        const secret = yield* signup({ isPrivate: true })
        const hidden = yield* publish(secret, "hidden")
        assert.strictEqual((yield* request(`/api/v1/posts/${hidden}/like`, { method: "POST", headers: stranger.bearer })).status, 404)
        assert.strictEqual((yield* request(`/api/v1/posts/${hidden}/comments`, { headers: stranger.bearer })).status, 404)
        assert.strictEqual((yield* request(`/api/v1/posts/${hidden}/save`, { method: "POST", headers: stranger.bearer })).status, 404)
        assert.strictEqual((yield* request(`/api/v1/posts/not-a-uuid/like`, { method: "POST", headers: stranger.bearer })).status, 400)
      }))
  })

  it.scopedLive("with Redis down the feed is served from PostgreSQL and says so", () =>
    Effect.gen(function*() {
      const redis = yield* privateRedis
      yield* Effect.gen(function*() {
        const [reader, author] = yield* Effect.all([signup(), signup()])
        yield* follow(reader, author)
        const p1 = yield* publish(author, "one")
        assert.deepStrictEqual(yield* feedUntil(reader, (ids) => ids.length === 1), [p1])
        yield* redis.stop
        const r = yield* feed(reader)
        assert.strictEqual(r.status, 200)
        assert.strictEqual(r.headers.get("x-aperture-degraded"), "redis")
        assert.deepStrictEqual(r.json.items.map((p: { id: string }) => p.id), [p1])
        assert.strictEqual(r.json.items[0].viewer.isLiked, false)
      }).pipe(Effect.provide(Layer.fresh(TestApp({ ...settings, redisUrl: Redacted.make(redis.url) }))))
    }), { timeout: 90_000 })
})
