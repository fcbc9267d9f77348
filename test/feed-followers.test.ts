/**
 * `FeedRepo.followers`, the page the fan-out reads (src/db/Feed.ts): one aggregated row per page,
 * in the follower index's order (created_at DESC, follower_id ASC), resumed with the keyset of the
 * page's last row. With many follows sharing a created_at (page edges inside the ties), every
 * follower comes exactly once across the pages, the pages stop (a shorter last page, or an empty
 * one after a full one) and an empty page has no `last`. Rows are written with SQL directly.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel } from "effect"
import * as Database from "../src/db/Database.ts"
import * as Feed from "../src/db/Feed.ts"
import type { FollowerCursor } from "../src/db/Feed.ts"
import { TestConfig } from "./support/harness.ts"

const Live = Feed.layer.pipe(
  Layer.provideMerge(Database.layer),
  Layer.provideMerge(TestConfig()),
  Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
)

let users = 0
/** A user, with the given id or a random one. */
const newUser = (id?: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const n = ++users
    return sql<{ id: string }>`
      INSERT INTO users (id, username, email, password_hash)
      VALUES (coalesce(${id ?? null}::uuid, gen_random_uuid()), ${`fu${n}`}, ${`fu${n}@example.test`}, 'x')
      RETURNING id::text`
  }).pipe(Effect.map((rows) => rows[0]!.id), Effect.orDie)

const follow = (followerId: string, followeeId: string, at: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`INSERT INTO follows (follower_id, followee_id, created_at) VALUES (${followerId}::uuid, ${followeeId}::uuid, ${at}::timestamptz)`
  ).pipe(Effect.orDie)

interface Follow {
  readonly id: string
  readonly at: string
}

/** The index's order: newest follow first, ties by follower id ascending (UUIDs compare as their lowercase text). */
const indexOrder = (follows: ReadonlyArray<Follow>) =>
  [...follows].sort((a, b) => {
    const t = Date.parse(b.at) - Date.parse(a.at)
    return t !== 0 ? t : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  })

/** Reads every page (at most `guard` of them) and the pages' shapes. */
const readAll = (authorId: string, limit: number) =>
  Effect.gen(function*() {
    const repo = yield* Feed.FeedRepo
    const pages: Array<{ readonly ids: ReadonlyArray<string>; readonly last: FollowerCursor | null }> = []
    let after: FollowerCursor | null = null
    for (let guard = 0; guard < 200; guard++) {
      const page: { readonly ids: ReadonlyArray<string>; readonly last: FollowerCursor | null } = yield* repo.followers(authorId, after, limit)
      pages.push(page)
      // the fan-out's loop: a page shorter than the limit is the last
      if (page.ids.length < limit) break
      after = page.last
    }
    return pages
  })

/** Checks one author's pages against the expected order, for one limit. */
const checkPaging = (authorId: string, expected: ReadonlyArray<Follow>, limit: number) =>
  Effect.gen(function*() {
    const pages = yield* readAll(authorId, limit)
    const all = pages.flatMap((p) => p.ids)
    // every follower exactly once, in the index's order
    assert.deepStrictEqual(all, expected.map((f) => f.id), `limit ${limit}`)
    assert.strictEqual(new Set(all).size, expected.length)
    // full pages, then one shorter page (possibly empty) that stops the loop
    const full = Math.floor(expected.length / limit)
    assert.strictEqual(pages.length, full + 1, `limit ${limit}: pages`)
    pages.slice(0, -1).forEach((p) => assert.strictEqual(p.ids.length, limit))
    const tail = pages[pages.length - 1]!
    assert.strictEqual(tail.ids.length, expected.length - full * limit)
    // each non-empty page's keyset is its last row; an empty page has none
    let offset = 0
    for (const p of pages) {
      if (p.ids.length === 0) {
        assert.isNull(p.last, `limit ${limit}: an empty page has no last`)
        continue
      }
      const lastRow = expected[offset + p.ids.length - 1]!
      assert.isNotNull(p.last)
      assert.strictEqual(p.last!.id, lastRow.id)
      assert.strictEqual(Date.parse(p.last!.at), Date.parse(lastRow.at))
      offset += p.ids.length
    }
    // after the last non-empty page there is nothing more
    const lastNonEmpty = [...pages].reverse().find((p) => p.ids.length > 0)
    if (lastNonEmpty !== undefined) {
      const repo = yield* Feed.FeedRepo
      const after = yield* repo.followers(authorId, lastNonEmpty.last, limit)
      assert.deepStrictEqual(after, { ids: [], last: null }, `limit ${limit}: past the end`)
    }
  })

