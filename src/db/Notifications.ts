/** Notifications and their sources (see migration 0007 for the model). */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"
import type { CardRow, Keyset } from "./Graph.ts"

export interface NotificationRow {
  readonly id: string
  readonly kind: string
  readonly postId: string | null
  readonly userId: string
  readonly thumbnail: string | null
  /** The post's author is private now (its thumbnail goes out signed, or not at all). */
  readonly postRestricted: boolean | null
  /** The recipient is the post's author or follows them now. */
  readonly postFollowed: boolean | null
  readonly text: string | null
  readonly read: boolean
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly actorCount: number
  /** Newest first, at most three. */
  readonly actorIds: ReadonlyArray<string>
}

export interface NewSource {
  readonly userId: string
  readonly kind: string
  readonly groupKey: string
  readonly postId: string | null
  readonly text: string | null
  readonly source: string
  readonly actorId: string
}

export class NotificationsRepo extends Context.Tag("NotificationsRepo")<NotificationsRepo, {
  /** Adds a source to the user's open group (opening one if needed); none when the source was already recorded. */
  readonly add: (s: NewSource) => Effect.Effect<Option.Option<string>>
  /** Removes sources by key or key prefix; the notifications left without sources go too. Their users. */
  readonly removeSources: (keyOrPrefix: { readonly key: string } | { readonly prefix: string }) => Effect.Effect<ReadonlyArray<string>>
  /** Removes what `a` caused for `b` and `b` for `a` (a block). */
  readonly removeBetween: (a: string, b: string) => Effect.Effect<void>
  /** Removes the mentions made in `blockedId`'s comments on `blockerId`'s posts (hidden by the block) from everyone. */
  readonly removeHiddenMentions: (blockerId: string, blockedId: string) => Effect.Effect<void>
  readonly byId: (id: string) => Effect.Effect<Option.Option<NotificationRow>>
  readonly page: (userId: string, after: Option.Option<Keyset>, limit: number) => Effect.Effect<ReadonlyArray<NotificationRow>>
  readonly unreadCount: (userId: string) => Effect.Effect<number>
  /** A page and the unread count read from one snapshot: the count never disagrees with the items. */
  readonly pageWithUnread: (userId: string, after: Option.Option<Keyset>, limit: number) => Effect.Effect<{ readonly rows: ReadonlyArray<NotificationRow>; readonly unreadCount: number }>
  readonly markRead: (userId: string, ids: ReadonlyArray<string> | undefined) => Effect.Effect<void>
  readonly cards: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<CardRow>>
}>() {}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const columns = sql`
    n.id::text, n.user_id::text, n.kind, n.post_id::text, p.variants->>'thumbnail' AS thumbnail,
    (SELECT u.is_private FROM users u WHERE u.id = p.author_id) AS post_restricted,
    (p.author_id = n.user_id OR EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = n.user_id AND f.followee_id = p.author_id)) AS post_followed,
    n.text, n.read, n.created_at, n.updated_at,
    (SELECT count(DISTINCT s.actor_id)::int FROM notification_sources s WHERE s.notification_id = n.id) AS actor_count,
    ARRAY(SELECT s.actor_id::text FROM notification_sources s WHERE s.notification_id = n.id
          GROUP BY s.actor_id ORDER BY max(s.created_at) DESC LIMIT 3) AS actor_ids`

  const page = (userId: string, after: Option.Option<Keyset>, limit: number) =>
    sql<NotificationRow>`
      SELECT ${columns} FROM notifications n LEFT JOIN posts p ON p.id = n.post_id
      WHERE n.user_id = ${userId}
        AND ${Option.match(after, { onNone: () => sql`true`, onSome: (k) => sql`(n.updated_at, n.id) < (${k.at}, ${k.id}::uuid)` })}
      ORDER BY n.updated_at DESC, n.id DESC
      LIMIT ${limit}`

  const unreadCount = (userId: string) =>
    sql<{ n: number }>`SELECT count(*)::int AS n FROM notifications WHERE user_id = ${userId} AND NOT read`.pipe(
      Effect.map((rows) => rows[0]!.n)
    )

  const dropEmpty = (ids: ReadonlyArray<string>) =>
    ids.length === 0
      ? Effect.succeed([] as ReadonlyArray<string>)
      : sql<{ userId: string }>`
        DELETE FROM notifications n WHERE n.id IN ${sql.in(ids)}
          AND NOT EXISTS (SELECT 1 FROM notification_sources s WHERE s.notification_id = n.id)
        RETURNING n.user_id::text`.pipe(Effect.map((rows) => rows.map((r) => r.userId)))

  return NotificationsRepo.of({
    add: (s) =>
      sql.withTransaction(Effect.gen(function*() {
        const seen = yield* sql`SELECT 1 FROM notification_sources WHERE source = ${s.source}`
        if (seen.length > 0) return Option.none<string>()
        const [group] = yield* sql<{ id: string }>`
          INSERT INTO notifications (id, user_id, kind, group_key, post_id, text)
          VALUES (${crypto.randomUUID()}, ${s.userId}, ${s.kind}, ${s.groupKey}, ${s.postId}, ${s.text})
          ON CONFLICT (user_id, group_key) WHERE NOT read
          DO UPDATE SET updated_at = date_trunc('milliseconds', now()), text = COALESCE(EXCLUDED.text, notifications.text)
          RETURNING id::text`
        yield* sql`
          INSERT INTO notification_sources (source, notification_id, actor_id) VALUES (${s.source}, ${group!.id}, ${s.actorId})
          ON CONFLICT DO NOTHING`
        return Option.some(group!.id)
      })).pipe(Effect.orDie),
    removeSources: (which) =>
      sql.withTransaction(Effect.gen(function*() {
        const removed = yield* ("key" in which
          ? sql<{ id: string }>`DELETE FROM notification_sources WHERE source = ${which.key} RETURNING notification_id::text AS id`
          : sql<{ id: string }>`
            DELETE FROM notification_sources WHERE source >= ${which.prefix} AND source < ${which.prefix + "\uffff"}
            RETURNING notification_id::text AS id`)
        const ids = [...new Set(removed.map((r) => r.id))]
        const emptied = yield* dropEmpty(ids)
        const touched = ids.length === 0 ? [] : yield* sql<{ userId: string }>`SELECT DISTINCT user_id::text FROM notifications WHERE id IN ${sql.in(ids)}`
        return [...new Set([...emptied, ...touched.map((r) => r.userId)])]
      })).pipe(Effect.orDie),
    removeBetween: (a, b) =>
      sql.withTransaction(Effect.gen(function*() {
        const removed = yield* sql<{ id: string }>`
          DELETE FROM notification_sources s USING notifications n
          WHERE s.notification_id = n.id AND ((n.user_id = ${a} AND s.actor_id = ${b}) OR (n.user_id = ${b} AND s.actor_id = ${a}))
          RETURNING n.id::text`
        yield* dropEmpty([...new Set(removed.map((r) => r.id))])
      })).pipe(Effect.orDie),
    removeHiddenMentions: (blockerId, blockedId) =>
      sql.withTransaction(Effect.gen(function*() {
        // a mention's source is `comment:<id>:mention:<userId>`: one key range per comment (';' follows ':')
        const removed = yield* sql<{ id: string }>`
          DELETE FROM notification_sources s
          USING comments c JOIN posts p ON p.id = c.post_id
          WHERE c.author_id = ${blockedId} AND p.author_id = ${blockerId}
            AND s.source >= ('comment:' || c.id::text || ':mention:') COLLATE "C"
            AND s.source < ('comment:' || c.id::text || ':mention;') COLLATE "C"
          RETURNING s.notification_id::text AS id`
        yield* dropEmpty([...new Set(removed.map((r) => r.id))])
      })).pipe(Effect.orDie),
    byId: (id) =>
      sql<NotificationRow>`SELECT ${columns} FROM notifications n LEFT JOIN posts p ON p.id = n.post_id WHERE n.id = ${id}`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.orDie
      ),
    page: (userId, after, limit) => page(userId, after, limit).pipe(Effect.orDie),
    unreadCount: (userId) => unreadCount(userId).pipe(Effect.orDie),
    pageWithUnread: (userId, after, limit) =>
      sql.withTransaction(Effect.gen(function*() {
        // read committed would let a notification added between the two reads be counted but not shown
        yield* sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`
        const rows = yield* page(userId, after, limit)
        return { rows, unreadCount: yield* unreadCount(userId) }
      })).pipe(Effect.orDie),
    markRead: (userId, ids) => {
      if (ids !== undefined && ids.length === 0) return Effect.void
      const only = ids === undefined ? sql`true` : sql`id IN ${sql.in(ids)}`
      return sql`UPDATE notifications SET read = true WHERE user_id = ${userId} AND NOT read AND ${only}`.pipe(Effect.asVoid, Effect.orDie)
    },
    cards: (ids) =>
      ids.length === 0
        ? Effect.succeed([])
        : sql<CardRow>`SELECT id::text, username, display_name, avatar, is_private FROM users WHERE id IN ${sql.in(ids)}`.pipe(Effect.orDie)
  })
})

export const layer = Layer.effect(NotificationsRepo, make)
