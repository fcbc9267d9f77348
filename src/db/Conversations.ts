/**
 * Conversations, members, messages and reactions (see migration 0012 for the model). The writes
 * are the conversation actor's, each inside its fenced transaction; the reads serve the DM
 * use-cases straight from PostgreSQL. Unread counts are computed here from sequences and read
 * pointers — never stored, so never drifting.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"
import { userCardOf } from "../domain/Accounts.ts"
import {
  Conversation,
  ConversationMember,
  Message,
  MessagePhoto,
  MessagePreview,
  Reaction,
  ReplyPreview,
  StoryQuote,
  SharedPost
} from "../domain/Conversations.ts"
import { Variants } from "../domain/Posts.ts"
import type { CardRow, Keyset } from "./Graph.ts"

export interface MemberRow {
  readonly userId: string
  readonly role: "admin" | "member"
  readonly status: "accepted" | "request" | "declined"
  readonly joinedSeq: number
  readonly leftSeq: number | null
  readonly readSeq: number
  readonly muted: boolean
}

export interface ConversationState {
  readonly id: string
  readonly kind: "direct" | "group"
  readonly title: string | null
  readonly lastSeq: number
  readonly members: ReadonlyArray<MemberRow>
}

/** A thread as one member sees it. */
export interface ConversationRow {
  readonly id: string
  readonly kind: "direct" | "group"
  readonly title: string | null
  readonly lastSeq: number
  readonly lastActivityAt: Date
  readonly role: "admin" | "member"
  readonly status: "accepted" | "request" | "declined"
  readonly readSeq: number
  readonly joinedSeq: number
  readonly muted: boolean
  readonly unreadCount: number
  /** Current members, in joining order: `{user: CardRow, role, readSeq}`. */
  readonly members: ReadonlyArray<{ readonly user: CardRow; readonly role: "admin" | "member"; readonly readSeq: number }>
  readonly lastMessage: {
    readonly seq: number
    readonly sender: CardRow
    readonly kind: "text" | "post" | "photo"
    readonly text: string | null
    readonly deleted: boolean
    readonly createdAt: string
  } | null
}

export interface MessageRow {
  readonly conversationId: string
  readonly seq: number
  readonly senderId: string
  readonly clientId: string
  readonly kind: "text" | "post" | "photo"
  readonly text: string | null
  readonly createdAt: Date
  readonly deletedAt: Date | null
  readonly sender: CardRow
  readonly postId: string | null
  readonly postVisible: boolean
  readonly postCaption: string | null
  readonly postThumbnail: string | null
  readonly postAuthor: CardRow | null
  readonly mediaStatus: "processing" | "ready" | "failed" | null
  readonly mediaVariants: Record<string, string> | null
  readonly mediaPlaceholder: string | null
  readonly mediaWidth: number | null
  readonly mediaHeight: number | null
  readonly replyTo: { readonly seq: number; readonly sender: CardRow; readonly text: string | null; readonly deleted: boolean } | null
  readonly storyId: string | null
  readonly storyKind: "reply" | "reaction" | null
  readonly storyAvailable: boolean
  readonly storyThumbnail: string | null
  readonly reactions: ReadonlyArray<{ readonly emoji: string; readonly user: CardRow }>
}

export type MessageRange =
  | { readonly _tag: "Latest" }
  | { readonly _tag: "Before"; readonly seq: number }
  | { readonly _tag: "After"; readonly seq: number }
  | { readonly _tag: "Seqs"; readonly seqs: ReadonlyArray<number> }

export interface NewMessageRow {
  readonly conversationId: string
  readonly senderId: string
  readonly clientId: string
  readonly kind: "text" | "post" | "photo"
  readonly text: string | null
  readonly postId: string | null
  readonly mediaId: string | null
  readonly replyToSeq: number | null
  readonly storyId: string | null
  readonly storyKind: "reply" | "reaction" | null
  readonly at: Date
}

export interface NewMember {
  readonly userId: string
  readonly role: "admin" | "member"
  readonly status: "accepted" | "request"
}

