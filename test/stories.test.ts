/**
 * Stories against the real services: posting (idempotent on clientId, the 9:16 variants, signed
 * media only), the tray (own first, unseen first, read pointers), exact views under 100 concurrent
 * taps, live `story_new` / `story_view` (coalesced) / `story_removed`, expiry by the database clock
 * (a story's timestamps are moved back: viewed at 23:59 it counts, at 24:01 it is gone everywhere),
 * the archive, the authorization matrix over every path and the socket, replies and reactions as
 * direct messages quoting the story, the per-author cap, bad input, and the leased sweeper under two
 * nodes removing each expired story once.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import sharp from "sharp"
import type { AppConfigShape } from "../src/config/AppConfig.ts"
import { StoriesRepo } from "../src/db/Stories.ts"
import { BlobStore } from "../src/media/BlobStore.ts"
import { make as makeSweeper } from "../src/social/StorySweeper.ts"
import { type Account, baseUrl, openSocketAs, request, signup, TestApp, type TestSocket } from "./support/app.ts"
import { until } from "./support/harness.ts"
import { multipart, plainPng } from "./support/images.ts"

const settings: Partial<AppConfigShape> = {
  actorPartitions: 4,
  rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 100_000, dmThreadsPerUserPerHour: 10_000 }
}

const json = (a: Account) => ({ ...a.bearer, "content-type": "application/json" })
const call = (a: Account, method: string, path: string, body?: unknown) =>
  request(`/api/v1${path}`, { method, headers: json(a), ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
const follow = (who: Account, whom: Account) =>
  Effect.flatMap(call(who, "POST", `/users/${whom.username}/follow`), (r) => (r.status < 300 ? Effect.void : Effect.dieMessage(`follow: ${r.status} ${r.text}`)))
const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

let png: Uint8Array | undefined
/** Posts a story and waits until it is published; its id. */
const postStory = (author: Account, fields: Record<string, string> = {}) =>
  Effect.gen(function*() {
    png ??= yield* Effect.promise(() => plainPng(1200, 900))
    const r = yield* request("/api/v1/stories", { method: "POST", headers: author.bearer, body: multipart(png, fields, "s.png", "image/png") })
    if (r.status !== 202) return yield* Effect.dieMessage(`POST /stories answered ${r.status}: ${r.text}`)
    const id = r.json.storyId as string
    yield* until(call(author, "GET", `/stories/${id}`), (s) => s.json?.status === "published", 30_000)
    return id
  })

/** Moves a story's clock back: as if published `minutes` ago (the database decides expiry). */
const age = (storyId: string, minutes: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`UPDATE stories SET published_at = now() - make_interval(mins => ${minutes}),
        expires_at = now() - make_interval(mins => ${minutes}) + interval '24 hours' WHERE id = ${storyId}`)

const framesOf = (socket: TestSocket, type: string, n: number, ms = 15_000) =>
  until(Effect.sync(() => socket.frames.filter((f) => f.type === type)), (fs) => fs.length >= n, ms)

const socketOf = (a: Account) =>
  Effect.gen(function*() {
    const s = yield* openSocketAs(a)
    s.send({ type: "resume", payload: { sinceSeq: 0 } })
    yield* s.next("hello")
    return s
  })

const trayOf = (a: Account) => Effect.map(call(a, "GET", "/stories/feed"), (r) => r.json.items as Array<any>)

