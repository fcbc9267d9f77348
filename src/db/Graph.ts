/**
 * The social graph: follows, follow requests and blocks. Every change of an edge changes its
 * counters in the same statement (data-modifying CTEs), so counts are exact under any concurrency:
 * a duplicate insert or a delete of a missing edge changes nothing, and row locks serialise the rest.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"

export interface Relation {
  readonly isFollowing: boolean
  readonly followsYou: boolean
  readonly requested: boolean
  readonly blockedByViewer: boolean
  readonly blockedByTarget: boolean
  /** The viewer mutes the target (their posts and stories are left out of the viewer's feed and tray). */
  readonly muted: boolean
}

export interface CardRow {
  readonly id: string
  readonly username: string
  readonly displayName: string
  readonly avatar: unknown
  readonly isPrivate: boolean
}

export interface ListRow extends CardRow {
  readonly isFollowing: boolean
  readonly cursorAt: Date
}

export interface RequestRow extends CardRow {
  readonly requestId: string
  readonly createdAt: Date
}

export interface Keyset {
  readonly at: Date
  readonly id: string
}

export class GraphRepo extends Context.Tag("GraphRepo")<GraphRepo, {
  readonly relation: (viewerId: string, targetId: string) => Effect.Effect<Relation>
  readonly blockedEitherWay: (a: string, b: string) => Effect.Effect<boolean>
  /** Everyone `userId` blocked or was blocked by. */
  readonly blockedIds: (userId: string) => Effect.Effect<ReadonlyArray<string>>
  /** True when the edge is new. */
  readonly follow: (followerId: string, followeeId: string) => Effect.Effect<boolean>
  /** True when an edge was removed. */
  readonly unfollow: (followerId: string, followeeId: string) => Effect.Effect<boolean>
  /** The request's id and whether it is new. */
  readonly request: (requesterId: string, targetId: string) => Effect.Effect<{ readonly id: string; readonly created: boolean }>
  readonly cancelRequest: (requesterId: string, targetId: string) => Effect.Effect<boolean>
  /** Removes a request addressed to `targetId`; its requester when it existed. */
  readonly takeRequest: (requestId: string, targetId: string) => Effect.Effect<Option.Option<string>>
  /** Turns every pending request to `targetId` into a follow; the approved requesters and their requests. */
  readonly approveAll: (targetId: string) => Effect.Effect<ReadonlyArray<{ readonly followerId: string; readonly requestId: string }>>
  readonly requests: (targetId: string, after: Option.Option<Keyset>, limit: number) => Effect.Effect<ReadonlyArray<RequestRow>>
  /** Blocks and removes follows and requests both ways; the follow edges removed. */
  readonly block: (blockerId: string, blockedId: string) => Effect.Effect<{ readonly created: boolean }>
  readonly unblock: (blockerId: string, blockedId: string) => Effect.Effect<boolean>
  readonly blocked: (blockerId: string, after: Option.Option<Keyset>, limit: number) => Effect.Effect<ReadonlyArray<ListRow>>
  readonly followers: (
    userId: string,
    viewerId: string | null,
    after: Option.Option<Keyset>,
    limit: number
  ) => Effect.Effect<ReadonlyArray<ListRow>>
  readonly following: (
    userId: string,
    viewerId: string | null,
    after: Option.Option<Keyset>,
    limit: number
  ) => Effect.Effect<ReadonlyArray<ListRow>>
  readonly search: (q: string, viewerId: string | null, limit: number) => Effect.Effect<ReadonlyArray<ListRow>>
}>() {}

