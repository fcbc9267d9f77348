/**
 * Who may see what, and the graph under concurrency: the authorization matrix over relationships
 * × reads, follow requests, blocks, exact counters, pagination, search ranking and the outbox
 * events every change writes.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { type Account, request, signup, TestApp } from "./support/app.ts"

const as = (account: Account | null) => (account === null ? {} : account.bearer)
const call = (method: string, path: string, account: Account | null, body?: unknown) =>
  request(path, {
    method,
    headers: { ...as(account), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
const follow = (viewer: Account | null, target: Account) => call("POST", `/api/v1/users/${target.username}/follow`, viewer)
const unfollow = (viewer: Account, target: Account) => call("DELETE", `/api/v1/users/${target.username}/follow`, viewer)
const block = (viewer: Account, target: Account) => call("POST", `/api/v1/users/${target.username}/block`, viewer)
const profile = (viewer: Account | null, target: Account) => call("GET", `/api/v1/users/${target.username}`, viewer)
const counts = (target: Account) => Effect.map(profile(null, target), (r) => r.json.counts)
const approveAll = (owner: Account) =>
  Effect.gen(function*() {
    const pending = yield* call("GET", "/api/v1/follow-requests", owner)
    for (const r of pending.json.items) yield* call("POST", `/api/v1/follow-requests/${r.id}/approve`, owner)
  })

type Cell = "visible" | "content" | "forbidden" | "notFound" | "unauthorized" | "listed" | "absent" | "following" | "requested"

interface Row {
  readonly name: string
  /** Prepares the viewer and target; null viewer is anonymous. */
  readonly setup: Effect.Effect<{ readonly viewer: Account | null; readonly target: Account }, never, any>
  readonly profile: Cell
  readonly followers: Cell
  readonly following: Cell
  readonly search: Cell
  readonly follow: Cell
}

const rows: ReadonlyArray<Row> = [
  {
    name: "public",
    setup: Effect.all({ viewer: signup(), target: signup() }),
    profile: "content",
    followers: "visible",
    following: "visible",
    search: "listed",
    follow: "following"
  },
  {
    name: "private, not following",
    setup: Effect.all({ viewer: signup(), target: signup({ isPrivate: true }) }),
    profile: "visible",
    followers: "forbidden",
    following: "forbidden",
    search: "listed",
    follow: "requested"
  },
  {
    name: "private, following",
    setup: Effect.gen(function*() {
      const viewer = yield* signup()
      const target = yield* signup({ isPrivate: true })
      yield* follow(viewer, target)
      yield* approveAll(target)
      return { viewer, target }
    }),
    profile: "content",
    followers: "visible",
    following: "visible",
    search: "listed",
    follow: "following"
  },
  {
    name: "blocked by the target",
    setup: Effect.gen(function*() {
      const viewer = yield* signup()
      const target = yield* signup()
      yield* follow(viewer, target)
      yield* block(target, viewer)
      return { viewer, target }
    }),
    profile: "notFound",
    followers: "notFound",
    following: "notFound",
    search: "absent",
    follow: "notFound"
  },
  {
    name: "blocking the target",
    setup: Effect.gen(function*() {
      const viewer = yield* signup()
      const target = yield* signup()
      yield* block(viewer, target)
      return { viewer, target }
    }),
    // the blocker sees the header (to unblock from it), never the content
    profile: "visible",
    followers: "notFound",
    following: "notFound",
    search: "absent",
    follow: "notFound"
  },
  {
    name: "anonymous",
    setup: Effect.map(signup(), (target) => ({ viewer: null, target })),
    profile: "content",
    followers: "visible",
    following: "visible",
    search: "listed",
    follow: "unauthorized"
  }
]

const statusOf = (cell: Cell) =>
  ({ visible: 200, content: 200, forbidden: 403, notFound: 404, unauthorized: 401 } as Record<string, number>)[cell]

for (const transport of ["uws", "node"] as const) {
  describe(`authorization matrix on ${transport}`, () => {
    layer(TestApp({ transport }), { timeout: "90 seconds", excludeTestServices: true })((it) => {
      for (const row of rows) {
        it.effect(`${row.name}: profile, followers, following, search, follow`, () =>
          Effect.gen(function*() {
            const { viewer, target } = yield* row.setup
            const p = yield* profile(viewer, target)
            assert.strictEqual(p.status, statusOf(row.profile), `profile ${p.text}`)
            if (p.status === 200) {
              assert.strictEqual(p.json.canViewContent, row.profile === "content")
              assert.isNumber(p.json.counts.followers, "counts are shown even when content is not")
              assert.strictEqual(p.json.viewer === null, viewer === null)
              if (p.json.viewer) assert.strictEqual(p.json.viewer.blocked, row.name === "blocking the target")
            } else {
              assert.notInclude(p.text, target.id, "a hidden account leaks nothing")
            }
            for (const list of ["followers", "following"] as const) {
              const r = yield* call("GET", `/api/v1/users/${target.username}/${list}`, viewer)
              assert.strictEqual(r.status, statusOf(row[list]), `${list} ${r.text}`)
            }
            const s = yield* call("GET", `/api/v1/search/users?q=${target.username}`, viewer)
            assert.strictEqual(s.status, 200)
            const found = s.json.items.some((i: { user: { id: string } }) => i.user.id === target.id)
            assert.strictEqual(found, row.search === "listed", `search ${s.text}`)
            const f = yield* follow(viewer, target)
            if (row.follow === "following" || row.follow === "requested") {
              assert.strictEqual(f.status, 200, f.text)
              assert.strictEqual(f.json.status, row.follow)
            } else {
              assert.strictEqual(f.status, statusOf(row.follow), `follow ${f.text}`)
            }
          }))
      }
    })
  })
}