export class ConversationsRepo extends Context.Tag("ConversationsRepo")<ConversationsRepo, {
  // ---- the actor's (inside its fenced transaction)
  readonly state: (conversationId: string) => Effect.Effect<Option.Option<ConversationState>>
  /** Inserts a message under the next sequence, unless the sender's client id is already there: that one's seq then. */
  readonly insertMessage: (m: NewMessageRow) => Effect.Effect<{
    readonly seq: number
    readonly existing: boolean
    /** The existing one was stored less than 100 s ago (inside JetStream's duplicate window). */
    readonly recent: boolean
  }>
  readonly bySenderClient: (conversationId: string, senderId: string, clientId: string) => Effect.Effect<Option.Option<number>>
  readonly message: (conversationId: string, seq: number) => Effect.Effect<Option.Option<{ readonly senderId: string; readonly createdAt: Date; readonly deleted: boolean }>>
  /** Moves the member's read pointer forward (never back, never past the thread); the pointer after. */
  readonly advanceRead: (conversationId: string, userId: string, seq: number) => Effect.Effect<number>
  readonly tombstone: (conversationId: string, seq: number, at: Date) => Effect.Effect<void>
  readonly setReaction: (conversationId: string, seq: number, userId: string, emoji: string | null) => Effect.Effect<void>
  readonly reaction: (conversationId: string, seq: number, userId: string) => Effect.Effect<string | null>
  readonly setTitle: (conversationId: string, title: string | null) => Effect.Effect<void>
  readonly setMuted: (conversationId: string, userId: string, muted: boolean) => Effect.Effect<void>
  readonly setStatus: (conversationId: string, userId: string, status: "accepted" | "request" | "declined") => Effect.Effect<void>
  readonly setRole: (conversationId: string, userId: string, role: "admin" | "member") => Effect.Effect<void>
  /** Adds (or brings back) members; they see history after `joinedSeq`. */
  readonly addMembers: (conversationId: string, members: ReadonlyArray<NewMember>, joinedSeq: number) => Effect.Effect<void>
  readonly removeMember: (conversationId: string, userId: string, leftSeq: number) => Effect.Effect<void>
  /** Whether `viewerId` may see the post now (published, public or followed, no block): what may be shared. */
  readonly postVisible: (postId: string, viewerId: string) => Effect.Effect<boolean>
  /** Which of `ids` follow `userId` (their threads with `userId` are not requests). */
  readonly followersAmong: (userId: string, ids: ReadonlyArray<string>) => Effect.Effect<ReadonlySet<string>>
  readonly mediaReady: (mediaId: string) => Effect.Effect<Option.Option<{ readonly conversationId: string; readonly uploaderId: string; readonly status: string }>>

  // ---- the use-cases'
  readonly findDirect: (directKey: string) => Effect.Effect<Option.Option<string>>
  readonly create: (c: {
    readonly id: string
    readonly kind: "direct" | "group"
    readonly title: string | null
    readonly directKey: string | null
    readonly createdBy: string
    readonly members: ReadonlyArray<NewMember>
  }) => Effect.Effect<boolean>
  readonly membership: (conversationId: string, userId: string) => Effect.Effect<Option.Option<MemberRow & { readonly kind: "direct" | "group" }>>
  /** The members who receive the thread's live traffic now (not left, not declined). */
  readonly activeMemberIds: (conversationId: string) => Effect.Effect<ReadonlyArray<string>>
  readonly list: (userId: string, status: "accepted" | "request", after: Option.Option<Keyset>, limit: number) => Effect.Effect<ReadonlyArray<ConversationRow>>
  readonly forMember: (conversationId: string, userId: string) => Effect.Effect<Option.Option<ConversationRow>>
  /**
   * The caller's access to a thread, as `forMember` decides it (a member, not declined, not hidden
   * by their block), without the view: no unread count, which counts the whole unread part of the
   * thread — a page read or a send needs only where the caller's history starts and ends.
   */
  readonly access: (conversationId: string, userId: string) => Effect.Effect<Option.Option<{ readonly joinedSeq: number; readonly lastSeq: number }>>
  readonly messages: (conversationId: string, viewerId: string, joinedSeq: number, range: MessageRange, limit: number) => Effect.Effect<ReadonlyArray<MessageRow>>
  readonly unread: (userId: string) => Effect.Effect<{ readonly unreadCount: number; readonly conversations: number; readonly requests: number }>
  readonly unreadIn: (conversationId: string, userId: string) => Effect.Effect<number>
  readonly createMedia: (m: { readonly id: string; readonly conversationId: string; readonly uploaderId: string; readonly originalKey: string }) => Effect.Effect<void>
  readonly media: (mediaId: string) => Effect.Effect<Option.Option<{ readonly conversationId: string; readonly uploaderId: string; readonly status: string; readonly originalKey: string }>>
  readonly finishMedia: (mediaId: string, result: { readonly variants: Record<string, string>; readonly placeholder: string | null; readonly width: number; readonly height: number } | null) => Effect.Effect<ReadonlyArray<{ readonly seq: number; readonly memberIds: ReadonlyArray<string> }>>
}>() {}

const card = (alias: string) =>
  `json_build_object('id', ${alias}.id, 'username', ${alias}.username, 'displayName', ${alias}.display_name, 'avatar', ${alias}.avatar, 'isPrivate', ${alias}.is_private)`