const NIL = "00000000-0000-0000-0000-000000000000"

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const card = sql`u.id::text, u.username, u.display_name, u.avatar, u.is_private`
  // rows the viewer must not see: anyone blocking them or blocked by them
  const notBlocked = (viewerId: string | null, column: string) =>
    sql`NOT EXISTS (
      SELECT 1 FROM blocks b
      WHERE (b.blocker_id = ${viewerId ?? NIL} AND b.blocked_id = ${sql(column)})
         OR (b.blocked_id = ${viewerId ?? NIL} AND b.blocker_id = ${sql(column)}))`
  const keyset = (after: Option.Option<Keyset>, at: string, id: string) =>
    Option.match(after, {
      onNone: () => sql`true`,
      onSome: (k) => sql`(${sql(at)}, ${sql(id)}) < (${k.at}, ${k.id}::uuid)`
    })

  const list = (edge: "followers" | "following") =>
  (userId: string, viewerId: string | null, after: Option.Option<Keyset>, limit: number) => {
    const [match, other] = edge === "followers" ? ["followee_id", "follower_id"] : ["follower_id", "followee_id"]
    return sql<ListRow>`
      SELECT ${card}, (vf.follower_id IS NOT NULL) AS is_following, f.created_at AS cursor_at
      FROM follows f
      JOIN users u ON u.id = f.${sql(other)}
      LEFT JOIN follows vf ON vf.follower_id = ${viewerId ?? NIL} AND vf.followee_id = u.id
      WHERE f.${sql(match)} = ${userId}
        AND ${notBlocked(viewerId, "u.id")}
        AND ${keyset(after, "f.created_at", `f.${other}`)}
      ORDER BY f.created_at DESC, f.${sql(other)} DESC
      LIMIT ${limit}`.pipe(Effect.orDie)
  }

  return GraphRepo.of({
    relation: (viewerId, targetId) =>
      sql<Relation>`
        SELECT
          EXISTS (SELECT 1 FROM follows WHERE follower_id = ${viewerId} AND followee_id = ${targetId}) AS is_following,
          EXISTS (SELECT 1 FROM follows WHERE follower_id = ${targetId} AND followee_id = ${viewerId}) AS follows_you,
          EXISTS (SELECT 1 FROM follow_requests WHERE requester_id = ${viewerId} AND target_id = ${targetId}) AS requested,
          EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ${viewerId} AND blocked_id = ${targetId}) AS blocked_by_viewer,
          EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ${targetId} AND blocked_id = ${viewerId}) AS blocked_by_target,
          EXISTS (SELECT 1 FROM mutes WHERE muter_id = ${viewerId} AND muted_id = ${targetId}) AS muted`.pipe(
        Effect.map((rows) => rows[0]!),
        Effect.orDie
      ),
    blockedIds: (userId) =>
      sql<{ id: string }>`
        SELECT blocked_id::text AS id FROM blocks WHERE blocker_id = ${userId}
        UNION SELECT blocker_id::text FROM blocks WHERE blocked_id = ${userId}`.pipe(
        Effect.map((rows) => rows.map((r) => r.id)),
        Effect.orDie
      ),
    blockedEitherWay: (a, b) =>
      sql<{ blocked: boolean }>`
        SELECT EXISTS (
          SELECT 1 FROM blocks WHERE (blocker_id = ${a} AND blocked_id = ${b}) OR (blocker_id = ${b} AND blocked_id = ${a})
        ) AS blocked`.pipe(Effect.map((rows) => rows[0]!.blocked), Effect.orDie),
    follow: (followerId, followeeId) =>
      sql<{ n: number }>`
        WITH ins AS (
          INSERT INTO follows (follower_id, followee_id) VALUES (${followerId}, ${followeeId})
          ON CONFLICT DO NOTHING RETURNING 1
        ), a AS (
          UPDATE users SET following_count = following_count + 1 WHERE id = ${followerId} AND EXISTS (SELECT 1 FROM ins)
        ), b AS (
          UPDATE users SET follower_count = follower_count + 1 WHERE id = ${followeeId} AND EXISTS (SELECT 1 FROM ins)
        )
        SELECT count(*)::int AS n FROM ins`.pipe(Effect.map((rows) => rows[0]!.n > 0), Effect.orDie),
    unfollow: (followerId, followeeId) =>
      sql<{ n: number }>`
        WITH del AS (
          DELETE FROM follows WHERE follower_id = ${followerId} AND followee_id = ${followeeId} RETURNING 1
        ), a AS (
          UPDATE users SET following_count = following_count - 1 WHERE id = ${followerId} AND EXISTS (SELECT 1 FROM del)
        ), b AS (
          UPDATE users SET follower_count = follower_count - 1 WHERE id = ${followeeId} AND EXISTS (SELECT 1 FROM del)
        )
        SELECT count(*)::int AS n FROM del`.pipe(Effect.map((rows) => rows[0]!.n > 0), Effect.orDie),
    request: (requesterId, targetId) =>
      sql<{ id: string; created: boolean }>`
        WITH ins AS (
          INSERT INTO follow_requests (requester_id, target_id) VALUES (${requesterId}, ${targetId})
          ON CONFLICT DO NOTHING RETURNING id
        )
        SELECT id::text, true AS created FROM ins
        UNION ALL
        SELECT id::text, false AS created FROM follow_requests
        WHERE requester_id = ${requesterId} AND target_id = ${targetId} AND NOT EXISTS (SELECT 1 FROM ins)`.pipe(
        Effect.map((rows) => rows[0]!),
        Effect.orDie
      ),
    cancelRequest: (requesterId, targetId) =>
      sql<{ n: number }>`
        WITH del AS (DELETE FROM follow_requests WHERE requester_id = ${requesterId} AND target_id = ${targetId} RETURNING 1)
        SELECT count(*)::int AS n FROM del`.pipe(Effect.map((rows) => rows[0]!.n > 0), Effect.orDie),
    takeRequest: (requestId, targetId) =>
      sql<{ requesterId: string }>`
        DELETE FROM follow_requests WHERE id = ${requestId} AND target_id = ${targetId}
        RETURNING requester_id::text`.pipe(Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), (r) => r.requesterId)), Effect.orDie),
    approveAll: (targetId) =>
      sql<{ followerId: string; requestId: string }>`
        WITH del AS (
          DELETE FROM follow_requests WHERE target_id = ${targetId} RETURNING id, requester_id
        ), ins AS (
          INSERT INTO follows (follower_id, followee_id) SELECT requester_id, ${targetId} FROM del
          ON CONFLICT DO NOTHING RETURNING follower_id
        ), t AS (
          UPDATE users SET follower_count = follower_count + (SELECT count(*) FROM ins) WHERE id = ${targetId}
        ), f AS (
          UPDATE users SET following_count = following_count + 1 WHERE id IN (SELECT follower_id FROM ins)
        )
        SELECT ins.follower_id::text, del.id::text AS request_id FROM ins JOIN del ON del.requester_id = ins.follower_id`.pipe(Effect.orDie),
    requests: (targetId, after, limit) =>
      sql<RequestRow>`
        SELECT ${card}, r.id::text AS request_id, r.created_at
        FROM follow_requests r JOIN users u ON u.id = r.requester_id
        WHERE r.target_id = ${targetId} AND ${keyset(after, "r.created_at", "r.id")}
        ORDER BY r.created_at DESC, r.id DESC
        LIMIT ${limit}`.pipe(Effect.orDie),
    block: (blockerId, blockedId) =>
      sql<{ created: boolean }>`
        WITH ins AS (
          INSERT INTO blocks (blocker_id, blocked_id) VALUES (${blockerId}, ${blockedId})
          ON CONFLICT DO NOTHING RETURNING 1
        ), gone AS (
          DELETE FROM follows
          WHERE (follower_id = ${blockerId} AND followee_id = ${blockedId})
             OR (follower_id = ${blockedId} AND followee_id = ${blockerId})
          RETURNING follower_id, followee_id
        ), dec_following AS (
          UPDATE users u SET following_count = following_count - 1
          FROM gone WHERE u.id = gone.follower_id
        ), dec_followers AS (
          UPDATE users u SET follower_count = follower_count - 1
          FROM gone WHERE u.id = gone.followee_id
        ), req AS (
          DELETE FROM follow_requests
          WHERE (requester_id = ${blockerId} AND target_id = ${blockedId})
             OR (requester_id = ${blockedId} AND target_id = ${blockerId})
        )
        SELECT EXISTS (SELECT 1 FROM ins) AS created`.pipe(Effect.map((rows) => rows[0]!), Effect.orDie),
    unblock: (blockerId, blockedId) =>
      sql<{ n: number }>`
        WITH del AS (DELETE FROM blocks WHERE blocker_id = ${blockerId} AND blocked_id = ${blockedId} RETURNING 1)
        SELECT count(*)::int AS n FROM del`.pipe(Effect.map((rows) => rows[0]!.n > 0), Effect.orDie),
    blocked: (blockerId, after, limit) =>
      sql<ListRow>`
        SELECT ${card}, false AS is_following, b.created_at AS cursor_at
        FROM blocks b JOIN users u ON u.id = b.blocked_id
        WHERE b.blocker_id = ${blockerId} AND ${keyset(after, "b.created_at", "b.blocked_id")}
        ORDER BY b.created_at DESC, b.blocked_id DESC
        LIMIT ${limit}`.pipe(Effect.orDie),
    followers: list("followers"),
    following: list("following"),
    search: (q, viewerId, limit) =>
      Effect.gen(function*() {
        // phase 1: exact and prefix matches, straight from the btree indexes. A prefix is written as
        // a byte range rather than LIKE $1: a prepared statement's generic plan cannot use the
        // index for LIKE with a parameter, and fell back to scanning every user (~90 ms at 100k)
        const [lo, hi] = prefixRange(q)
        const prefix = yield* sql<ListRow & { tier: number }>`
          SELECT ${card}, (vf.follower_id IS NOT NULL) AS is_following, u.created_at AS cursor_at,
                 CASE WHEN u.username = ${q} THEN 0 ELSE 1 END AS tier
          FROM users u
          LEFT JOIN follows vf ON vf.follower_id = ${viewerId ?? NIL} AND vf.followee_id = u.id
          WHERE ((u.username ~>=~ ${lo} AND u.username ~<~ ${hi})
              OR (lower(u.display_name) ~>=~ ${lo} AND lower(u.display_name) ~<~ ${hi}))
            AND ${notBlocked(viewerId, "u.id")}
          ORDER BY tier, (vf.follower_id IS NOT NULL) DESC, u.username
          LIMIT ${limit}`.pipe(Effect.orDie)
        // a term under 3 characters has no trigram worth matching: prefixes are all it can mean
        if (prefix.length >= limit || q.length < 3) return prefix
        // phase 2: similar names, nearest first through the GiST indexes, only to fill the page
        const seen = prefix.map((r) => r.id)
        const similar = yield* sql<ListRow>`
          WITH near AS (
            (SELECT id, (username || '') <-> ${q} AS d FROM users ORDER BY (username || '') <-> ${q} LIMIT ${limit * 3})
            UNION ALL
            (SELECT id, lower(display_name) <-> ${q} AS d FROM users ORDER BY lower(display_name) <-> ${q} LIMIT ${limit * 3})
          ), best AS (
            SELECT id, min(d) AS d FROM near GROUP BY id
          )
          SELECT ${card}, (vf.follower_id IS NOT NULL) AS is_following, u.created_at AS cursor_at
          FROM best JOIN users u ON u.id = best.id
          LEFT JOIN follows vf ON vf.follower_id = ${viewerId ?? NIL} AND vf.followee_id = u.id
          WHERE best.d < 0.7 AND ${notBlocked(viewerId, "u.id")}
            ${seen.length > 0 ? sql`AND u.id NOT IN ${sql.in(seen)}` : sql``}
          ORDER BY (vf.follower_id IS NOT NULL) DESC, best.d, u.username
          LIMIT ${limit - prefix.length}`.pipe(Effect.orDie)
        return [...prefix, ...similar]
      })
  })
})

/** The byte range of strings starting with `q` (for text_pattern_ops comparisons). */
const prefixRange = (q: string): [string, string] => {
  const last = q.codePointAt(q.length - 1)!
  return [q, q.slice(0, q.length - String.fromCodePoint(last).length) + String.fromCodePoint(last + 1)]
}

export const layer = Layer.effect(GraphRepo, make)