describe("stories", () => {
  layer(TestApp({ ...settings, transport: "uws" }), { timeout: "240 seconds", excludeTestServices: true })((it) => {
    it.scoped("post, tray, exact views under 100 concurrent taps, live frames, viewers, delete", () =>
      Effect.gen(function*() {
        const [a, b, c] = [yield* signup(), yield* signup(), yield* signup()]
        yield* follow(b, a)
        yield* follow(c, a)
        const sa = yield* socketOf(a)
        const sb = yield* socketOf(b)

        // a retried post (same clientId) is the same story
        png ??= yield* Effect.promise(() => plainPng(1200, 900))
        const form = () => multipart(png!, { clientId: "story-1", audience: "followers" }, "s.png", "image/png")
        const first = yield* request("/api/v1/stories", { method: "POST", headers: a.bearer, body: form() })
        assert.strictEqual(first.status, 202, first.text)
        const again = yield* request("/api/v1/stories", { method: "POST", headers: a.bearer, body: form() })
        assert.strictEqual(again.json.storyId, first.json.storyId)
        const id = first.json.storyId as string
        assert.strictEqual((yield* sa.next("story_ready", 30_000)).payload.storyId, id)
        const sql = yield* SqlClient.SqlClient
        assert.strictEqual((yield* sql`SELECT 1 FROM stories WHERE author_id = ${a.id}`).length, 1)

        const story = (yield* call(a, "GET", `/stories/${id}`)).json
        assert.strictEqual(story.status, "published")
        assert.strictEqual(Date.parse(story.expiresAt) - Date.parse(story.publishedAt), 24 * 3600 * 1000)
        assert.strictEqual(story.viewCount, 0)
        // the 9:16 cover crop (a 1200×900 original is not enlarged), served only signed for its viewer
        assert.deepStrictEqual([story.media.width, story.media.height], [506, 900])
        assert.match(story.media.url, /-w1080\.webp\?/)
        assert.match(story.media.placeholder, /^data:image\/webp;base64,/)
        assert.strictEqual((yield* request(story.media.url, { headers: a.bearer })).status, 200)
        assert.strictEqual((yield* request(story.media.url.split("?")[0], {})).status, 404, "a story's plain URL is never served")

        // b's socket hears of it; b's tray has a unseen
        const announced = (yield* sb.next("story_new", 15_000)).payload
        assert.strictEqual(announced.storyId, id)
        assert.strictEqual(announced.author.username, a.username)
        let tray = yield* trayOf(b)
        assert.strictEqual(tray.length, 1)
        assert.strictEqual(tray[0].user.id, a.id)
        assert.strictEqual(tray[0].unseenCount, 1)
        assert.deepStrictEqual(tray[0].stories.map((s: any) => s.id), [id])
        // own entry first for the author
        const own = yield* trayOf(a)
        assert.strictEqual(own[0].own, true)

        // 100 concurrent views by one viewer count once; c's view makes it 2
        const taps = yield* Effect.forEach(Array.from({ length: 100 }), () => call(b, "POST", `/stories/${id}/view`), { concurrency: 100 })
        assert.isTrue(taps.every((t) => t.status === 200), taps.map((t) => t.status).join(","))
        assert.strictEqual((yield* call(c, "POST", `/stories/${id}/view`)).status, 200)
        const counted = yield* until(call(a, "GET", `/stories/${id}`), (r) => r.json.viewCount >= 2, 15_000)
        assert.strictEqual(counted.json.viewCount, 2)
        yield* sleep(300)
        const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM story_views WHERE story_id = ${id}`
        assert.strictEqual(rows[0]!.n, 2)
        assert.strictEqual((yield* call(a, "GET", `/stories/${id}`)).json.viewCount, 2)
        // the author viewing their own adds nothing
        yield* call(a, "POST", `/stories/${id}/view`)
        // seen now: b's tray entry has nothing unseen, and the pointer is the story's seq
        tray = yield* trayOf(b)
        assert.strictEqual(tray[0].unseenCount, 0)
        assert.strictEqual(tray[0].readPointer, story.seq)
        assert.strictEqual((yield* call(b, "GET", `/users/${a.username}/stories`)).json.items[0].seen, true)

        // the owner hears of the viewers live (coalesced), and lists them newest first
        const views = yield* framesOf(sa, "story_view", 1)
        const announcedViewers = views.reduce((n, f) => n + f.payload.newViewers, 0)
        yield* until(Effect.sync(() => sa.frames.filter((f) => f.type === "story_view").reduce((n, f) => n + f.payload.newViewers, 0)), (n) => n >= 2, 10_000)
        assert.isAtMost(announcedViewers, 2)
        const viewers = (yield* call(a, "GET", `/stories/${id}/viewers`)).json
        assert.strictEqual(viewers.viewCount, 2)
        assert.deepStrictEqual(viewers.items.map((v: any) => v.user.id), [c.id, b.id])
        // nobody else sees who viewed
        assert.strictEqual((yield* call(b, "GET", `/stories/${id}/viewers`)).status, 404)

        // a second story puts a back into b's unseen group, then delete removes it live
        const second = yield* postStory(a)
        tray = yield* trayOf(b)
        assert.strictEqual(tray[0].unseenCount, 1)
        assert.strictEqual((yield* call(a, "DELETE", `/stories/${second}`)).status, 204)
        assert.strictEqual((yield* sb.next("story_removed", 15_000)).payload.storyId, second)
        assert.strictEqual((yield* call(b, "GET", `/stories/${second}`)).status, 404)
        assert.strictEqual((yield* call(b, "POST", `/stories/${second}/view`)).status, 404)
        tray = yield* trayOf(b)
        assert.strictEqual(tray[0].stories.length, 1)
        assert.strictEqual((yield* call(a, "DELETE", `/stories/${second}`)).status, 404)
      }))

    it.scoped("live viewer frames are coalesced: a burst of 12 viewers reaches the author as at most one frame a second, every viewer counted once", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const viewers = yield* Effect.forEach(Array.from({ length: 12 }), () => signup(), { concurrency: 4 })
        yield* Effect.forEach(viewers, (v) => follow(v, a), { concurrency: 4, discard: true })
        const id = yield* postStory(a)
        const sa = yield* socketOf(a)
        // each viewer taps twice at once: 24 requests, 12 views
        yield* Effect.forEach([...viewers, ...viewers], (v) => call(v, "POST", `/stories/${id}/view`), { concurrency: "unbounded", discard: true })
        const frames = yield* until(
          Effect.sync(() => sa.frames.filter((f) => f.type === "story_view")),
          (fs) => fs.reduce((n, f) => n + f.payload.newViewers, 0) >= 12,
          15_000
        )
        yield* sleep(1500)
        const all = sa.frames.filter((f) => f.type === "story_view")
        assert.strictEqual(all.reduce((n, f) => n + f.payload.newViewers, 0), 12, "every viewer announced once")
        assert.isBelow(all.length, 12, "coalesced, not one frame per view")
        // the gate is a cluster-wide one-second lock taken before each frame is published: n frames
        // span at least (n - 1) s less the first one's publishing delay (allowed a whole second here)
        const span = Date.parse(all[all.length - 1].ts) - Date.parse(all[0].ts)
        assert.isAtMost(all.length, 2 + Math.floor(span / 1000), `at most one frame a second (${all.length} frames over ${span} ms)`)
        assert.strictEqual(all[all.length - 1].payload.stories[0].viewCount, 12)
        assert.isAtMost(frames[0].payload.viewers.length, 3)
        assert.strictEqual((yield* call(a, "GET", `/stories/${id}`)).json.viewCount, 12)
      }))

    it.scoped("expiry by the database clock: viewed at 23:59 it counts; at 24:01 it is gone from every path and in the archive", () =>
      Effect.gen(function*() {
        const [a, b] = [yield* signup(), yield* signup()]
        yield* follow(b, a)
        const id = yield* postStory(a)
        yield* age(id, 23 * 60 + 59)
        assert.strictEqual((yield* call(b, "POST", `/stories/${id}/view`)).status, 200, "a view at 23:59 counts")
        yield* until(call(a, "GET", `/stories/${id}`), (r) => r.json.viewCount === 1, 10_000)
        assert.strictEqual((yield* trayOf(b)).length, 1)
        yield* age(id, 24 * 60 + 1)
        const late = yield* call(b, "POST", `/stories/${id}/view`)
        assert.strictEqual(late.status, 404, "a view at 24:01 is refused")
        assert.strictEqual((yield* trayOf(b)).length, 0)
        assert.strictEqual((yield* trayOf(a)).length, 0)
        assert.strictEqual((yield* call(b, "GET", `/users/${a.username}/stories`)).json.items.length, 0)
        assert.strictEqual((yield* call(b, "GET", `/stories/${id}`)).status, 404)
        assert.strictEqual((yield* call(b, "POST", `/stories/${id}/replies`, { clientId: "late", text: "hi" })).status, 404)
        // the author keeps it in the archive, count included; nobody else can list it
        const archive = (yield* call(a, "GET", "/stories/archive")).json
        assert.deepStrictEqual(archive.items.map((s: any) => s.id), [id])
        assert.strictEqual(archive.items[0].viewCount, 1)
        assert.strictEqual((yield* call(b, "GET", "/stories/archive")).json.items.length, 0)
      }))

    it.scoped("who may see: followers, close friends, hide-from, mutes, blocks, private accounts, strangers, anonymous — every path and the socket", () =>
      Effect.gen(function*() {
        const owner = yield* signup({ isPrivate: true })
        const people = yield* Effect.all(Array.from({ length: 7 }, () => signup()))
        const [friend, follower, hidden, muter, blocked, stranger, pending] = people as [Account, Account, Account, Account, Account, Account, Account]
        for (const f of [friend, follower, hidden, muter, blocked]) {
          yield* call(f, "POST", `/users/${owner.username}/follow`)
        }
        yield* call(pending, "POST", `/users/${owner.username}/follow`) // never approved
        const requests = (yield* call(owner, "GET", "/follow-requests")).json.items as Array<any>
        for (const r of requests) {
          if (r.user.id !== pending.id) assert.strictEqual((yield* call(owner, "POST", `/follow-requests/${r.id}/approve`)).status < 300, true)
        }
        assert.strictEqual((yield* call(owner, "PUT", `/users/me/close-friends/${friend.username}`)).status, 204)
        assert.strictEqual((yield* call(owner, "PUT", `/users/me/story-hidden/${hidden.username}`)).status, 204)
        assert.strictEqual((yield* call(muter, "POST", `/users/${owner.username}/mute`)).status, 204)
        assert.strictEqual((yield* call(owner, "POST", `/users/${blocked.username}/block`)).status < 300, true)
        const lists = (yield* call(owner, "GET", "/users/me/close-friends")).json.items.map((u: any) => u.id)
        assert.deepStrictEqual(lists, [friend.id])

        const everyone = [friend, follower, hidden, muter, blocked, stranger, pending]
        const sockets = new Map<string, TestSocket>()
        for (const p of everyone) sockets.set(p.id, yield* socketOf(p))
        const forFollowers = yield* postStory(owner)
        const forFriends = yield* postStory(owner, { audience: "closeFriends" })

        // who may see which, on every path
        const expect = (p: Account) => ({
          followers: p === friend || p === follower || p === muter,
          friends: p === friend
        })
        for (const p of everyone) {
          const may = expect(p)
          for (const [storyId, ok] of [[forFollowers, may.followers], [forFriends, may.friends]] as const) {
            assert.strictEqual((yield* call(p, "GET", `/stories/${storyId}`)).status, ok ? 200 : 404, `GET as @${p.username}`)
            assert.strictEqual((yield* call(p, "GET", `/stories/${storyId}/viewers`)).status, 404)
            const reply = yield* call(p, "POST", `/stories/${storyId}/replies`, { clientId: `r-${storyId}`, emoji: "🔥" })
            assert.strictEqual(reply.status, ok ? 201 : 404, `reply as @${p.username}: ${reply.text}`)
          }
          const list = yield* call(p, "GET", `/users/${owner.username}/stories`)
          if (p === blocked) assert.strictEqual(list.status, 404)
          else {
            const ids = list.json.items.map((s: any) => s.id)
            assert.deepStrictEqual(ids, [...(may.followers ? [forFollowers] : []), ...(may.friends ? [forFriends] : [])], `list as @${p.username}`)
          }
          // muted: reachable from the profile, but not in the tray
          const tray = (yield* trayOf(p)).filter((e) => e.user.id === owner.id)
          const inTray = may.followers && p !== muter
          assert.strictEqual(tray.length, inTray ? 1 : 0, `tray of @${p.username}`)
          if (inTray) assert.strictEqual(tray[0].stories.length, may.friends ? 2 : 1)
          if (inTray) assert.strictEqual(tray[0].closeFriends, may.friends)
        }
        // views: only those who may see count
        for (const p of everyone) {
          const r = yield* call(p, "POST", `/stories/${forFriends}/view`)
          assert.strictEqual(r.status, expect(p).friends ? 200 : 404)
        }
        yield* until(call(owner, "GET", `/stories/${forFriends}`), (r) => r.json.viewCount === 1, 10_000)
        // the socket: story_new only to who may see it and did not mute
        yield* framesOf(sockets.get(friend.id)!, "story_new", 2)
        yield* framesOf(sockets.get(follower.id)!, "story_new", 1)
        yield* sleep(500)
        for (const p of everyone) {
          const got = sockets.get(p.id)!.frames.filter((f) => f.type === "story_new").map((f) => f.payload.storyId).sort()
          const want = [...(expect(p).followers && p !== muter ? [forFollowers] : []), ...(expect(p).friends ? [forFriends] : [])].sort()
          assert.deepStrictEqual(got, want, `story_new to @${p.username}`)
        }
        // anonymous: nothing
        for (const path of ["/stories/feed", `/stories/${forFollowers}`, `/users/${owner.username}/stories`]) {
          assert.strictEqual((yield* request(`/api/v1${path}`)).status, 401)
        }
        assert.strictEqual((yield* request(`/api/v1/stories/${forFollowers}/view`, { method: "POST" })).status, 401)
        // removing the close friend takes the story away at once; unhiding gives them back
        yield* call(owner, "DELETE", `/users/me/close-friends/${friend.username}`)
        assert.strictEqual((yield* call(friend, "GET", `/stories/${forFriends}`)).status, 404)
        yield* call(owner, "DELETE", `/users/me/story-hidden/${hidden.username}`)
        assert.strictEqual((yield* call(hidden, "GET", `/stories/${forFollowers}`)).status, 200)
        yield* call(muter, "DELETE", `/users/${owner.username}/mute`)
        assert.strictEqual((yield* trayOf(muter)).filter((e) => e.user.id === owner.id).length, 1)
      }))

    it.scoped("replies and reactions arrive as direct messages quoting the story, while it is visible", () =>
      Effect.gen(function*() {
        const [a, b] = [yield* signup(), yield* signup()]
        yield* follow(b, a)
        const id = yield* postStory(a)
        const reply = yield* call(b, "POST", `/stories/${id}/replies`, { clientId: "r1", text: "nice one" })
        assert.strictEqual(reply.status, 201, reply.text)
        const again = yield* call(b, "POST", `/stories/${id}/replies`, { clientId: "r1", text: "nice one" })
        assert.strictEqual(again.json.seq, reply.json.seq, "idempotent on clientId")
        const reaction = yield* call(b, "POST", `/stories/${id}/replies`, { clientId: "r2", emoji: "😮" })
        assert.strictEqual(reaction.json.conversationId, reply.json.conversationId, "the same 1:1 thread")
        const history = (yield* call(a, "GET", `/conversations/${reply.json.conversationId}/messages`)).json.items
        assert.deepStrictEqual(history.map((m: any) => [m.text, m.story?.kind, m.story?.available]), [["nice one", "reply", true], ["😮", "reaction", true]])
        assert.match(history[0].story.thumbnail, /sig=/)
        // once deleted, the quote stays but shows nothing of the story
        yield* call(a, "DELETE", `/stories/${id}`)
        const after = (yield* call(b, "GET", `/conversations/${reply.json.conversationId}/messages`)).json.items
        assert.deepStrictEqual(after.map((m: any) => [m.story.available, m.story.thumbnail]), [[false, null], [false, null]])
        // bad replies
        const other = yield* postStory(a)
        assert.strictEqual((yield* call(a, "POST", `/stories/${other}/replies`, { clientId: "x", text: "me" })).status, 422)
        assert.strictEqual((yield* call(b, "POST", `/stories/${other}/replies`, { clientId: "x", text: "a", emoji: "🔥" })).status, 422)
        assert.strictEqual((yield* call(b, "POST", `/stories/${other}/replies`, { clientId: "x" })).status, 422)
        assert.strictEqual((yield* call(b, "POST", `/stories/${other}/replies`, { clientId: "x", emoji: "abc" })).status, 400)
      }))

    it.scoped("bad input is a readable 4xx, and nothing is half-written", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const sql = yield* SqlClient.SqlClient
        const text = new TextEncoder().encode("not an image at all, just text")
        const r1 = yield* request("/api/v1/stories", { method: "POST", headers: a.bearer, body: multipart(text, {}, "s.png", "image/png") })
        assert.strictEqual(r1.status, 415, r1.text)
        png ??= yield* Effect.promise(() => plainPng(1200, 900))
        const r2 = yield* request("/api/v1/stories", { method: "POST", headers: a.bearer, body: multipart(png, { audience: "everyone" }, "s.png", "image/png") })
        assert.strictEqual(r2.status, 400, r2.text)
        assert.strictEqual(r2.json.error.code, "BadRequest")
        const r3 = yield* request("/api/v1/stories", { method: "POST", headers: a.bearer, body: multipart(png, { clientId: "bad id with spaces" }, "s.png", "image/png") })
        assert.strictEqual(r3.status, 400)
        assert.strictEqual((yield* sql`SELECT 1 FROM stories WHERE author_id = ${a.id}`).length, 0)
        assert.strictEqual((yield* call(a, "GET", "/stories/not-a-uuid")).status, 400)
        assert.strictEqual((yield* call(a, "POST", `/stories/${crypto.randomUUID()}/view`)).status, 404)
        assert.strictEqual((yield* call(a, "GET", "/stories/feed?cursor=garbage")).status, 400)
        assert.strictEqual((yield* call(a, "GET", "/stories/feed?limit=1000")).status, 400)
        assert.strictEqual((yield* call(a, "PUT", `/users/me/close-friends/${a.username}`)).status, 422)
        assert.strictEqual((yield* call(a, "PUT", "/users/me/close-friends/nobody-here-at-all")).status, 404)
        const up = yield* call(a, "POST", "/stories", { uploadId: crypto.randomUUID() })
        assert.strictEqual(up.status, 404, up.text)
      }))

    it.scoped("concurrent view batches over overlapping stories, sent three times, store each view once and count it once", () =>
      Effect.gen(function*() {
        const authors = yield* Effect.forEach(Array.from({ length: 4 }), () => signup(), { concurrency: 4 })
        const people = yield* Effect.forEach(Array.from({ length: 24 }), () => signup(), { concurrency: 6 })
        const repo = yield* StoriesRepo
        const sql = yield* SqlClient.SqlClient
        // 160 published stories written straight in SQL (the pipeline is not what this is about)
        const ids = Array.from({ length: 160 }, () => crypto.randomUUID())
        yield* sql.unsafe(
          `INSERT INTO stories (id, author_id, seq, audience, status, original_key, media, published_at, expires_at)
           SELECT t.id, t.author_id, nextval('story_seq'), 'followers', 'published', 'none', '{}'::jsonb, now(), now() + interval '24 hours'
           FROM unnest($1::uuid[], $2::uuid[]) AS t(id, author_id)`,
          [ids, ids.map((_, i) => authors[i % authors.length]!.id)]
        )
        const at = new Date()
        // 16 batches at once of different stories and sizes — small ones and large ones, so the
        // count update meets the rows in different orders, as the consumers' batches do under load
        let seed = 7
        const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
        const batches = Array.from({ length: 16 }, (_, i) => {
          const stories = ids.filter(() => random() < (i % 2 === 0 ? 0.9 : 0.15))
          return stories.flatMap((storyId) => people.filter(() => random() < 0.5).map((p) => ({ storyId, viewerId: p.id, at })))
            .sort(() => random() - 0.5)
        })
        const distinct = new Set(batches.flat().map((v) => `${v.storyId}:${v.viewerId}`))
        for (let round = 0; round < 3; round++) {
          yield* Effect.forEach(batches, (b) => repo.recordViews(b), { concurrency: "unbounded", discard: true })
        }
        const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM story_views WHERE story_id IN ${sql.in(ids)}`
        assert.strictEqual(rows[0]!.n, distinct.size)
        const counted = yield* sql<{ n: number }>`SELECT sum(view_count)::int AS n FROM stories WHERE id IN ${sql.in(ids)}`
        assert.strictEqual(counted[0]!.n, distinct.size)
      }))

    it.scoped("the sweeper, on two nodes at once, removes each expired and each deleted story once, with its media", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const ids = yield* Effect.forEach(Array.from({ length: 5 }), () => postStory(a), { concurrency: 5 })
        const sql = yield* SqlClient.SqlClient
        const store = yield* BlobStore
        const media = new Map((yield* sql<{ id: string; media: any }>`SELECT id::text, media FROM stories WHERE id IN ${sql.in(ids)}`).map((r) => [r.id, r.media]))
        const keys = ids.flatMap((id) => [media.get(id).url, media.get(id).thumbnail]).map((u: string) => u.replace(/^\/media\//, ""))
        for (const k of keys) assert.isTrue(Option.isSome(yield* Effect.orDie(store.stat(k))))
        // three expired past the archive window, one deleted, one live
        yield* sql`UPDATE stories SET published_at = now() - interval '400 days', expires_at = now() - interval '399 days' WHERE id IN ${sql.in(ids.slice(0, 3))}`
        yield* call(a, "DELETE", `/stories/${ids[3]}`)
        // everything due in this (shared) database: each must be removed exactly once, by one of the two
        const [due] = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM stories WHERE deleted_at IS NOT NULL
            OR (status = 'published' AND expires_at < now() - interval '365 days')
            OR (status <> 'published' AND created_at < now() - interval '1 day')`
        const nodes = [yield* makeSweeper, yield* makeSweeper]
        const outcomes = yield* Effect.all(nodes.flatMap((n) => [n.sweep, n.sweep, n.sweep]), { concurrency: "unbounded" })
        const counts = outcomes.filter((o): o is Exclude<typeof o, string> => typeof o !== "string")
        assert.strictEqual(counts.reduce((n, c) => n + c.expired + c.deleted, 0), due!.n, JSON.stringify(outcomes))
        assert.isTrue(outcomes.includes("busy"), "the lease kept the other sweeper out")
        const left = yield* sql<{ id: string }>`SELECT id::text FROM stories WHERE id IN ${sql.in(ids)}`
        assert.deepStrictEqual(left.map((r) => r.id), [ids[4]])
        for (const k of keys.slice(0, 8)) assert.isTrue(Option.isNone(yield* Effect.orDie(store.stat(k))), `${k} removed`)
        for (const k of keys.slice(8)) assert.isTrue(Option.isSome(yield* Effect.orDie(store.stat(k))), `${k} kept`)
      }))
  })

  layer(TestApp({ ...settings, transport: "node", stories: { maxActive: 2, viewBatchMillis: 20, viewBatchSize: 500, archiveDays: 365, viewersRetentionHours: 48, sweepIntervalMillis: 3_600_000 } }), {
    timeout: "120 seconds",
    excludeTestServices: true
  })((it) => {
    it.scoped("on the standard transport: a direct upload, and the cap on active stories", () =>
      Effect.gen(function*() {
        const base = yield* baseUrl
        const a = yield* signup()
        yield* postStory(a)
        const upload = yield* call(a, "POST", "/uploads")
        assert.strictEqual(upload.status, 201, upload.text)
        png ??= yield* Effect.promise(() => plainPng(1200, 900))
        const put = yield* request(new URL(upload.json.url).pathname + new URL(upload.json.url).search, { method: "PUT", body: png as Uint8Array<ArrayBuffer>, headers: { "content-type": "application/octet-stream" } })
        assert.strictEqual(put.status, 204, put.text)
        const made = yield* call(a, "POST", "/stories", { uploadId: upload.json.uploadId, clientId: "u-1" })
        assert.strictEqual(made.status, 202, made.text)
        const repeat = yield* call(a, "POST", "/stories", { uploadId: upload.json.uploadId, clientId: "u-1" })
        assert.strictEqual(repeat.json.storyId, made.json.storyId)
        const third = yield* request("/api/v1/stories", { method: "POST", headers: a.bearer, body: multipart(png, {}, "s.png", "image/png") })
        assert.strictEqual(third.status, 422, third.text)
        const done = yield* until(call(a, "GET", `/stories/${made.json.storyId}`), (r) => r.json.status === "published", 30_000)
        const image = yield* Effect.promise(async () => {
          const res = await fetch(`${base}${done.json.media.url}`)
          return sharp(Buffer.from(await res.arrayBuffer())).metadata()
        })
        assert.deepStrictEqual([image.width, image.height, image.format], [506, 900, "webp"])
      }))
  })
})