const num = (v: unknown) => Number(v)

const toMember = (m: any): MemberRow => ({
  userId: m.userId,
  role: m.role,
  status: m.status,
  joinedSeq: num(m.joinedSeq),
  leftSeq: m.leftSeq === null ? null : num(m.leftSeq),
  readSeq: num(m.readSeq),
  muted: m.muted
})

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const die = Effect.orDie

  /** The thread for one member: everything an inbox row shows, in one query. */
  const conversationSelect = (where: string) => `
    SELECT c.id::text, c.kind, c.title, c.last_seq, c.last_activity_at,
      me.role, me.status, me.read_seq, me.joined_seq, me.muted,
      (SELECT count(*) FROM messages m
        WHERE m.conversation_id = c.id AND m.seq > GREATEST(me.read_seq, me.joined_seq)
          AND m.sender_id <> me.user_id AND m.deleted_at IS NULL)::int AS unread_count,
      (SELECT json_agg(json_build_object('user', ${card("u")}, 'role', o.role, 'readSeq', o.read_seq) ORDER BY o.joined_at, o.user_id)
        FROM conversation_members o JOIN users u ON u.id = o.user_id
        WHERE o.conversation_id = c.id AND o.left_seq IS NULL AND o.status <> 'declined') AS members,
      (SELECT json_build_object('seq', m.seq, 'sender', ${card("s")}, 'kind', m.kind,
          'text', CASE WHEN m.deleted_at IS NULL THEN left(m.text, 200) END, 'deleted', m.deleted_at IS NOT NULL,
          'createdAt', to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
        FROM messages m JOIN users s ON s.id = m.sender_id
        WHERE m.conversation_id = c.id AND m.seq = c.last_seq AND m.seq > me.joined_seq) AS last_message
    FROM conversation_members me
    JOIN conversations c ON c.id = me.conversation_id
    WHERE ${where}
      AND me.left_seq IS NULL
      -- a block hides a 1:1 thread from the one who blocked
      AND NOT (c.kind = 'direct' AND EXISTS (
        SELECT 1 FROM conversation_members o JOIN blocks b ON b.blocker_id = me.user_id AND b.blocked_id = o.user_id
        WHERE o.conversation_id = c.id AND o.user_id <> me.user_id))`

  const toConversation = (r: any): ConversationRow => ({
    id: r.id,
    kind: r.kind,
    title: r.title,
    lastSeq: num(r.lastSeq),
    lastActivityAt: r.lastActivityAt,
    role: r.role,
    status: r.status,
    readSeq: num(r.readSeq),
    joinedSeq: num(r.joinedSeq),
    muted: r.muted,
    unreadCount: r.unreadCount,
    members: r.members ?? [],
    lastMessage: r.lastMessage ?? null
  })

  /**
   * The page's rows are chosen first (a range of the primary key, in order, limited) and only they
   * are joined: with the joins in the same query level the planner joined the whole thread first.
   */
  const messageSelect = (page: string) => `
    SELECT m.conversation_id::text, m.seq, m.sender_id::text, m.client_id, m.kind,
      CASE WHEN m.deleted_at IS NULL THEN m.text END AS text, m.created_at, m.deleted_at,
      ${card("s")} AS sender,
      CASE WHEN m.deleted_at IS NULL THEN m.post_id::text END AS post_id,
      -- CASE: the visibility probes run only for a message that shares a post
      CASE WHEN m.post_id IS NULL OR m.deleted_at IS NOT NULL THEN false ELSE (p.id IS NOT NULL AND p.status = 'published'
        AND (p.author_id = $2 OR NOT pa.is_private
          OR EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $2 AND f.followee_id = p.author_id))
        AND NOT EXISTS (SELECT 1 FROM blocks b
          WHERE (b.blocker_id = $2 AND b.blocked_id = p.author_id) OR (b.blocked_id = $2 AND b.blocker_id = p.author_id))) END AS post_visible,
      p.caption AS post_caption, p.variants->>'thumbnail' AS post_thumbnail,
      CASE WHEN pa.id IS NOT NULL THEN ${card("pa")} END AS post_author,
      CASE WHEN m.deleted_at IS NULL THEN mm.status END AS media_status,
      CASE WHEN m.deleted_at IS NULL THEN mm.variants END AS media_variants,
      mm.placeholder AS media_placeholder, mm.width AS media_width, mm.height AS media_height,
      (SELECT json_build_object('seq', r.seq, 'sender', ${card("ru")}, 'text', CASE WHEN r.deleted_at IS NULL THEN left(r.text, 200) END,
          'deleted', r.deleted_at IS NOT NULL)
        FROM messages r JOIN users ru ON ru.id = r.sender_id
        WHERE r.conversation_id = m.conversation_id AND r.seq = m.reply_to_seq AND r.seq > $3) AS reply_to,
      m.story_id::text, m.story_kind,
      -- a quoted story shows while the reader may see it: live, and theirs or one they may watch
      CASE WHEN m.story_id IS NULL OR m.deleted_at IS NOT NULL THEN false ELSE (st.id IS NOT NULL AND st.deleted_at IS NULL
        AND st.status = 'published' AND st.expires_at > now()
        AND (st.author_id = $2 OR (
          EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $2 AND f.followee_id = st.author_id)
          AND NOT EXISTS (SELECT 1 FROM story_hidden h WHERE h.owner_id = st.author_id AND h.hidden_id = $2)
          AND NOT EXISTS (SELECT 1 FROM blocks b
            WHERE (b.blocker_id = $2 AND b.blocked_id = st.author_id) OR (b.blocked_id = $2 AND b.blocker_id = st.author_id))
          AND (st.audience = 'followers' OR EXISTS (SELECT 1 FROM close_friends c WHERE c.owner_id = st.author_id AND c.friend_id = $2))))) END
        AS story_available,
      st.media->>'thumbnail' AS story_thumbnail,
      (SELECT coalesce(json_agg(json_build_object('emoji', x.emoji, 'user', ${card("xu")}) ORDER BY x.created_at, x.user_id), '[]'::json)
        FROM message_reactions x JOIN users xu ON xu.id = x.user_id
        WHERE x.conversation_id = m.conversation_id AND x.seq = m.seq) AS reactions
    FROM (SELECT * FROM messages WHERE conversation_id = $1 AND seq > $3 ${page}) m
    JOIN users s ON s.id = m.sender_id
    LEFT JOIN posts p ON p.id = m.post_id
    LEFT JOIN users pa ON pa.id = p.author_id
    LEFT JOIN message_media mm ON mm.id = m.media_id
    LEFT JOIN stories st ON st.id = m.story_id`

  const toMessage = (r: any): MessageRow => ({
    conversationId: r.conversationId,
    seq: num(r.seq),
    senderId: r.senderId,
    clientId: r.clientId,
    kind: r.kind,
    text: r.text,
    createdAt: r.createdAt,
    deletedAt: r.deletedAt,
    sender: r.sender,
    postId: r.postId,
    postVisible: r.postVisible === true,
    postCaption: r.postCaption,
    postThumbnail: r.postThumbnail,
    postAuthor: r.postAuthor,
    mediaStatus: r.mediaStatus,
    mediaVariants: r.mediaVariants,
    mediaPlaceholder: r.mediaPlaceholder,
    mediaWidth: r.mediaWidth,
    mediaHeight: r.mediaHeight,
    replyTo: r.replyTo ?? null,
    storyId: r.storyId ?? null,
    storyKind: r.storyKind ?? null,
    storyAvailable: r.storyAvailable === true,
    storyThumbnail: r.storyThumbnail ?? null,
    reactions: r.reactions ?? []
  })

  return ConversationsRepo.of({
    state: (id) =>
      Effect.gen(function*() {
        const [c] = yield* sql<{ id: string; kind: "direct" | "group"; title: string | null; lastSeq: string }>`
          SELECT id::text, kind, title, last_seq FROM conversations WHERE id = ${id}`
        if (c === undefined) return Option.none()
        const members = yield* sql<any>`
          SELECT user_id::text, role, status, joined_seq, left_seq, read_seq, muted
          FROM conversation_members WHERE conversation_id = ${id} ORDER BY joined_at, user_id`
        return Option.some({
          id: c.id,
          kind: c.kind,
          title: c.title,
          lastSeq: num(c.lastSeq),
          members: members.map(toMember)
        })
      }).pipe(die),

    insertMessage: (m) =>
      // one statement: the dedup probe, the next sequence and the insert see one snapshot, and the
      // row lock on the conversation orders concurrent writers (there is one: the actor)
      sql<{ existing: string | null; inserted: string | null; recent: boolean | null }>`
        WITH existing AS (
          SELECT seq, created_at FROM messages WHERE conversation_id = ${m.conversationId} AND sender_id = ${m.senderId} AND client_id = ${m.clientId}
        ), bump AS (
          UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = GREATEST(last_activity_at, ${m.at})
          WHERE id = ${m.conversationId} AND NOT EXISTS (SELECT 1 FROM existing)
          RETURNING last_seq
        ), ins AS (
          INSERT INTO messages (conversation_id, seq, sender_id, client_id, kind, text, post_id, media_id, reply_to_seq, story_id, story_kind, created_at)
          SELECT ${m.conversationId}, last_seq, ${m.senderId}, ${m.clientId}, ${m.kind}, ${m.text}, ${m.postId}, ${m.mediaId}, ${m.replyToSeq},
            ${m.storyId}, ${m.storyKind}, ${m.at}
          FROM bump
          RETURNING seq
        ), rd AS (
          UPDATE conversation_members SET read_seq = GREATEST(read_seq, (SELECT seq FROM ins)), status = 'accepted'
          WHERE conversation_id = ${m.conversationId} AND user_id = ${m.senderId} AND EXISTS (SELECT 1 FROM ins)
        )
        SELECT (SELECT seq FROM existing) AS existing, (SELECT seq FROM ins) AS inserted,
          (SELECT created_at > now() - interval '100 seconds' FROM existing) AS recent`.pipe(
        Effect.map(([r]) =>
          r?.existing !== null && r?.existing !== undefined
            ? { seq: num(r.existing), existing: true, recent: r.recent === true }
            : { seq: num(r?.inserted), existing: false, recent: true }
        ),
        die
      ),

    bySenderClient: (conversationId, senderId, clientId) =>
      sql<{ seq: string }>`
        SELECT seq FROM messages WHERE conversation_id = ${conversationId} AND sender_id = ${senderId} AND client_id = ${clientId}`.pipe(
        Effect.map(([r]) => (r === undefined ? Option.none() : Option.some(num(r.seq)))),
        die
      ),

    message: (conversationId, seq) =>
      sql<{ senderId: string; createdAt: Date; deleted: boolean }>`
        SELECT sender_id::text, created_at, deleted_at IS NOT NULL AS deleted FROM messages
        WHERE conversation_id = ${conversationId} AND seq = ${seq}`.pipe(Effect.map((rows) => Option.fromNullable(rows[0])), die),

    advanceRead: (conversationId, userId, seq) =>
      sql<{ readSeq: string }>`
        UPDATE conversation_members me SET read_seq = GREATEST(me.read_seq, LEAST(${seq}, c.last_seq))
        FROM conversations c
        WHERE c.id = me.conversation_id AND me.conversation_id = ${conversationId} AND me.user_id = ${userId}
        RETURNING me.read_seq`.pipe(Effect.map(([r]) => num(r?.readSeq ?? 0)), die),

    tombstone: (conversationId, seq, at) =>
      Effect.zipRight(
        sql`UPDATE messages SET deleted_at = ${at}, text = NULL, post_id = NULL WHERE conversation_id = ${conversationId} AND seq = ${seq} AND deleted_at IS NULL`,
        sql`DELETE FROM message_reactions WHERE conversation_id = ${conversationId} AND seq = ${seq}`
      ).pipe(Effect.asVoid, die),

    setReaction: (conversationId, seq, userId, emoji) =>
      (emoji === null
        ? sql`DELETE FROM message_reactions WHERE conversation_id = ${conversationId} AND seq = ${seq} AND user_id = ${userId}`
        : sql`
          INSERT INTO message_reactions (conversation_id, seq, user_id, emoji) VALUES (${conversationId}, ${seq}, ${userId}, ${emoji})
          ON CONFLICT (conversation_id, seq, user_id) DO UPDATE SET emoji = EXCLUDED.emoji, created_at = now()`).pipe(Effect.asVoid, die),

    reaction: (conversationId, seq, userId) =>
      sql<{ emoji: string }>`
        SELECT emoji FROM message_reactions WHERE conversation_id = ${conversationId} AND seq = ${seq} AND user_id = ${userId}`.pipe(
        Effect.map(([r]) => r?.emoji ?? null),
        die
      ),

    setTitle: (id, title) => sql`UPDATE conversations SET title = ${title} WHERE id = ${id}`.pipe(Effect.asVoid, die),
    setMuted: (id, userId, muted) =>
      sql`UPDATE conversation_members SET muted = ${muted} WHERE conversation_id = ${id} AND user_id = ${userId}`.pipe(Effect.asVoid, die),
    setStatus: (id, userId, status) =>
      sql`UPDATE conversation_members SET status = ${status} WHERE conversation_id = ${id} AND user_id = ${userId}`.pipe(Effect.asVoid, die),
    setRole: (id, userId, role) =>
      sql`UPDATE conversation_members SET role = ${role} WHERE conversation_id = ${id} AND user_id = ${userId}`.pipe(Effect.asVoid, die),

    addMembers: (id, members, joinedSeq) =>
      members.length === 0 ? Effect.void : sql`
        INSERT INTO conversation_members ${sql.insert(members.map((m) => ({
          conversation_id: id,
          user_id: m.userId,
          role: m.role,
          status: m.status,
          joined_seq: joinedSeq,
          read_seq: joinedSeq
        })))}
        ON CONFLICT (conversation_id, user_id) DO UPDATE SET
          role = EXCLUDED.role, status = EXCLUDED.status, joined_seq = EXCLUDED.joined_seq, read_seq = EXCLUDED.read_seq,
          left_seq = NULL, muted = false, joined_at = now()`.pipe(Effect.asVoid, die),

    removeMember: (id, userId, leftSeq) =>
      sql`UPDATE conversation_members SET left_seq = ${leftSeq} WHERE conversation_id = ${id} AND user_id = ${userId} AND left_seq IS NULL`.pipe(
        Effect.asVoid,
        die
      ),

    postVisible: (postId, viewerId) =>
      sql<{ visible: boolean }>`
        SELECT EXISTS (
          SELECT 1 FROM posts p JOIN users a ON a.id = p.author_id
          WHERE p.id = ${postId} AND p.status = 'published'
            AND (p.author_id = ${viewerId} OR NOT a.is_private
              OR EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ${viewerId} AND f.followee_id = p.author_id))
            AND NOT EXISTS (SELECT 1 FROM blocks b
              WHERE (b.blocker_id = ${viewerId} AND b.blocked_id = p.author_id) OR (b.blocked_id = ${viewerId} AND b.blocker_id = p.author_id))
        ) AS visible`.pipe(Effect.map(([r]) => r?.visible === true), die),

    followersAmong: (userId, ids) =>
      ids.length === 0 ? Effect.succeed(new Set<string>()) : sql<{ id: string }>`
        SELECT follower_id::text AS id FROM follows WHERE followee_id = ${userId} AND follower_id IN ${sql.in(ids)}`.pipe(
        Effect.map((rows) => new Set(rows.map((r) => r.id))),
        die
      ),

    mediaReady: (mediaId) =>
      sql<{ conversationId: string; uploaderId: string; status: string }>`
        SELECT conversation_id::text, uploader_id::text, status FROM message_media WHERE id = ${mediaId}`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0])),
        die
      ),

    findDirect: (key) =>
      sql<{ id: string }>`SELECT id::text FROM conversations WHERE direct_key = ${key}`.pipe(
        Effect.map(([r]) => Option.fromNullable(r?.id)),
        die
      ),

    create: (c) =>
      sql.withTransaction(Effect.gen(function*() {
        const inserted = yield* sql<{ id: string }>`
          INSERT INTO conversations (id, kind, title, direct_key, created_by, last_activity_at)
          VALUES (${c.id}, ${c.kind}, ${c.title}, ${c.directKey}, ${c.createdBy}, date_trunc('milliseconds', now()))
          ON CONFLICT (direct_key) DO NOTHING RETURNING id::text`
        if (inserted.length === 0) return false
        yield* sql`
          INSERT INTO conversation_members ${sql.insert(c.members.map((m) => ({
            conversation_id: c.id,
            user_id: m.userId,
            role: m.role,
            status: m.status
          })))}`
        return true
      })).pipe(die),

    membership: (id, userId) =>
      sql<any>`
        SELECT me.user_id::text, me.role, me.status, me.joined_seq, me.left_seq, me.read_seq, me.muted, c.kind
        FROM conversation_members me JOIN conversations c ON c.id = me.conversation_id
        WHERE me.conversation_id = ${id} AND me.user_id = ${userId}`.pipe(
        Effect.map(([m]) =>
          m === undefined ? Option.none() : Option.some({ ...toMember(m), kind: m.kind })
        ),
        die
      ),

    activeMemberIds: (id) =>
      sql<{ userId: string }>`
        SELECT user_id::text FROM conversation_members WHERE conversation_id = ${id} AND left_seq IS NULL AND status <> 'declined'`.pipe(
        Effect.map((rows) => rows.map((r) => r.userId)),
        die
      ),

    list: (userId, status, after, limit) =>
      sql.unsafe<any>(
        `${conversationSelect(`me.user_id = $1 AND me.status = $2`)}
          ${Option.isSome(after) ? `AND (c.last_activity_at, c.id) < ($3::timestamptz, $4::uuid)` : ""}
        ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ${Math.trunc(limit)}`,
        Option.isSome(after) ? [userId, status, after.value.at, after.value.id] : [userId, status]
      ).pipe(Effect.map((rows) => rows.map(toConversation)), die),

    forMember: (id, userId) =>
      sql.unsafe<any>(`${conversationSelect(`me.user_id = $1 AND me.conversation_id = $2 AND me.status <> 'declined'`)}`, [userId, id]).pipe(
        Effect.map(([r]) => (r === undefined ? Option.none() : Option.some(toConversation(r)))),
        die
      ),

    access: (id, userId) =>
      sql<{ joinedSeq: string; lastSeq: string }>`
        SELECT me.joined_seq, c.last_seq
        FROM conversation_members me JOIN conversations c ON c.id = me.conversation_id
        WHERE me.user_id = ${userId} AND me.conversation_id = ${id} AND me.status <> 'declined' AND me.left_seq IS NULL
          AND NOT (c.kind = 'direct' AND EXISTS (
            SELECT 1 FROM conversation_members o JOIN blocks b ON b.blocker_id = me.user_id AND b.blocked_id = o.user_id
            WHERE o.conversation_id = c.id AND o.user_id <> me.user_id))`.pipe(
        Effect.map(([r]) => (r === undefined ? Option.none() : Option.some({ joinedSeq: num(r.joinedSeq), lastSeq: num(r.lastSeq) }))),
        die
      ),

    messages: (id, viewerId, joinedSeq, range, limit) => {
      const n = Math.trunc(limit)
      const query = (() => {
        switch (range._tag) {
          case "Latest":
            return { text: `${messageSelect(`ORDER BY seq DESC LIMIT ${n}`)} ORDER BY m.seq DESC`, params: [] as Array<unknown>, reverse: true }
          case "Before":
            return { text: `${messageSelect(`AND seq < $4 ORDER BY seq DESC LIMIT ${n}`)} ORDER BY m.seq DESC`, params: [range.seq], reverse: true }
          case "After":
            return { text: `${messageSelect(`AND seq > $4 ORDER BY seq ASC LIMIT ${n}`)} ORDER BY m.seq ASC`, params: [range.seq], reverse: false }
          case "Seqs":
            return { text: `${messageSelect(`AND seq = ANY($4::bigint[])`)} ORDER BY m.seq ASC`, params: [range.seqs.map(String)], reverse: false }
        }
      })()
      return sql.unsafe<any>(query.text, [id, viewerId, joinedSeq, ...query.params]).pipe(
        Effect.map((rows) => {
          const messages = rows.map(toMessage)
          return query.reverse ? messages.reverse() : messages
        }),
        die
      )
    },

    unread: (userId) =>
      sql<{ unreadCount: number; conversations: number; requests: number }>`
        WITH mine AS (
          SELECT me.conversation_id, me.status, me.muted,
            (SELECT count(*) FROM messages m
              WHERE m.conversation_id = me.conversation_id AND m.seq > GREATEST(me.read_seq, me.joined_seq)
                AND m.sender_id <> me.user_id AND m.deleted_at IS NULL) AS unread
          FROM conversation_members me JOIN conversations c ON c.id = me.conversation_id
          WHERE me.user_id = ${userId} AND me.left_seq IS NULL AND me.status <> 'declined'
            AND NOT (c.kind = 'direct' AND EXISTS (
              SELECT 1 FROM conversation_members o JOIN blocks b ON b.blocker_id = me.user_id AND b.blocked_id = o.user_id
              WHERE o.conversation_id = c.id AND o.user_id <> me.user_id))
        )
        SELECT coalesce(sum(unread) FILTER (WHERE status = 'accepted' AND NOT muted), 0)::int AS unread_count,
          (count(*) FILTER (WHERE status = 'accepted' AND NOT muted AND unread > 0))::int AS conversations,
          (count(*) FILTER (WHERE status = 'request'))::int AS requests
        FROM mine`.pipe(Effect.map(([r]) => r ?? { unreadCount: 0, conversations: 0, requests: 0 }), die),

    unreadIn: (id, userId) =>
      sql<{ n: number }>`
        SELECT (SELECT count(*) FROM messages m
          WHERE m.conversation_id = me.conversation_id AND m.seq > GREATEST(me.read_seq, me.joined_seq)
            AND m.sender_id <> me.user_id AND m.deleted_at IS NULL)::int AS n
        FROM conversation_members me WHERE me.conversation_id = ${id} AND me.user_id = ${userId}`.pipe(
        Effect.map(([r]) => r?.n ?? 0),
        die
      ),

    createMedia: (m) =>
      sql`
        INSERT INTO message_media (id, conversation_id, uploader_id, status, original_key)
        VALUES (${m.id}, ${m.conversationId}, ${m.uploaderId}, 'processing', ${m.originalKey})`.pipe(Effect.asVoid, die),

    media: (mediaId) =>
      sql<{ conversationId: string; uploaderId: string; status: string; originalKey: string }>`
        SELECT conversation_id::text, uploader_id::text, status, original_key FROM message_media WHERE id = ${mediaId}`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0])),
        die
      ),

    finishMedia: (mediaId, result) =>
      sql.withTransaction(Effect.gen(function*() {
        const updated = result === null
          ? yield* sql<{ id: string }>`UPDATE message_media SET status = 'failed' WHERE id = ${mediaId} AND status = 'processing' RETURNING id::text`
          : yield* sql<{ id: string }>`
            UPDATE message_media SET status = 'ready', variants = ${JSON.stringify(result.variants)}::jsonb, placeholder = ${result.placeholder},
              width = ${result.width}, height = ${result.height}
            WHERE id = ${mediaId} AND status = 'processing' RETURNING id::text`
        if (updated.length === 0) return []
        const rows = yield* sql<{ seq: string; memberIds: ReadonlyArray<string> | null }>`
          SELECT m.seq, (SELECT array_agg(o.user_id::text) FROM conversation_members o
              WHERE o.conversation_id = m.conversation_id AND o.left_seq IS NULL AND o.status <> 'declined' AND o.joined_seq < m.seq) AS member_ids
          FROM messages m WHERE m.media_id = ${mediaId} AND m.deleted_at IS NULL`
        return rows.map((r) => ({ seq: num(r.seq), memberIds: r.memberIds ?? [] }))
      })).pipe(die)
  })
})

