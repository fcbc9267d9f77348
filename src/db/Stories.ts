/**
 * Stories, their views and read pointers, and the audience edges (close friends, hidden-from,
 * mutes). Every read of what a viewer may see is one query that applies every rule at once:
 * the story is published, not deleted and `expires_at > now()` (the database clock); the viewer is
 * its author, or follows the author, is not hidden from them, has no block with them either way,
 * and is on the author's close friends when the story is for close friends only.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"
import type { StoryAudience } from "../domain/Stories.ts"
import type { Keyset } from "./Graph.ts"

export interface StoryMediaRow {
  readonly url: string
  readonly thumbnail: string
  readonly placeholder: string
  readonly width: number
  readonly height: number
  readonly dominantColor: string
}

export interface StoryRow {
  readonly id: string
  readonly authorId: string
  readonly seq: string | null
  readonly clientId: string | null
  readonly audience: StoryAudience
  readonly status: "processing" | "published" | "failed"
  readonly originalKey: string
  readonly media: StoryMediaRow | null
  readonly viewCount: number
  readonly createdAt: Date
  readonly publishedAt: Date | null
  readonly expiresAt: Date | null
}

export interface AuthorColumns {
  readonly authorUsername: string
  readonly authorDisplayName: string
  readonly authorAvatar: unknown
  readonly authorIsPrivate: boolean
}

export type StoryWithAuthor = StoryRow & AuthorColumns

/**
 * One author of a viewer's tray with their active stories, aggregated in SQL (one row per author,
 * no timestamps to parse): `stories` is `id seq expiresAtMs f|c` per story, comma-separated, by seq.
 */
export interface TrayAuthorRow {
  readonly authorId: string
  /** The newest story's publication, epoch ms. */
  readonly latest: string
  readonly stories: string
  /** The viewer's stored read pointer for the author (0: none). */
  readonly pointer: string
}

export interface PersonRow {
  readonly id: string
  readonly username: string
  readonly displayName: string
  readonly avatar: unknown
  readonly isPrivate: boolean
}

export interface ViewerRow extends PersonRow {
  readonly viewedAt: Date
}

export interface View {
  readonly storyId: string
  readonly viewerId: string
  readonly at: Date
}

/** What a batch of views changed: per story that gained viewers, how many, its count and who. */
export interface ViewsRecorded {
  readonly storyId: string
  readonly authorId: string
  readonly added: number
  readonly viewCount: number
  readonly viewerIds: ReadonlyArray<string>
}

export type Edge = "close_friends" | "story_hidden" | "mutes"
const edgeColumns: Record<Edge, readonly [string, string]> = {
  close_friends: ["owner_id", "friend_id"],
  story_hidden: ["owner_id", "hidden_id"],
  mutes: ["muter_id", "muted_id"]
}

/** Stories removed by the sweeper: what their media were. */
export interface Swept {
  readonly id: string
  readonly originalKey: string
  readonly media: StoryMediaRow | null
}

export class TooManyStories extends Error {
  readonly _tag = "TooManyStories"
}

