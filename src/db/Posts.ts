/** Posts, their hashtags and mentions, and direct uploads. */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"
import type { Keyset } from "./Graph.ts"

export interface PostRow {
  readonly id: string
  readonly authorId: string
  readonly status: "processing" | "published" | "failed"
  readonly caption: string
  readonly altText: string
  readonly location: string | null
  readonly originalKey: string
  readonly originalType: string
  readonly originalBytes: string
  readonly width: number | null
  readonly height: number | null
  readonly variants: Record<string, string> | null
  readonly placeholder: string | null
  readonly dominantColor: string | null
  readonly likeCount: number
  readonly commentCount: number
  readonly failure: string | null
  readonly createdAt: Date
  readonly publishedAt: Date | null
  readonly hashtags: ReadonlyArray<string>
  readonly mentions: ReadonlyArray<string>
  /** The post's photos in order (the first is the one in the columns above). */
  readonly media: ReadonlyArray<MediaRow>
}

/** One photo of a post (`post_media`), as the `media` JSON of a post row. */
export interface MediaRow {
  readonly position: number
  readonly status: "processing" | "ready" | "failed"
  readonly altText: string
  readonly originalKey: string
  readonly width: number | null
  readonly height: number | null
  readonly variants: Record<string, string> | null
  readonly placeholder: string | null
  readonly dominantColor: string | null
}

/** A photo's rendering, as the media worker hands it over. */
export interface MediaResult {
  readonly width: number
  readonly height: number
  readonly variants: Record<string, string>
  readonly placeholder: string
  readonly dominantColor: string
}

/**
 * A post's photos as JSON, in order, for the row's `media` (one subquery on the primary key).
 * Keys are camelCase here: the client's name transform does not reach inside JSON.
 */
export const mediaColumn = `COALESCE((
      SELECT jsonb_agg(jsonb_build_object(
        'position', pm.position, 'status', pm.status, 'altText', pm.alt_text, 'originalKey', pm.original_key,
        'width', pm.width, 'height', pm.height, 'variants', pm.variants, 'placeholder', pm.placeholder,
        'dominantColor', pm.dominant_color) ORDER BY pm.position)
      FROM post_media pm WHERE pm.post_id = p.id), '[]'::jsonb) AS media`

export interface UploadRow {
  readonly id: string
  readonly userId: string
  readonly objectKey: string
  readonly maxBytes: string
  readonly expiresAt: Date
  readonly usedAt: Date | null
}

export interface NewPhoto {
  readonly altText: string
  readonly originalKey: string
  readonly originalType: string
  readonly originalBytes: number
}

interface NewPostText {
  readonly id: string
  readonly authorId: string
  readonly caption: string
  readonly location: string | null
  readonly hashtags: ReadonlyArray<string>
  /** Lower-cased usernames; those that exist are linked. */
  readonly mentions: ReadonlyArray<string>
}

/** A new post: 1–10 photos in order (`media`; the first also fills the row's single-image columns), or one photo's fields. */
export type NewPost = NewPostText & ({ readonly media: ReadonlyArray<NewPhoto> } | (NewPhoto & { readonly media?: undefined }))