describe("graph", () => {
  layer(TestApp({ rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 10_000, dmThreadsPerUserPerHour: 10_000 } }), { timeout: "90 seconds", excludeTestServices: true })((it) => {
    it.effect("follow and unfollow are idempotent and keep both counters exact", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const b = yield* signup()
        for (let i = 0; i < 3; i++) assert.strictEqual((yield* follow(a, b)).json.status, "following")
        assert.strictEqual((yield* counts(b)).followers, 1)
        assert.strictEqual((yield* counts(a)).following, 1)
        for (let i = 0; i < 3; i++) assert.strictEqual((yield* unfollow(a, b)).json.status, "none")
        assert.strictEqual((yield* counts(b)).followers, 0)
        assert.strictEqual((yield* counts(a)).following, 0)
        const self = yield* follow(a, a)
        assert.strictEqual(self.status, 422)
      }))

    it.effect("50 concurrent follows of one pair make one follow and a count of 1", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const b = yield* signup()
        const results = yield* Effect.all(Array.from({ length: 50 }, () => follow(a, b)), { concurrency: "unbounded" })
        assert.isTrue(results.every((r) => r.status === 200 && r.json.status === "following"), JSON.stringify(results.filter((r) => r.status !== 200).map((r) => r.text).slice(0, 2)))
        assert.strictEqual((yield* counts(b)).followers, 1)
        assert.strictEqual((yield* counts(a)).following, 1)
        const sql = yield* SqlClient.SqlClient
        const events = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM outbox
          WHERE subject = 'ev.user.followed' AND payload->'payload'->>'followerId' = ${a.id}`
        assert.strictEqual(events[0]!.n, 1, "one follow, one event")
      }))

    it.effect("racing follows and unfollows from many accounts leave counters equal to the edges", () =>
      Effect.gen(function*() {
        const target = yield* signup()
        const fans = yield* Effect.all(Array.from({ length: 8 }, () => signup()), { concurrency: 4 })
        const ops = fans.flatMap((fan) => [follow(fan, target), unfollow(fan, target), follow(fan, target)])
        yield* Effect.all(ops, { concurrency: "unbounded" })
        const sql = yield* SqlClient.SqlClient
        const [edges] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM follows WHERE followee_id = ${target.id}`
        assert.strictEqual((yield* counts(target)).followers, edges!.n)
        for (const fan of fans) {
          const [own] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM follows WHERE follower_id = ${fan.id}`
          assert.strictEqual((yield* counts(fan)).following, own!.n)
        }
      }))

    it.effect("a private account's requests: listed, approved, denied; going public approves the rest", () =>
      Effect.gen(function*() {
        const owner = yield* signup({ isPrivate: true })
        const [x, y, z] = yield* Effect.all([signup(), signup(), signup()])
        for (const fan of [x!, y!, z!]) assert.strictEqual((yield* follow(fan, owner)).json.status, "requested")
        assert.strictEqual((yield* follow(x!, owner)).json.status, "requested", "asking twice is one request")
        const p = yield* profile(x!, owner)
        assert.isTrue(p.json.viewer.requested)
        const pending = yield* call("GET", "/api/v1/follow-requests", owner)
        assert.deepStrictEqual(pending.json.items.map((i: { user: { username: string } }) => i.user.username).sort(), [x!.username, y!.username, z!.username].sort())
        const idOf = (a: Account) => pending.json.items.find((i: { user: { id: string } }) => i.user.id === a.id).id
        assert.strictEqual((yield* call("POST", `/api/v1/follow-requests/${idOf(x!)}/approve`, owner)).status, 204)
        assert.strictEqual((yield* call("POST", `/api/v1/follow-requests/${idOf(y!)}/deny`, owner)).status, 204)
        assert.strictEqual((yield* call("POST", `/api/v1/follow-requests/${idOf(y!)}/approve`, owner)).status, 404)
        assert.strictEqual((yield* call("POST", `/api/v1/follow-requests/${idOf(z!)}/approve`, x!)).status, 404, "only the owner approves")
        assert.isTrue((yield* profile(x!, owner)).json.viewer.isFollowing)
        assert.isFalse((yield* profile(y!, owner)).json.viewer.isFollowing)
        yield* call("PATCH", "/api/v1/users/me", owner, { isPrivate: false })
        assert.isTrue((yield* profile(z!, owner)).json.viewer.isFollowing, "going public approved z")
        assert.strictEqual((yield* counts(owner)).followers, 2)
        assert.strictEqual((yield* call("GET", "/api/v1/follow-requests", owner)).json.items.length, 0)
      }))

    it.effect("a block removes follows both ways and requests; unblock restores visibility, not follows", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const b = yield* signup({ isPrivate: true })
        yield* follow(b, a)
        yield* follow(a, b)
        assert.isTrue((yield* profile(b, a)).json.viewer.isFollowing)
        assert.strictEqual((yield* block(a, b)).status, 204)
        assert.strictEqual((yield* block(a, b)).status, 204, "blocking twice is fine")
        assert.deepStrictEqual(yield* counts(a), { followers: 0, following: 0, posts: 0 })
        assert.strictEqual((yield* call("GET", "/api/v1/follow-requests", b)).json.items.length, 0)
        const blocks = yield* call("GET", "/api/v1/users/me/blocks", a)
        assert.deepStrictEqual(blocks.json.items.map((u: { id: string }) => u.id), [b.id])
        assert.strictEqual((yield* call("DELETE", `/api/v1/users/${b.username}/block`, a)).status, 204)
        const after = yield* profile(b, a)
        assert.strictEqual(after.status, 200)
        assert.isFalse(after.json.viewer.isFollowing)
        assert.isFalse(after.json.viewer.followsYou)
      }))

    it.effect("followers are paginated by an opaque cursor without gaps or repeats, with the viewer's flags", () =>
      Effect.gen(function*() {
        const star = yield* signup()
        const viewer = yield* signup()
        const fans: Array<Account> = []
        for (let i = 0; i < 5; i++) {
          const fan = yield* signup()
          yield* follow(fan, star)
          fans.push(fan)
        }
        yield* follow(viewer, fans[1]!)
        const seen: Array<string> = []
        let cursor: string | null = null
        let pages = 0
        do {
          const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""
          const page = yield* call("GET", `/api/v1/users/${star.username}/followers?limit=2${q}`, viewer)
          assert.strictEqual(page.status, 200)
          for (const item of page.json.items) {
            seen.push(item.user.id)
            assert.strictEqual(item.isFollowing, item.user.id === fans[1]!.id)
          }
          cursor = page.json.nextCursor
          assert.strictEqual(page.json.hasMore, cursor !== null)
          pages++
        } while (cursor !== null)
        assert.strictEqual(pages, 3)
        assert.deepStrictEqual(seen, fans.map((f) => f.id).reverse(), "newest first, each once")
        const bad = yield* call("GET", `/api/v1/users/${star.username}/followers?cursor=garbage`, viewer)
        assert.strictEqual(bad.status, 400)
      }))

    it.effect("search ranks exact > prefix > similar, followed accounts first among equals, blocked never", () =>
      Effect.gen(function*() {
        const tag = Math.random().toString(36).slice(2, 7)
        const viewer = yield* signup()
        const exact = yield* signup({ username: `zed${tag}` })
        const prefixA = yield* signup({ username: `zed${tag}_a` })
        const prefixB = yield* signup({ username: `zed${tag}_b` })
        const similar = yield* signup({ username: `ze${tag}d` })
        const blocker = yield* signup({ username: `zed${tag}_c` })
        yield* follow(viewer, prefixB)
        yield* block(blocker, viewer)
        const r = yield* call("GET", `/api/v1/search/users?q=${encodeURIComponent(`ZED${tag}`)}`, viewer)
        const names = r.json.items.map((i: { user: { username: string } }) => i.user.username)
        assert.deepStrictEqual(names.slice(0, 3), [exact.username, prefixB.username, prefixA.username])
        assert.include(names, similar.username)
        assert.isAbove(names.indexOf(similar.username), 2)
        assert.notInclude(names, blocker.username)
        const viaAt = yield* call("GET", `/api/v1/search/users?q=@zed${tag}&limit=1`, viewer)
        assert.strictEqual(viaAt.json.items[0].user.username, exact.username)
        assert.isTrue(viaAt.json.hasMore)
        const wildcards = yield* call("GET", `/api/v1/search/users?q=${encodeURIComponent("%_")}`, viewer)
        assert.strictEqual(wildcards.status, 200)
        const empty = yield* call("GET", "/api/v1/search/users?q=", viewer)
        assert.strictEqual(empty.status, 400)
      }))

    it.effect("every graph change writes its event through the outbox", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const b = yield* signup({ isPrivate: true })
        const c = yield* signup()
        yield* follow(a, b)
        yield* approveAll(b)
        yield* follow(a, c)
        yield* unfollow(a, c)
        yield* block(c, a)
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<{ subject: string }>`
          SELECT subject FROM outbox
          WHERE payload->'payload' ?| ARRAY['followerId', 'requesterId', 'blockerId']
            AND (payload->'payload'->>'followerId' = ${a.id} OR payload->'payload'->>'requesterId' = ${a.id}
                 OR payload->'payload'->>'blockerId' = ${c.id})
          ORDER BY id`
        assert.deepStrictEqual(rows.map((r) => r.subject), [
          "ev.follow.requested",
          "ev.follow.approved",
          "ev.user.followed",
          "ev.user.followed",
          "ev.user.unfollowed",
          "ev.user.blocked"
        ])
      }))
  })
})
