/**
 * What timelines and the home feed read from PostgreSQL: followers to fan out to, the posts a
 * timeline is rebuilt from, celebrity outboxes, the feed itself when Redis cannot serve it, post
 * cards in one batch, and — for every feed page — visibility, counts and viewer flags in one query.
 * A post's feed score is its publication time in whole milliseconds (see migration 0006).
 */
import { SqlClient, type Statement } from "@effect/sql"
import { Context, Effect, Layer } from "effect"
import type { CardRow } from "./Graph.ts"
import { mediaColumn, type PostRow } from "./Posts.ts"

/**
 * Where a page of followers ended: the last row's created_at as PostgreSQL prints it (to the
 * microsecond: a JS Date keeps milliseconds, and a page edge inside one millisecond would skip the
 * rest of its follows) and its follower id.
 */
export interface FollowerCursor {
  readonly at: string
  readonly id: string
}

export interface Scored {
  readonly id: string
  readonly score: number
}

export interface FeedPosition {
  readonly score: number
  readonly id: string
}

export interface ViewerState {
  readonly id: string
  readonly likeCount: number
  readonly commentCount: number
  readonly liked: boolean
  readonly saved: boolean
  /** The author is private now: the post's media go out as signed URLs. */
  readonly authorPrivate: boolean
}

export interface CardSource {
  readonly post: PostRow
  readonly author: CardRow
}

export interface AuthorInfo {
  readonly followerCount: number
  readonly isPrivate: boolean
}

export class FeedRepo extends Context.Tag("FeedRepo")<FeedRepo, {
  readonly author: (authorId: string) => Effect.Effect<AuthorInfo | undefined>
  /** The feed score of a published post; undefined when it is not (or no longer) published. */
  readonly publishedScore: (postId: string) => Effect.Effect<number | undefined>
  /** One page of an author's followers, by the follower index's order. */
  readonly followers: (
    authorId: string,
    after: FollowerCursor | null,
    limit: number
  ) => Effect.Effect<{ readonly ids: ReadonlyArray<string>; readonly last: FollowerCursor | null }>
  /** What a home timeline holds: the user's own posts and those of followed non-celebrities, newest first. */
  readonly timelineSeed: (userId: string, celebrityThreshold: number, limit: number) => Effect.Effect<ReadonlyArray<Scored>>
  readonly authorRecent: (authorId: string, limit: number) => Effect.Effect<ReadonlyArray<Scored>>
  readonly celebritiesFollowed: (userId: string, celebrityThreshold: number) => Effect.Effect<ReadonlyArray<string>>
  /** The feed straight from PostgreSQL (Redis down or the timeline still rebuilding). */
  readonly feedPage: (userId: string, before: FeedPosition | null, limit: number) => Effect.Effect<ReadonlyArray<Scored>>
  /** Of `ids`, those the viewer may see now, with their counts and the viewer's like/save. */
  readonly viewerState: (viewerId: string, ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<ViewerState>>
  readonly cards: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<CardSource>>
}>() {}

const scoreOf = (alias: string) => `floor(extract(epoch FROM ${alias}.published_at) * 1000)::float8 AS score`

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const score = sql.unsafe(scoreOf("p"))
  const before = (pos: FeedPosition | null) =>
    pos === null
      ? sql`true`
      : sql`(p.published_at, p.id) < (timestamptz 'epoch' + ${pos.score} * interval '1 millisecond', ${pos.id}::uuid)`

  /**
   * The newest `limit` posts (before `pos`) of the user and of `authors`: each author's own range
   * of `posts_author_published`, then merged. An `author_id IN (…)` filter instead made the planner
   * walk that index for every author on the site (~50 ms at 200k posts against ~1 ms for 30).
   */
  const newestOf = (authors: Statement.Fragment, userId: string, pos: FeedPosition | null, limit: number) =>
    sql<Scored>`
      SELECT p.id::text, ${score} FROM (SELECT ${userId}::uuid AS author_id UNION ALL ${authors}) a
      CROSS JOIN LATERAL (
        SELECT p.id, p.published_at FROM posts p
        WHERE p.author_id = a.author_id AND p.status = 'published' AND ${before(pos)}
        ORDER BY p.published_at DESC, p.id DESC
        LIMIT ${limit}
      ) p
      ORDER BY p.published_at DESC, p.id DESC
      LIMIT ${limit}`.pipe(Effect.orDie)