export class StoriesRepo extends Context.Tag("StoriesRepo")<StoriesRepo, {
  /**
   * A new `processing` story, or — same author and client id — the one created before (`created`
   * false). Fails with TooManyStories when the author already has `maxActive` live or processing.
   */
  readonly insert: (s: {
    readonly id: string
    readonly authorId: string
    readonly clientId: string | null
    readonly audience: StoryAudience
    readonly originalKey: string
    readonly maxActive: number
  }) => Effect.Effect<{ readonly id: string; readonly status: StoryRow["status"]; readonly created: boolean }, TooManyStories>
  readonly byClient: (authorId: string, clientId: string) => Effect.Effect<Option.Option<{ readonly id: string; readonly status: StoryRow["status"] }>>
  /** Any story not deleted, with its author (what its author may see). */
  readonly byId: (id: string) => Effect.Effect<Option.Option<StoryWithAuthor>>
  /** The story if `viewerId` may see it now. */
  readonly visible: (id: string, viewerId: string) => Effect.Effect<Option.Option<StoryWithAuthor>>
  /** Whether the viewer may see `authorId`'s stories at all (follows, not hidden, no block), or is them. */
  readonly mayWatch: (authorId: string, viewerId: string) => Effect.Effect<boolean>
  /** `authorId`'s active stories the viewer may see, oldest first. */
  readonly active: (authorId: string, viewerId: string) => Effect.Effect<ReadonlyArray<StoryRow>>
  /** Every active story of the viewer and of the people they follow and did not mute, that they may see. */
  readonly tray: (viewerId: string) => Effect.Effect<ReadonlyArray<TrayAuthorRow>>
  /** The viewer's read pointers, by author. */
  readonly pointers: (viewerId: string, authorIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, number>>
  readonly people: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<PersonRow>>
  /** Only a story still processing is published: seq, published_at and expires_at (+24 h) by the database clock. */
  readonly publish: (id: string, media: StoryMediaRow) => Effect.Effect<Option.Option<StoryRow>>
  readonly fail: (id: string) => Effect.Effect<Option.Option<StoryRow>>
  /** Marks the author's story deleted (invisible at once); its row as it was. */
  readonly remove: (id: string, authorId: string) => Effect.Effect<Option.Option<StoryRow>>
  /** The author's expired stories, newest first. */
  readonly archive: (authorId: string, after: Option.Option<Keyset>, limit: number) => Effect.Effect<ReadonlyArray<StoryRow>>
  /** Stores the views not stored yet (of stories that still exist) and moves read pointers; exact under repeats. */
  readonly recordViews: (views: ReadonlyArray<View>) => Effect.Effect<ReadonlyArray<ViewsRecorded>>
  readonly viewers: (storyId: string, after: Option.Option<Keyset>, limit: number) => Effect.Effect<ReadonlyArray<ViewerRow>>
  /** Followers of the story's author who may see it (or could, before it was deleted) and did not mute the author, after `afterId`. */
  readonly audienceOf: (storyId: string, afterId: string | null, limit: number, options?: { readonly deleted?: boolean }) => Effect.Effect<ReadonlyArray<string>>
  readonly addEdge: (edge: Edge, ownerId: string, otherId: string) => Effect.Effect<boolean>
  readonly removeEdge: (edge: Edge, ownerId: string, otherId: string) => Effect.Effect<boolean>
  readonly listEdge: (edge: Edge, ownerId: string, after: Option.Option<Keyset>, limit: number) => Effect.Effect<ReadonlyArray<PersonRow & { readonly at: Date }>>
  readonly hasEdge: (edge: Edge, ownerId: string, otherId: string) => Effect.Effect<boolean>
  /** Sweeper: takes up to `limit` deleted stories (rows removed when `purge` succeeds, in one transaction). */
  readonly sweepDeleted: <E>(limit: number, purge: (rows: ReadonlyArray<Swept>) => Effect.Effect<void, E>) => Effect.Effect<number, E>
  /** Sweeper: stories expired more than `archiveDays` ago, and processing/failed ones older than a day. */
  readonly sweepExpired: <E>(archiveDays: number, limit: number, purge: (rows: ReadonlyArray<Swept>) => Effect.Effect<void, E>) => Effect.Effect<number, E>
  /** Sweeper: the viewer lists of stories expired more than `hours` ago (their counts stay). */
  readonly purgeViewers: (hours: number, limit: number) => Effect.Effect<number>
}>() {}

const storyColumns = `s.id::text, s.author_id::text, s.seq::text, s.client_id, s.audience, s.status, s.original_key, s.media,
  s.view_count, s.created_at, s.published_at, s.expires_at`
const authorColumns = `u.username AS author_username, u.display_name AS author_display_name, u.avatar AS author_avatar,
  u.is_private AS author_is_private`
const LIVE = `s.deleted_at IS NULL AND s.status = 'published' AND s.expires_at > now()`

/** `viewer` (a placeholder like $2) may see the stories of the author `author` (a column): follows, not hidden, no block. */
const watches = (author: string, viewer: string) => `(
  EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ${viewer} AND f.followee_id = ${author})
  AND NOT EXISTS (SELECT 1 FROM story_hidden h WHERE h.owner_id = ${author} AND h.hidden_id = ${viewer})
  AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = ${author} AND b.blocked_id = ${viewer}) OR (b.blocker_id = ${viewer} AND b.blocked_id = ${author}))
)`
/** …and this story's audience lets them in. */
const audienceAdmits = (viewer: string) =>
  `(s.audience = 'followers' OR EXISTS (SELECT 1 FROM close_friends c WHERE c.owner_id = s.author_id AND c.friend_id = ${viewer}))`
const mayView = (viewer: string) => `(s.author_id = ${viewer} OR (${watches("s.author_id", viewer)} AND ${audienceAdmits(viewer)}))`

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const one = <A>(rows: ReadonlyArray<A>) => Option.fromNullable(rows[0])
  const withAuthor = (where: string, params: ReadonlyArray<unknown>) =>
    sql.unsafe<StoryWithAuthor>(`SELECT ${storyColumns}, ${authorColumns} FROM stories s JOIN users u ON u.id = s.author_id WHERE ${where}`, params as Array<unknown>)
      .pipe(Effect.map(one), Effect.orDie)

