/**
 * Likes, saves and comments. Each change and its counter move in one statement (a CTE), so a
 * count is exact under any concurrency: the row's UPDATE serialises concurrent changes, and a
 * like that already existed adds nothing. Callers run these inside the transaction that also
 * appends the event to the outbox.
 *
 * A block hides the blocked person's comments on the blocker's posts from everyone (kept, and shown
 * again after an unblock) and takes them out of `comment_count`, so a count is what the list
 * shows. Writing a comment and (un)blocking the post's author are serialised by an advisory lock
 * on that author (shared by comment writers, exclusive for a block), so a comment written during a
 * block is counted exactly when it is shown.
 */
import { SqlClient, type Statement } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"
import type { CardRow, Keyset } from "./Graph.ts"

export interface Change {
  /** Whether this call changed anything (false for a repeated like, say). */
  readonly changed: boolean
  readonly likeCount: number
}

export interface CommentRow extends CardRow {
  readonly commentId: string
  readonly postId: string
  readonly authorId: string
  readonly text: string
  readonly createdAt: Date
}

export interface DeletedComment {
  readonly id: string
  readonly postId: string
  readonly authorId: string
  readonly postAuthorId: string
}

export class EngagementRepo extends Context.Tag("EngagementRepo")<EngagementRepo, {
  readonly like: (postId: string, userId: string) => Effect.Effect<Change>
  readonly unlike: (postId: string, userId: string) => Effect.Effect<Change>
  readonly save: (postId: string, userId: string) => Effect.Effect<boolean>
  /** The posts `userId` saved, newest save first, below the keyset `after`. */
  readonly savedPage: (userId: string, after: Option.Option<{ readonly at: Date; readonly id: string }>, limit: number) => Effect.Effect<
    ReadonlyArray<{ readonly postId: string; readonly savedAt: Date }>
  >
  readonly unsave: (postId: string, userId: string) => Effect.Effect<boolean>
  readonly flags: (postId: string, userId: string) => Effect.Effect<{ readonly liked: boolean; readonly saved: boolean }>
  readonly insertComment: (c: { readonly id: string; readonly postId: string; readonly authorId: string; readonly text: string }) => Effect.Effect<CommentRow>
  /** Comments oldest first, without those of users on either side of a block with the viewer. */
  readonly comments: (postId: string, viewerId: string | null, after: Option.Option<Keyset>, limit: number) => Effect.Effect<ReadonlyArray<CommentRow>>
  /** Deletes a comment if `userId` wrote it or owns its post. */
  readonly deleteComment: (commentId: string, userId: string) => Effect.Effect<Option.Option<DeletedComment>>
  readonly comment: (commentId: string) => Effect.Effect<Option.Option<DeletedComment>>
  /** After a block is recorded: `blockedId`'s comments on `blockerId`'s posts leave the counts. */
  readonly hideComments: (blockerId: string, blockedId: string) => Effect.Effect<void>
  /** After a block is lifted: they count again. */
  readonly restoreComments: (blockerId: string, blockedId: string) => Effect.Effect<void>
  /**
   * The counts of those of `ids` the viewer may see (the rule of `GET /posts/:id`: one's own, or
   * published, not across a block, a private author's only for followers); the rest are left out.
   */
  readonly countsVisibleTo: (viewerId: string, ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<PostCounts>>
  /** The counts of those of `ids` that are published (a deleted post is left out). */
  readonly counts: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<PostCounts>>
}>() {}

export interface PostCounts {
  readonly postId: string
  readonly likes: number
  readonly comments: number
}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  /** A comment `c` by a blocked person on the blocker's post: hidden from everyone. */
  const hidden = sql`EXISTS (
    SELECT 1 FROM posts hp JOIN blocks hb ON hb.blocker_id = hp.author_id
    WHERE hp.id = c.post_id AND hb.blocked_id = c.author_id)`
  /** Comment writers on one author's posts share this lock; block and unblock by that author take it alone. */
  const shareAuthorOf = (postId: Statement.Fragment) =>
    sql`SELECT pg_advisory_xact_lock_shared(hashtextextended('comments-of:' || p.author_id::text, 0)) FROM posts p WHERE p.id = (${postId})`.pipe(
      Effect.asVoid,
      Effect.orDie
    )
  /** Moves the comment counts of `blockerId`'s posts by `sign` × `blockedId`'s comments on each. */
  const shiftCounts = (blockerId: string, blockedId: string, sign: 1 | -1) =>
    sql`SELECT pg_advisory_xact_lock(hashtextextended(${"comments-of:" + blockerId}, 0))`.pipe(
      Effect.zipRight(sql`
        UPDATE posts p SET comment_count = p.comment_count + ${sign} * mine.n
        FROM (
          SELECT c.post_id, count(*)::int AS n FROM comments c JOIN posts cp ON cp.id = c.post_id
          WHERE c.author_id = ${blockedId} AND cp.author_id = ${blockerId}
          GROUP BY c.post_id
        ) mine
        WHERE p.id = mine.post_id`),
      Effect.asVoid,
      Effect.orDie
    )
  const commentColumns = sql`
    c.id::text AS comment_id, c.post_id::text, c.author_id::text, c.text, c.created_at,
    u.id::text, u.username, u.display_name, u.avatar, u.is_private`