export const layer = Layer.effect(ConversationsRepo, make)

// ---- rows to wire shapes (for the use-cases' answers and the actor's frames alike)
// Built without validation (`, true`): the rows come from our own schema, and the answer is encoded
// against the contract on its way out anyway; validating every nested card of a page cost more than
// its query.

/** Signs a media URL for one viewer (a DM photo's variants always; a private author's post thumbnail). */
export type SignFor = (url: string, viewerId: string) => string

const iso = (d: Date | string) => (typeof d === "string" ? d : d.toISOString())

export const messageView = (r: MessageRow, viewerId: string, sign: SignFor): Message => {
  const shared = r.postId !== null
  const post = shared && r.postVisible && r.postAuthor !== null
    ? new SharedPost({
      id: r.postId!,
      thumbnail: r.postThumbnail === null ? null : r.postAuthor.isPrivate ? sign(r.postThumbnail, viewerId) : r.postThumbnail,
      caption: r.postCaption ?? "",
      author: userCardOf(r.postAuthor)
    }, true)
    : null
  const variants = r.mediaVariants
  return new Message({
    conversationId: r.conversationId,
    seq: r.seq,
    clientId: r.senderId === viewerId ? r.clientId : null,
    sender: userCardOf(r.sender),
    kind: r.kind,
    text: r.text,
    post,
    postUnavailable: shared && post === null,
    photo: r.mediaStatus === null ? null : new MessagePhoto({
      status: r.mediaStatus,
      variants: variants === null || r.mediaStatus !== "ready" ? null : new Variants({
        thumbnail: sign(variants.thumbnail!, viewerId),
        small: sign(variants.small!, viewerId),
        medium: sign(variants.medium!, viewerId),
        large: sign(variants.large!, viewerId)
      }, true),
      placeholder: r.mediaPlaceholder,
      width: r.mediaWidth,
      height: r.mediaHeight
    }, true),
    replyTo: r.replyTo === null ? null : new ReplyPreview({
      seq: Number(r.replyTo.seq),
      sender: userCardOf(r.replyTo.sender),
      text: r.replyTo.text,
      deleted: r.replyTo.deleted
    }, true),
    story: r.storyId === null || r.storyKind === null ? null : new StoryQuote({
      id: r.storyId,
      kind: r.storyKind,
      // a story's media are always signed for their reader
      thumbnail: r.storyAvailable && r.storyThumbnail !== null ? sign(r.storyThumbnail, viewerId) : null,
      available: r.storyAvailable
    }, true),
    reactions: r.reactions.map((x) => new Reaction({ emoji: x.emoji, user: userCardOf(x.user) }, true)),
    createdAt: iso(r.createdAt),
    deletedAt: r.deletedAt === null ? null : iso(r.deletedAt)
  }, true)
}

export const conversationView = (r: ConversationRow): Conversation =>
  new Conversation({
    id: r.id,
    kind: r.kind,
    title: r.title,
    members: r.members.map((m) => new ConversationMember({ user: userCardOf(m.user), role: m.role, readSeq: Number(m.readSeq) }, true)),
    lastSeq: r.lastSeq,
    lastMessage: r.lastMessage === null ? null : new MessagePreview({
      seq: Number(r.lastMessage.seq),
      sender: userCardOf(r.lastMessage.sender),
      kind: r.lastMessage.kind,
      text: r.lastMessage.text,
      deleted: r.lastMessage.deleted,
      createdAt: r.lastMessage.createdAt
    }, true),
    lastActivityAt: r.lastActivityAt.toISOString(),
    unreadCount: r.unreadCount,
    readSeq: r.readSeq,
    muted: r.muted,
    status: r.status === "request" ? "request" : "accepted",
    role: r.role
  }, true)