  const sweep = <E>(select: string, params: ReadonlyArray<unknown>, purge: (rows: ReadonlyArray<Swept>) => Effect.Effect<void, E>) =>
    sql.withTransaction(Effect.gen(function*() {
      // SKIP LOCKED: a second sweeper (should the lease ever be held twice) takes other rows, never the same
      const rows = yield* sql.unsafe<Swept>(`${select} FOR UPDATE SKIP LOCKED`, params as Array<unknown>).pipe(Effect.orDie)
      if (rows.length === 0) return 0
      yield* purge(rows)
      yield* sql`DELETE FROM stories WHERE id IN ${sql.in(rows.map((r) => r.id))}`.pipe(Effect.orDie)
      return rows.length
    })).pipe(Effect.catchTag("SqlError", Effect.die))

  return StoriesRepo.of({
    insert: (s) =>
      sql.withTransaction(Effect.gen(function*() {
        // one author's creates queue here, so the cap holds under concurrency
        yield* sql`SELECT pg_advisory_xact_lock(hashtextextended(${`story:${s.authorId}`}, 0))`
        if (s.clientId !== null) {
          const existing = yield* sql<{ id: string; status: StoryRow["status"] }>`
            SELECT id::text, status FROM stories WHERE author_id = ${s.authorId} AND client_id = ${s.clientId}`
          if (existing.length > 0) return { ...existing[0]!, created: false }
        }
        const counted = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM stories
          WHERE author_id = ${s.authorId} AND deleted_at IS NULL
            AND ((status = 'published' AND expires_at > now()) OR (status = 'processing' AND created_at > now() - interval '1 day'))`
        if (counted[0]!.n >= s.maxActive) return yield* Effect.fail(new TooManyStories(`at most ${s.maxActive} active stories`))
        yield* sql`
          INSERT INTO stories (id, author_id, client_id, audience, status, original_key)
          VALUES (${s.id}, ${s.authorId}, ${s.clientId}, ${s.audience}, 'processing', ${s.originalKey})`
        return { id: s.id, status: "processing" as const, created: true }
      })).pipe(Effect.catchTag("SqlError", Effect.die)),

    byClient: (authorId, clientId) =>
      sql<{ id: string; status: StoryRow["status"] }>`
        SELECT id::text, status FROM stories WHERE author_id = ${authorId} AND client_id = ${clientId} AND deleted_at IS NULL`.pipe(
        Effect.map(one),
        Effect.orDie
      ),

    byId: (id) => withAuthor(`s.id = $1 AND s.deleted_at IS NULL`, [id]),

    visible: (id, viewerId) => withAuthor(`s.id = $1 AND ${LIVE} AND ${mayView("$2::uuid")}`, [id, viewerId]),

    mayWatch: (authorId, viewerId) =>
      authorId === viewerId
        ? Effect.succeed(true)
        : sql.unsafe<{ ok: boolean }>(`SELECT ${watches("$1::uuid", "$2::uuid")} AS ok`, [authorId, viewerId]).pipe(
          Effect.map((r) => r[0]?.ok === true),
          Effect.orDie
        ),

    active: (authorId, viewerId) =>
      sql.unsafe<StoryRow>(
        `SELECT ${storyColumns} FROM stories s
         WHERE s.author_id = $1 AND ${LIVE} AND (s.author_id = $2::uuid OR ${audienceAdmits("$2::uuid")})
         ORDER BY s.seq ASC`,
        [authorId, viewerId]
      ).pipe(Effect.orDie),

    tray: (viewerId) =>
      sql.unsafe<TrayAuthorRow>(
        `WITH authors AS (
           SELECT f.followee_id AS id FROM follows f
           WHERE f.follower_id = $1
             AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = $1 AND m.muted_id = f.followee_id)
             AND NOT EXISTS (SELECT 1 FROM story_hidden h WHERE h.owner_id = f.followee_id AND h.hidden_id = $1)
             AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = f.followee_id AND b.blocked_id = $1) OR (b.blocker_id = $1 AND b.blocked_id = f.followee_id))
           UNION ALL SELECT $1::uuid
         ), grouped AS (
           SELECT s.author_id,
             floor(extract(epoch FROM max(s.published_at)) * 1000)::bigint AS latest,
             string_agg(s.id::text || ' ' || s.seq || ' ' || floor(extract(epoch FROM s.expires_at) * 1000)::bigint
               || CASE WHEN s.audience = 'closeFriends' THEN ' c' ELSE ' f' END, ',' ORDER BY s.seq) AS stories
           FROM authors a JOIN stories s ON s.author_id = a.id
           WHERE ${LIVE} AND (s.author_id = $1 OR ${audienceAdmits("$1")})
           GROUP BY s.author_id
         )
         SELECT g.author_id::text AS author_id, g.latest::text AS latest, g.stories, COALESCE(p.max_seq, 0)::text AS pointer
         FROM grouped g LEFT JOIN story_read_pointers p ON p.viewer_id = $1 AND p.author_id = g.author_id`,
        [viewerId]
      ).pipe(Effect.orDie),

    pointers: (viewerId, authorIds) =>
      authorIds.length === 0
        ? Effect.succeed(new Map())
        : sql<{ authorId: string; maxSeq: string }>`
          SELECT author_id::text, max_seq::text FROM story_read_pointers
          WHERE viewer_id = ${viewerId} AND author_id IN ${sql.in(authorIds)}`.pipe(
          Effect.map((rows) => new Map(rows.map((r) => [r.authorId, Number(r.maxSeq)]))),
          Effect.orDie
        ),

    people: (ids) =>
      ids.length === 0
        ? Effect.succeed([])
        : sql<PersonRow>`
          SELECT id::text, username, display_name, avatar, is_private FROM users WHERE id IN ${sql.in(ids)}`.pipe(Effect.orDie),

    publish: (id, media) =>
      sql.unsafe<StoryRow>(
        `UPDATE stories s SET status = 'published', media = $2::jsonb, seq = nextval('story_seq'),
           published_at = date_trunc('milliseconds', now()), expires_at = date_trunc('milliseconds', now()) + interval '24 hours'
         WHERE s.id = $1 AND s.status = 'processing' AND s.deleted_at IS NULL
         RETURNING ${storyColumns}`,
        [id, JSON.stringify(media)]
      ).pipe(Effect.map(one), Effect.orDie),

    fail: (id) =>
      sql.unsafe<StoryRow>(
        `UPDATE stories s SET status = 'failed' WHERE s.id = $1 AND s.status = 'processing' RETURNING ${storyColumns}`,
        [id]
      ).pipe(Effect.map(one), Effect.orDie),

    remove: (id, authorId) =>
      sql.unsafe<StoryRow>(
        `UPDATE stories s SET deleted_at = now() WHERE s.id = $1 AND s.author_id = $2 AND s.deleted_at IS NULL RETURNING ${storyColumns}`,
        [id, authorId]
      ).pipe(Effect.map(one), Effect.orDie),

    archive: (authorId, after, limit) =>
      sql.unsafe<StoryRow>(
        `SELECT ${storyColumns} FROM stories s
         WHERE s.author_id = $1 AND s.deleted_at IS NULL AND s.status = 'published' AND s.expires_at <= now()
           AND ($2::timestamptz IS NULL OR (s.published_at, s.id) < ($2::timestamptz, $3::uuid))
         ORDER BY s.published_at DESC, s.id DESC LIMIT $4`,
        [authorId, Option.match(after, { onNone: () => null, onSome: (k) => k.at }), Option.match(after, { onNone: () => null, onSome: (k) => k.id }), limit]
      ).pipe(Effect.orDie),

    recordViews: (views) =>
      views.length === 0 ? Effect.succeed([]) : sql.withTransaction(Effect.gen(function*() {
        const storyIds = views.map((v) => v.storyId)
        const viewerIds = views.map((v) => v.viewerId)
        const ats = views.map((v) => v.at.toISOString())
        // the batch's story rows locked first, in id order: concurrent batches touching the same
        // stories queue here instead of deadlocking in the insert's unique index or the count update
        yield* sql.unsafe(`SELECT 1 FROM stories WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE`, [[...new Set(storyIds)]])
        // inserted rows only: a view stored before (a retry, another node's batch) adds nothing
        const added = yield* sql.unsafe<{ storyId: string; authorId: string; viewCount: number; viewerIds: Array<string> }>(
          `WITH input AS (
             SELECT DISTINCT ON (story_id, viewer_id) story_id, viewer_id, viewed_at
             FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS t(story_id, viewer_id, viewed_at)
             ORDER BY story_id, viewer_id, viewed_at
           ), ins AS (
             INSERT INTO story_views (story_id, viewer_id, viewed_at)
             SELECT i.story_id, i.viewer_id, i.viewed_at FROM input i
             JOIN stories s ON s.id = i.story_id AND s.author_id <> i.viewer_id AND s.deleted_at IS NULL
             ORDER BY i.story_id, i.viewer_id
             ON CONFLICT DO NOTHING
             RETURNING story_id, viewer_id
           ), counted AS (
             SELECT story_id, count(*)::int AS n, array_agg(viewer_id::text) AS viewer_ids FROM ins GROUP BY story_id
           )
           UPDATE stories s SET view_count = s.view_count + c.n FROM counted c WHERE s.id = c.story_id
           RETURNING s.id::text AS story_id, s.author_id::text, s.view_count, c.viewer_ids`,
          [storyIds, viewerIds, ats]
        )
        // pointers only move forward; one row per viewer and author, whatever the batch holds
        yield* sql.unsafe(
          `INSERT INTO story_read_pointers (viewer_id, author_id, max_seq)
           SELECT t.viewer_id, s.author_id, max(s.seq)
           FROM unnest($1::uuid[], $2::uuid[]) AS t(story_id, viewer_id)
           JOIN stories s ON s.id = t.story_id AND s.seq IS NOT NULL AND s.author_id <> t.viewer_id
           GROUP BY t.viewer_id, s.author_id
           ORDER BY t.viewer_id, s.author_id
           ON CONFLICT (viewer_id, author_id) DO UPDATE SET max_seq = GREATEST(story_read_pointers.max_seq, EXCLUDED.max_seq)`,
          [storyIds, viewerIds]
        )
        return added.map((r) => ({ storyId: r.storyId, authorId: r.authorId, added: r.viewerIds.length, viewCount: r.viewCount, viewerIds: r.viewerIds }))
      })).pipe(Effect.orDie),

    viewers: (storyId, after, limit) =>
      sql.unsafe<ViewerRow>(
        `SELECT u.id::text, u.username, u.display_name, u.avatar, u.is_private, v.viewed_at
         FROM story_views v JOIN users u ON u.id = v.viewer_id JOIN stories s ON s.id = v.story_id
         WHERE v.story_id = $1
           AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = s.author_id AND b.blocked_id = v.viewer_id) OR (b.blocker_id = v.viewer_id AND b.blocked_id = s.author_id))
           AND ($2::timestamptz IS NULL OR (v.viewed_at, v.viewer_id) < ($2::timestamptz, $3::uuid))
         ORDER BY v.viewed_at DESC, v.viewer_id DESC LIMIT $4`,
        [storyId, Option.match(after, { onNone: () => null, onSome: (k) => k.at }), Option.match(after, { onNone: () => null, onSome: (k) => k.id }), limit]
      ).pipe(Effect.orDie),

    audienceOf: (storyId, afterId, limit, options) =>
      sql.unsafe<{ id: string }>(
        `SELECT f.follower_id::text AS id FROM stories s JOIN follows f ON f.followee_id = s.author_id
         WHERE s.id = $1 AND ${options?.deleted === true ? "s.deleted_at IS NOT NULL" : "s.deleted_at IS NULL"} AND ($2::uuid IS NULL OR f.follower_id > $2::uuid)
           AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = f.follower_id AND m.muted_id = s.author_id)
           AND ${watches("s.author_id", "f.follower_id")} AND ${audienceAdmits("f.follower_id")}
         ORDER BY f.follower_id LIMIT $3`,
        [storyId, afterId, limit]
      ).pipe(Effect.map((rows) => rows.map((r) => r.id)), Effect.orDie),

    addEdge: (edge, ownerId, otherId) => {
      const [a, b] = edgeColumns[edge]
      return sql.unsafe(`INSERT INTO ${edge} (${a}, ${b}) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING ${a}`, [ownerId, otherId]).pipe(
        Effect.map((r) => r.length > 0),
        Effect.orDie
      )
    },
    removeEdge: (edge, ownerId, otherId) => {
      const [a, b] = edgeColumns[edge]
      return sql.unsafe(`DELETE FROM ${edge} WHERE ${a} = $1 AND ${b} = $2 RETURNING ${a}`, [ownerId, otherId]).pipe(
        Effect.map((r) => r.length > 0),
        Effect.orDie
      )
    },
    hasEdge: (edge, ownerId, otherId) => {
      const [a, b] = edgeColumns[edge]
      return sql.unsafe(`SELECT 1 FROM ${edge} WHERE ${a} = $1 AND ${b} = $2`, [ownerId, otherId]).pipe(
        Effect.map((r) => r.length > 0),
        Effect.orDie
      )
    },
    listEdge: (edge, ownerId, after, limit) => {
      const [a, b] = edgeColumns[edge]
      return sql.unsafe<PersonRow & { at: Date }>(
        `SELECT u.id::text, u.username, u.display_name, u.avatar, u.is_private, e.created_at AS at
         FROM ${edge} e JOIN users u ON u.id = e.${b}
         WHERE e.${a} = $1 AND ($2::timestamptz IS NULL OR (e.created_at, e.${b}) < ($2::timestamptz, $3::uuid))
         ORDER BY e.created_at DESC, e.${b} DESC LIMIT $4`,
        [ownerId, Option.match(after, { onNone: () => null, onSome: (k) => k.at }), Option.match(after, { onNone: () => null, onSome: (k) => k.id }), limit]
      ).pipe(Effect.orDie)
    },

    sweepDeleted: (limit, purge) =>
      sweep(`SELECT id::text, original_key, media FROM stories WHERE deleted_at IS NOT NULL ORDER BY deleted_at LIMIT $1`, [limit], purge),
    sweepExpired: (archiveDays, limit, purge) =>
      sweep(
        `SELECT id::text, original_key, media FROM stories
         WHERE deleted_at IS NULL AND (
           (status = 'published' AND expires_at < now() - make_interval(days => $1::int))
           OR (status <> 'published' AND created_at < now() - interval '1 day'))
         ORDER BY created_at LIMIT $2`,
        [archiveDays, limit],
        purge
      ),
    purgeViewers: (hours, limit) =>
      sql.withTransaction(Effect.gen(function*() {
        const ids = yield* sql.unsafe<{ id: string }>(
          `SELECT id::text FROM stories WHERE deleted_at IS NULL AND status = 'published' AND NOT viewers_purged
             AND expires_at < now() - make_interval(hours => $1::int)
           ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [hours, limit]
        )
        if (ids.length === 0) return 0
        const list = ids.map((r) => r.id)
        yield* sql`DELETE FROM story_views WHERE story_id IN ${sql.in(list)}`
        yield* sql`UPDATE stories SET viewers_purged = true WHERE id IN ${sql.in(list)}`
        return list.length
      })).pipe(Effect.orDie)
  })
})

export const layer = Layer.effect(StoriesRepo, make)