  const countsOf = (rows: ReadonlyArray<{ readonly postId: string; readonly likeCount: number; readonly commentCount: number }>) =>
    rows.map((r): PostCounts => ({ postId: r.postId, likes: r.likeCount, comments: r.commentCount }))

  return EngagementRepo.of({
    countsVisibleTo: (viewerId, ids) =>
      ids.length === 0
        ? Effect.succeed([])
        : sql<{ postId: string; likeCount: number; commentCount: number }>`
          SELECT p.id::text AS post_id, p.like_count, p.comment_count
          FROM posts p JOIN users u ON u.id = p.author_id
          WHERE p.id IN ${sql.in(ids)} AND (p.author_id = ${viewerId} OR (
            p.status = 'published'
            AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = ${viewerId} AND b.blocked_id = p.author_id)
              OR (b.blocker_id = p.author_id AND b.blocked_id = ${viewerId}))
            AND (NOT u.is_private OR EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ${viewerId} AND f.followee_id = p.author_id))))`.pipe(
          Effect.map(countsOf),
          Effect.orDie
        ),
    counts: (ids) =>
      ids.length === 0
        ? Effect.succeed([])
        : sql<{ postId: string; likeCount: number; commentCount: number }>`
          SELECT id::text AS post_id, like_count, comment_count FROM posts WHERE id IN ${sql.in(ids)} AND status = 'published'`.pipe(
          Effect.map(countsOf),
          Effect.orDie
        ),
    like: (postId, userId) =>
      sql<{ likeCount: number; changed: boolean }>`
        WITH ins AS (
          INSERT INTO likes (post_id, user_id) VALUES (${postId}, ${userId}) ON CONFLICT DO NOTHING RETURNING post_id
        )
        UPDATE posts SET like_count = like_count + (SELECT count(*) FROM ins)
        WHERE id = ${postId}
        RETURNING like_count, EXISTS (SELECT 1 FROM ins) AS changed`.pipe(
        Effect.map((rows) => rows[0] ?? { likeCount: 0, changed: false }),
        Effect.orDie
      ),
    unlike: (postId, userId) =>
      sql<{ likeCount: number; changed: boolean }>`
        WITH del AS (
          DELETE FROM likes WHERE post_id = ${postId} AND user_id = ${userId} RETURNING post_id
        )
        UPDATE posts SET like_count = like_count - (SELECT count(*) FROM del)
        WHERE id = ${postId}
        RETURNING like_count, EXISTS (SELECT 1 FROM del) AS changed`.pipe(
        Effect.map((rows) => rows[0] ?? { likeCount: 0, changed: false }),
        Effect.orDie
      ),
    savedPage: (userId, after, limit) =>
      sql<{ postId: string; savedAt: Date }>`
        SELECT post_id::text AS post_id, created_at AS saved_at FROM saves
        WHERE user_id = ${userId}
          AND ${Option.match(after, { onNone: () => sql`true`, onSome: (k) => sql`(created_at, post_id) < (${k.at}, ${k.id}::uuid)` })}
        ORDER BY created_at DESC, post_id DESC
        LIMIT ${limit}`.pipe(Effect.orDie),
    save: (postId, userId) =>
      sql`INSERT INTO saves (user_id, post_id) VALUES (${userId}, ${postId}) ON CONFLICT DO NOTHING RETURNING post_id`.pipe(
        Effect.map((rows) => rows.length > 0),
        Effect.orDie
      ),
    unsave: (postId, userId) =>
      sql`DELETE FROM saves WHERE user_id = ${userId} AND post_id = ${postId} RETURNING post_id`.pipe(
        Effect.map((rows) => rows.length > 0),
        Effect.orDie
      ),
    flags: (postId, userId) =>
      sql<{ liked: boolean; saved: boolean }>`
        SELECT EXISTS (SELECT 1 FROM likes WHERE post_id = ${postId} AND user_id = ${userId}) AS liked,
               EXISTS (SELECT 1 FROM saves WHERE user_id = ${userId} AND post_id = ${postId}) AS saved`.pipe(
        Effect.map((rows) => rows[0]!),
        Effect.orDie
      ),
    insertComment: (c) =>
      shareAuthorOf(sql`${c.postId}::uuid`).pipe(Effect.zipRight(sql<CommentRow>`
        WITH ins AS (
          INSERT INTO comments (id, post_id, author_id, text) VALUES (${c.id}, ${c.postId}, ${c.authorId}, ${c.text})
          RETURNING *
        ), counted AS (
          UPDATE posts SET comment_count = comment_count + 1 WHERE id = ${c.postId}
            AND NOT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = posts.author_id AND blocked_id = ${c.authorId})
        )
        SELECT ${commentColumns} FROM ins c JOIN users u ON u.id = c.author_id`.pipe(
        Effect.map((rows) => rows[0]!),
        Effect.orDie
      ))),
    comments: (postId, viewerId, after, limit) =>
      sql<CommentRow>`
        SELECT ${commentColumns} FROM comments c JOIN users u ON u.id = c.author_id
        WHERE c.post_id = ${postId}
          AND ${Option.match(after, { onNone: () => sql`true`, onSome: (k) => sql`(c.created_at, c.id) > (${k.at}, ${k.id}::uuid)` })}
          AND NOT ${hidden}
          AND ${viewerId === null ? sql`true` : sql`NOT EXISTS (
            SELECT 1 FROM blocks b
            WHERE (b.blocker_id = ${viewerId} AND b.blocked_id = c.author_id) OR (b.blocker_id = c.author_id AND b.blocked_id = ${viewerId}))`}
        ORDER BY c.created_at, c.id
        LIMIT ${limit}`.pipe(Effect.orDie),
    deleteComment: (commentId, userId) =>
      shareAuthorOf(sql`SELECT post_id FROM comments WHERE id = ${commentId}`).pipe(Effect.zipRight(sql<DeletedComment>`
        WITH del AS (
          DELETE FROM comments c USING posts p
          WHERE c.id = ${commentId} AND p.id = c.post_id AND (c.author_id = ${userId} OR p.author_id = ${userId})
          RETURNING c.id, c.post_id, c.author_id, p.author_id AS post_author_id
        ), counted AS (
          UPDATE posts SET comment_count = comment_count - 1 WHERE id IN (SELECT post_id FROM del)
            AND NOT EXISTS (SELECT 1 FROM del JOIN blocks b ON b.blocker_id = del.post_author_id AND b.blocked_id = del.author_id)
        )
        SELECT id::text, post_id::text, author_id::text, post_author_id::text FROM del`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.orDie
      ))),
    comment: (commentId) =>
      sql<DeletedComment>`
        SELECT c.id::text, c.post_id::text, c.author_id::text, p.author_id::text AS post_author_id
        FROM comments c JOIN posts p ON p.id = c.post_id WHERE c.id = ${commentId}`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.orDie
      ),
    hideComments: (blockerId, blockedId) => shiftCounts(blockerId, blockedId, -1),
    restoreComments: (blockerId, blockedId) => shiftCounts(blockerId, blockedId, 1)
  })
})

export const layer = Layer.effect(EngagementRepo, make)