describe("FeedRepo.followers", () => {
  layer(Live, { timeout: "60 seconds", excludeTestServices: true })((it) => {
    it.effect("pages 23 followers with ties in index order, each exactly once, for limits 1, 5, 7, 23 and 100", () =>
      Effect.gen(function*() {
        const author = yield* newUser()
        const other = yield* newUser()
        // tie groups of 7, 1, 9 and 6 (page edges of limit 5 fall inside three of them), in
        // milliseconds, the precision a keyset's Date carries
        const groups: ReadonlyArray<readonly [string, number]> = [
          ["2026-03-01T10:00:00.250Z", 7],
          ["2026-03-01T09:00:00.000Z", 1],
          ["2026-02-20T08:30:00.999Z", 9],
          ["2025-12-31T23:59:59.001Z", 6]
        ]
        // ids at both ends of the order and with letters vs digits in the same position
        const chosen = [
          "00000000-0000-4000-8000-000000000000",
          "ffffffff-ffff-4fff-bfff-ffffffffffff",
          "9fffffff-0000-4000-8000-000000000001",
          "a0000000-0000-4000-8000-000000000001"
        ]
        const follows: Array<Follow> = []
        let c = 0
        for (const [at, n] of groups) {
          for (let i = 0; i < n; i++) {
            const id = yield* newUser(c < chosen.length && i < 2 ? chosen[c++] : undefined)
            follows.push({ id, at })
            yield* follow(id, author, at)
          }
        }
        assert.strictEqual(new Set(follows.map((f) => f.id)).size, 23)
        // noise the query must not return: the author's own follows, and another author's followers
        yield* follow(author, other, "2026-03-01T10:00:00.250Z")
        yield* follow(follows[0]!.id, other, "2026-03-01T10:00:00.250Z")
        yield* follow(follows[9]!.id, other, "2026-02-20T08:30:00.999Z")

        const expected = indexOrder(follows)
        for (const limit of [5, 1, 7, 23, 100]) yield* checkPaging(author, expected, limit)
      }))

    // created_at has microseconds (follows written by the app take now()); a keyset kept as a JS
    // Date (milliseconds) skipped the rest of a millisecond's follows at a page edge — 5 of 8 here
    it.effect("follows within one millisecond (microsecond created_at) across a page edge", () =>
      Effect.gen(function*() {
        const author = yield* newUser()
        const follows: Array<Follow> = []
        for (let i = 0; i < 8; i++) {
          const id = yield* newUser()
          follows.push({ id, at: "2026-03-01T10:00:00.250123Z" })
          yield* follow(id, author, "2026-03-01T10:00:00.250123Z")
        }
        const pages = yield* readAll(author, 3)
        assert.deepStrictEqual(pages.flatMap((p) => p.ids), indexOrder(follows).map((f) => f.id))
      }))

    it.effect("an author without followers: an empty page without a last keyset", () =>
      Effect.gen(function*() {
        const repo = yield* Feed.FeedRepo
        const lonely = yield* newUser()
        assert.deepStrictEqual(yield* repo.followers(lonely, null, 5), { ids: [], last: null })
        assert.deepStrictEqual(
          yield* repo.followers(lonely, { at: "2026-01-01 00:00:00+00", id: "00000000-0000-4000-8000-000000000000" }, 5),
          { ids: [], last: null }
        )
      }))
  })
})