export class PostsRepo extends Context.Tag("PostsRepo")<PostsRepo, {
  readonly insert: (post: NewPost) => Effect.Effect<void>
  readonly byId: (id: string) => Effect.Effect<Option.Option<PostRow>>
  /** Whether a published post's audience is restricted (its author is private) now; none when there is no such post. */
  readonly audience: (id: string) => Effect.Effect<Option.Option<{ readonly restricted: boolean }>>
  readonly grid: (authorId: string, after: Option.Option<Keyset>, limit: number) => Effect.Effect<ReadonlyArray<PostRow>>
  /**
   * Every photo's result (in position order) recorded and the post published, the first photo's in
   * its own columns. Only a post still processing is published: a job delivered twice publishes
   * once. Run in a transaction.
   */
  readonly publish: (id: string, results: ReadonlyArray<MediaResult>) => Effect.Effect<boolean>
  readonly fail: (id: string, reason: string) => Effect.Effect<boolean>
  readonly requeue: (id: string) => Effect.Effect<boolean>
  readonly countAttempt: (id: string) => Effect.Effect<void>
  /** Posts still `processing` long after any retry could still be running. */
  readonly stuck: (olderThanSeconds: number) => Effect.Effect<ReadonlyArray<{ readonly id: string; readonly originalKey: string }>>
  /** Deletes the post of `authorId`; its row as it was. */
  readonly remove: (id: string, authorId: string) => Effect.Effect<Option.Option<PostRow>>
  /**
   * The author's new caption (its hashtags and mentions replaced) and/or alt text; false when the
   * post is not theirs or is gone. Run in a transaction.
   */
  readonly updateText: (id: string, authorId: string, text: {
    readonly caption?: { readonly text: string; readonly hashtags: ReadonlyArray<string>; readonly mentions: ReadonlyArray<string> } | undefined
    readonly altText?: string | undefined
    /** Each photo's alt text by position; positions past the post's photos are ignored. */
    readonly altTexts?: ReadonlyArray<string> | undefined
  }) => Effect.Effect<boolean>
  readonly insertUpload: (u: { readonly id: string; readonly userId: string; readonly objectKey: string; readonly maxBytes: number; readonly ttlSeconds: number }) => Effect.Effect<UploadRow>
  readonly upload: (id: string) => Effect.Effect<Option.Option<UploadRow>>
  /** Marks an upload used, once: false when it was already used or has expired. */
  readonly useUpload: (id: string, userId: string) => Effect.Effect<boolean>
  readonly setAvatar: (userId: string, variants: Record<string, string>, pendingKey: string) => Effect.Effect<boolean>
  readonly setAvatarPending: (userId: string, key: string) => Effect.Effect<Option.Option<string>>
  readonly avatarPending: (userId: string) => Effect.Effect<Option.Option<string>>
}>() {}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const columns = sql`
    p.id::text, p.author_id::text, p.status, p.caption, p.alt_text, p.location, p.original_key, p.original_type,
    p.original_bytes::text, p.width, p.height, p.variants, p.placeholder, p.dominant_color, p.like_count,
    p.comment_count, p.failure, p.created_at, p.published_at,
    ARRAY(SELECT tag FROM hashtags h WHERE h.post_id = p.id ORDER BY tag) AS hashtags,
    ARRAY(SELECT u.username FROM mentions m JOIN users u ON u.id = m.user_id WHERE m.post_id = p.id ORDER BY u.username) AS mentions,
    ${sql.literal(mediaColumn)}`

  return PostsRepo.of({
    insert: (p) =>
      Effect.gen(function*() {
        const photos: ReadonlyArray<NewPhoto> = p.media ?? [p as NewPhoto]
        const first = photos[0]!
        yield* sql`
          INSERT INTO posts (id, author_id, status, caption, alt_text, location, original_key, original_type, original_bytes)
          VALUES (${p.id}, ${p.authorId}, 'processing', ${p.caption}, ${first.altText}, ${p.location}, ${first.originalKey},
                  ${first.originalType}, ${first.originalBytes})`
        yield* sql`INSERT INTO post_media ${
          sql.insert(photos.map((m, position) => ({
            post_id: p.id,
            position,
            alt_text: m.altText,
            original_key: m.originalKey,
            original_type: m.originalType,
            original_bytes: m.originalBytes
          })))
        }`
        if (p.hashtags.length > 0) {
          yield* sql`INSERT INTO hashtags ${sql.insert(p.hashtags.map((tag) => ({ post_id: p.id, tag })))} ON CONFLICT DO NOTHING`
        }
        if (p.mentions.length > 0) {
          yield* sql`
            INSERT INTO mentions (post_id, user_id)
            SELECT ${p.id}, id FROM users WHERE username IN ${sql.in(p.mentions)}
            ON CONFLICT DO NOTHING`
        }
        yield* sql`UPDATE users SET post_count = post_count + 1 WHERE id = ${p.authorId}`
      }).pipe(Effect.orDie),
    updateText: (id, authorId, text) =>
      Effect.gen(function*() {
        // the first photo's alt text lives in both places: `altTexts[0]` wins over `altText`
        const altTexts = [...(text.altTexts ?? [])]
        if (altTexts.length === 0 && text.altText !== undefined) altTexts.push(text.altText)
        const firstAlt = altTexts[0]
        const rows = yield* sql<{ id: string }>`
          UPDATE posts SET
            caption = ${text.caption === undefined ? sql`caption` : sql`${text.caption.text}`},
            alt_text = ${firstAlt === undefined ? sql`alt_text` : sql`${firstAlt}`}
          WHERE id = ${id} AND author_id = ${authorId} AND status <> 'failed'
          RETURNING id::text`
        if (rows.length === 0) return false
        for (const [position, alt] of altTexts.entries()) {
          yield* sql`UPDATE post_media SET alt_text = ${alt} WHERE post_id = ${id} AND position = ${position}`
        }
        if (text.caption !== undefined) {
          yield* sql`DELETE FROM hashtags WHERE post_id = ${id}`
          yield* sql`DELETE FROM mentions WHERE post_id = ${id}`
          if (text.caption.hashtags.length > 0) {
            yield* sql`INSERT INTO hashtags ${sql.insert(text.caption.hashtags.map((tag) => ({ post_id: id, tag })))} ON CONFLICT DO NOTHING`
          }
          if (text.caption.mentions.length > 0) {
            yield* sql`
              INSERT INTO mentions (post_id, user_id)
              SELECT ${id}, id FROM users WHERE username IN ${sql.in(text.caption.mentions)}
              ON CONFLICT DO NOTHING`
          }
        }
        return true
      }).pipe(Effect.orDie),
    byId: (id) => sql<PostRow>`SELECT ${columns} FROM posts p WHERE p.id = ${id}`.pipe(Effect.map((r) => Option.fromNullable(r[0])), Effect.orDie),
    audience: (id) =>
      sql<{ restricted: boolean }>`
        SELECT u.is_private AS restricted FROM posts p JOIN users u ON u.id = p.author_id
        WHERE p.id = ${id} AND p.status = 'published'`.pipe(Effect.map((r) => Option.fromNullable(r[0])), Effect.orDie),
    grid: (authorId, after, limit) =>
      sql<PostRow>`
        SELECT ${columns} FROM posts p
        WHERE p.author_id = ${authorId} AND p.status = 'published'
          AND ${Option.match(after, { onNone: () => sql`true`, onSome: (k) => sql`(p.created_at, p.id) < (${k.at}, ${k.id}::uuid)` })}
        ORDER BY p.created_at DESC, p.id DESC
        LIMIT ${limit}`.pipe(Effect.orDie),
    publish: (id, results) =>
      Effect.gen(function*() {
        const r = results[0]!
        const rows = yield* sql`
          UPDATE posts SET status = 'published', width = ${r.width}, height = ${r.height},
            variants = ${JSON.stringify(r.variants)}::jsonb, placeholder = ${r.placeholder},
            dominant_color = ${r.dominantColor}, published_at = date_trunc('milliseconds', now()), failure = NULL
          WHERE id = ${id} AND status = 'processing'
          RETURNING id`
        if (rows.length === 0) return false
        for (const [position, m] of results.entries()) {
          yield* sql`
            UPDATE post_media SET status = 'ready', width = ${m.width}, height = ${m.height},
              variants = ${JSON.stringify(m.variants)}::jsonb, placeholder = ${m.placeholder}, dominant_color = ${m.dominantColor}
            WHERE post_id = ${id} AND position = ${position}`
        }
        return true
      }).pipe(Effect.orDie),
    fail: (id, reason) =>
      sql`UPDATE posts SET status = 'failed', failure = ${reason} WHERE id = ${id} AND status = 'processing' RETURNING id`.pipe(
        Effect.map((rows) => rows.length > 0),
        Effect.orDie
      ),
    requeue: (id) =>
      sql`UPDATE posts SET status = 'processing', failure = NULL WHERE id = ${id} AND status = 'failed' RETURNING id`.pipe(
        Effect.map((rows) => rows.length > 0),
        Effect.orDie
      ),
    stuck: (olderThanSeconds) =>
      sql<{ id: string; originalKey: string }>`
        SELECT id::text, original_key FROM posts
        WHERE status = 'processing' AND created_at < now() - make_interval(secs => ${olderThanSeconds})
        ORDER BY created_at LIMIT 100`.pipe(Effect.orDie),
    countAttempt: (id) => sql`UPDATE posts SET attempts = attempts + 1 WHERE id = ${id}`.pipe(Effect.asVoid, Effect.orDie),
    remove: (id, authorId) =>
      Effect.gen(function*() {
        const before = yield* sql<PostRow>`SELECT ${columns} FROM posts p WHERE p.id = ${id} AND p.author_id = ${authorId} FOR UPDATE`
        if (before.length === 0) return Option.none()
        yield* sql`DELETE FROM posts WHERE id = ${id}`
        yield* sql`UPDATE users SET post_count = post_count - 1 WHERE id = ${authorId} AND post_count > 0`
        return Option.some(before[0]!)
      }).pipe(Effect.orDie),
    insertUpload: (u) =>
      sql<UploadRow>`
        INSERT INTO uploads (id, user_id, object_key, max_bytes, expires_at)
        VALUES (${u.id}, ${u.userId}, ${u.objectKey}, ${u.maxBytes}, now() + make_interval(secs => ${u.ttlSeconds}))
        RETURNING id::text, user_id::text, object_key, max_bytes::text, expires_at, used_at`.pipe(
        Effect.map((rows) => rows[0]!),
        Effect.orDie
      ),
    upload: (id) =>
      sql<UploadRow>`SELECT id::text, user_id::text, object_key, max_bytes::text, expires_at, used_at FROM uploads WHERE id = ${id}`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.orDie
      ),
    useUpload: (id, userId) =>
      sql`
        UPDATE uploads SET used_at = now()
        WHERE id = ${id} AND user_id = ${userId} AND used_at IS NULL AND expires_at > now()
        RETURNING id`.pipe(Effect.map((rows) => rows.length > 0), Effect.orDie),
    setAvatar: (userId, variants, pendingKey) =>
      sql`
        UPDATE users SET avatar = ${JSON.stringify(variants)}::jsonb, avatar_pending = NULL
        WHERE id = ${userId} AND avatar_pending = ${pendingKey}
        RETURNING id`.pipe(Effect.map((rows) => rows.length > 0), Effect.orDie),
    setAvatarPending: (userId, key) =>
      sql<{ previous: string | null }>`
        UPDATE users u SET avatar_pending = ${key} FROM (SELECT avatar_pending AS previous FROM users WHERE id = ${userId} FOR NO KEY UPDATE) old
        WHERE u.id = ${userId} RETURNING old.previous`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0]?.previous)),
        Effect.orDie
      ),
    avatarPending: (userId) =>
      sql<{ key: string | null }>`SELECT avatar_pending AS key FROM users WHERE id = ${userId}`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0]?.key)),
        Effect.orDie
      )
  })
})

export const layer = Layer.effect(PostsRepo, make)