  return FeedRepo.of({
    author: (authorId) =>
      sql<AuthorInfo>`SELECT follower_count, is_private FROM users WHERE id = ${authorId}`.pipe(
        Effect.map((rows) => rows[0]),
        Effect.orDie
      ),
    publishedScore: (postId) =>
      sql<{ score: number }>`SELECT ${score} FROM posts p WHERE p.id = ${postId} AND p.status = 'published'`.pipe(
        Effect.map((rows) => rows[0]?.score),
        Effect.orDie
      ),
    // One row: the page's ids as one string and its last keyset. 5,000 rows of (id, Date) cost
    // the fan-out more than the inserts they lead to (row objects, dates, camelCase copies). The
    // page runs in the index's order (created_at DESC, follower_id ASC), so nothing is sorted: the
    // last row is the newest follower id among the page's oldest created_at.
    followers: (authorId, after, limit) =>
      sql<{ ids: string; lastAt: string | null; lastId: string | null }>`
        WITH page AS (
          SELECT follower_id, created_at FROM follows
          WHERE followee_id = ${authorId}
            AND ${after === null ? sql`true` : sql`(created_at < ${after.at}::timestamptz OR (created_at = ${after.at}::timestamptz AND follower_id > ${after.id}::uuid))`}
          ORDER BY created_at DESC, follower_id
          LIMIT ${limit}
        ), edge AS (SELECT min(created_at) AS at FROM page)
        SELECT (SELECT coalesce(string_agg(follower_id::text, ','), '') FROM page) AS ids,
               edge.at::text AS last_at,
               (SELECT max(follower_id::text COLLATE "C") FROM page WHERE created_at = edge.at) AS last_id
        FROM edge`.pipe(
        Effect.map(([row]) => {
          const ids = row === undefined || row.ids === "" ? [] : row.ids.split(",")
          const last = row?.lastAt == null || row.lastId == null ? null : { at: row.lastAt, id: row.lastId }
          return { ids, last }
        }),
        Effect.orDie
      ),
    timelineSeed: (userId, threshold, limit) =>
      newestOf(
        sql`SELECT f.followee_id FROM follows f JOIN users u ON u.id = f.followee_id
            WHERE f.follower_id = ${userId} AND u.follower_count < ${threshold}`,
        userId,
        null,
        limit
      ),
    authorRecent: (authorId, limit) =>
      sql<Scored>`
        SELECT p.id::text, ${score} FROM posts p
        WHERE p.author_id = ${authorId} AND p.status = 'published'
        ORDER BY p.published_at DESC, p.id DESC
        LIMIT ${limit}`.pipe(Effect.orDie),
    celebritiesFollowed: (userId, threshold) =>
      sql<{ id: string }>`
        SELECT f.followee_id::text AS id FROM follows f JOIN users u ON u.id = f.followee_id
        WHERE f.follower_id = ${userId} AND u.follower_count >= ${threshold}`.pipe(
        Effect.map((rows) => rows.map((r) => r.id)),
        Effect.orDie
      ),
    feedPage: (userId, pos, limit) => newestOf(sql`SELECT followee_id FROM follows WHERE follower_id = ${userId}`, userId, pos, limit),
    viewerState: (viewerId, ids) =>
      ids.length === 0
        ? Effect.succeed([])
        : sql<ViewerState>`
          SELECT p.id::text, p.like_count, p.comment_count,
            EXISTS (SELECT 1 FROM likes l WHERE l.post_id = p.id AND l.user_id = ${viewerId}) AS liked,
            EXISTS (SELECT 1 FROM saves s WHERE s.user_id = ${viewerId} AND s.post_id = p.id) AS saved,
            u.is_private AS author_private
          FROM posts p JOIN users u ON u.id = p.author_id
          WHERE p.id IN ${sql.in(ids)} AND p.status = 'published'
            AND (p.author_id = ${viewerId}
              OR EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ${viewerId} AND f.followee_id = p.author_id))`.pipe(
          Effect.orDie
        ),
    cards: (ids) =>
      ids.length === 0
        ? Effect.succeed([])
        : sql<PostRow & { aId: string; aUsername: string; aDisplayName: string; aAvatar: unknown; aIsPrivate: boolean }>`
          SELECT p.id::text, p.author_id::text, p.status, p.caption, p.alt_text, p.location, p.original_key, p.original_type,
            p.original_bytes::text, p.width, p.height, p.variants, p.placeholder, p.dominant_color, p.like_count,
            p.comment_count, p.failure, p.created_at, p.published_at,
            ARRAY(SELECT tag FROM hashtags h WHERE h.post_id = p.id ORDER BY tag) AS hashtags,
            ARRAY(SELECT mu.username FROM mentions m JOIN users mu ON mu.id = m.user_id WHERE m.post_id = p.id ORDER BY mu.username) AS mentions,
            ${sql.literal(mediaColumn)},
            u.id::text AS a_id, u.username AS a_username, u.display_name AS a_display_name, u.avatar AS a_avatar, u.is_private AS a_is_private
          FROM posts p JOIN users u ON u.id = p.author_id
          WHERE p.id IN ${sql.in(ids)} AND p.status = 'published'`.pipe(
          Effect.map((rows) =>
            rows.map(({ aAvatar, aDisplayName, aId, aIsPrivate, aUsername, ...post }) => ({
              post,
              author: { id: aId, username: aUsername, displayName: aDisplayName, avatar: aAvatar, isPrivate: aIsPrivate }
            }))
          ),
          Effect.orDie
        )
  })
})

export const layer = Layer.effect(FeedRepo, make)
