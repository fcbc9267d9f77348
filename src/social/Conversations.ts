/**
 * Direct messages: the use-cases behind `/conversations`. Reads go straight to PostgreSQL (they
 * need no ordering); every write of a thread is a durable command to its conversation actor (the
 * single writer), sent through the runtime's `Actors` port with a reply subject this node waits on.
 * The actor answers after its transaction committed and its frames were stored in the members'
 * inboxes, so a 201 means "stored, sequenced and delivered to the inboxes".
 *
 * When the answer does not come in time (a partition failing over), a send looks its client id up
 * in PostgreSQL — the command is durable and will still be applied — and otherwise answers 503: the
 * client sends again with the same `clientId`, which can never add a second copy.
 *
 * Creating a thread is not an actor's write (the thread has no actor before it exists): a 1:1
 * thread is unique per pair by `direct_key`, so two people starting one at once get the same one.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Context, Duration, Effect, Layer, Option, Schema } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { Actors } from "../actors/runtime/Actors.ts"
import { BadRequest, Conflict, Forbidden, NotFound, type RateLimited, ServiceUnavailable, Unprocessable } from "../domain/ApiError.ts"
import {
  CommandReply,
  type Conversation,
  type ConversationCommand,
  type ConversationPage,
  type ConversationPatch,
  ConversationProtocol,
  MAX_MEMBERS,
  type Message,
  type MessagePage,
  type NewConversation,
  type NewMessage,
  ReadState,
  type Reaction,
  UnreadSummary
} from "../domain/Conversations.ts"
import { MediaJob } from "../domain/Media.ts"
import { ConversationsRepo, conversationView, type MessageRange, type MessageRow, messageView } from "../db/Conversations.ts"
import { GraphRepo } from "../db/Graph.ts"
import { OutboxRepo } from "../db/Outbox.ts"
import { PostsRepo } from "../db/Posts.ts"
import { UsersRepo } from "../db/Users.ts"
import { BlobStore } from "../media/BlobStore.ts"
import { MediaUrls } from "../media/MediaUrls.ts"
import { SNIFF_BYTES, sniffImage } from "../media/Sniff.ts"
import { Nats } from "../streams/Nats.ts"
import { decodeCursor, encodeCursor } from "./Cursor.ts"
import { checkImageHeader } from "./ImageCheck.ts"
import { type Limited, limited, Limits } from "./Limits.ts"

type PageQuery = { readonly cursor?: string | undefined; readonly limit: number }
type MessageQuery = { readonly cursor?: string | undefined; readonly around?: number | undefined; readonly limit: number }

export class Conversations extends Context.Tag("Conversations")<Conversations, {
  readonly list: (userId: string, q: PageQuery) => Effect.Effect<ConversationPage, BadRequest>
  readonly requests: (userId: string, q: PageQuery) => Effect.Effect<ConversationPage, BadRequest>
  readonly unread: (userId: string) => Effect.Effect<UnreadSummary>
  readonly create: (userId: string, input: NewConversation) => Effect.Effect<Limited<Conversation>, WriteError | RateLimited>
  readonly get: (id: string, userId: string) => Effect.Effect<Conversation, NotFound>
  readonly update: (id: string, userId: string, patch: ConversationPatch) => Effect.Effect<Conversation, WriteError>
  readonly messages: (id: string, userId: string, q: MessageQuery) => Effect.Effect<MessagePage, NotFound | BadRequest>
  /** `story`: the story it replies or reacts to (the story use-cases checked the sender may see it). */
  readonly send: (
    id: string,
    userId: string,
    input: NewMessage,
    story?: { readonly id: string; readonly kind: "reply" | "reaction" }
  ) => Effect.Effect<Limited<Message>, WriteError | RateLimited>
  readonly read: (id: string, userId: string, seq: number) => Effect.Effect<ReadState, WriteError>
  readonly remove: (id: string, userId: string, seq: number) => Effect.Effect<void, WriteError>
  readonly react: (id: string, userId: string, seq: number, emoji: string | null) => Effect.Effect<{ readonly reactions: ReadonlyArray<Reaction> }, WriteError>
  readonly addMembers: (id: string, userId: string, usernames: ReadonlyArray<string>) => Effect.Effect<Conversation, WriteError>
  readonly removeMember: (id: string, userId: string, username: string) => Effect.Effect<Conversation, WriteError>
  readonly leave: (id: string, userId: string) => Effect.Effect<void, WriteError>
  readonly respond: (id: string, userId: string, accept: boolean) => Effect.Effect<Conversation | undefined, WriteError>
  /** The other members who may be told `userId` is typing (none when `userId` is not a member). */
  readonly peers: (id: string, userId: string) => Effect.Effect<ReadonlyArray<string>>
}>() {}

const notFound = () => new NotFound({ message: "no such conversation" })
type Refused = NotFound | Forbidden | Conflict | Unprocessable
type WriteError = Refused | ServiceUnavailable
type OkBody = { readonly seq?: number | undefined; readonly existing?: boolean | undefined }
const decodeReply = Schema.decodeUnknownOption(CommandReply)

/** Message-page cursors: which way and from which sequence (opaque to clients). */
const encodeSeqCursor = (dir: "b" | "a", seq: number) => Buffer.from(JSON.stringify([dir, seq])).toString("base64url")
const decodeSeqCursor = (cursor: string) => {
  try {
    const [dir, seq] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [unknown, unknown]
    if ((dir === "b" || dir === "a") && typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 0) return Option.some({ dir, seq })
  } catch {
    // not ours
  }
  return Option.none()
}

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const sql = yield* SqlClient.SqlClient
  const repo = yield* ConversationsRepo
  const users = yield* UsersRepo
  const graph = yield* GraphRepo
  const posts = yield* PostsRepo
  const outbox = yield* OutboxRepo
  const store = yield* BlobStore
  const urls = yield* MediaUrls
  const limits = yield* Limits
  const actors = yield* Actors
  const nats = yield* Nats
  const sign = (url: string, viewerId: string) => urls.sign(url, viewerId)
  const replyTimeout = Duration.millis(config.dm.replyTimeoutMillis)

  const unavailable = (what: string) => new ServiceUnavailable({ message: `${what} could not be confirmed in time; try again` })

  /**
   * Sends a command to the thread's actor and waits for its answer: `none` when none came in time.
   * The reply subject is subscribed before the command is sent, so an answer cannot be missed.
   */
  const call = (id: string, command: (replyTo: string) => ConversationCommand) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const subject = nats.subject(`dmreply.${crypto.randomUUID()}`)
        const subscription = nats.connection.subscribe(subject, { max: 1 })
        return { subject, subscription }
      }),
      ({ subject, subscription }) =>
        Effect.gen(function*() {
          const answer = (async () => {
            for await (const m of subscription) return m.json<unknown>()
            return undefined
          })()
          yield* actors.send(ConversationProtocol, id, command(subject)).pipe(
            Effect.catchAll(() => Effect.fail(new ServiceUnavailable({ message: "direct messages are unavailable right now; try again shortly" })))
          )
          const raw = yield* Effect.promise(() => answer).pipe(Effect.timeout(replyTimeout), Effect.option)
          return Option.flatMap(raw, (r) => decodeReply(r))
        }),
      ({ subscription }) => Effect.sync(() => subscription.unsubscribe())
    )

  /** The actor's answer, its refusal as the matching error. */
  const ok = (reply: CommandReply): Effect.Effect<OkBody, Refused> => {
    if ("ok" in reply) return Effect.succeed(reply.ok)
    const { code, message } = reply.refused
    return Effect.fail(
      code === "NotFound"
        ? new NotFound({ message })
        : code === "Forbidden"
        ? new Forbidden({ message })
        : new Unprocessable({ message })
    )
  }

  /** A command whose answer is needed: 503 when it did not come in time. */
  const command = (id: string, what: string, make: (replyTo: string) => ConversationCommand): Effect.Effect<OkBody, Refused | ServiceUnavailable> =>
    Effect.gen(function*() {
      const answer = yield* call(id, make)
      if (Option.isNone(answer)) return yield* unavailable(what)
      return yield* ok(answer.value)
    })

  /** The caller's access (where their history starts, the thread's last seq), or 404 (not a member, left, declined, or hidden by their block). */
  const member = (id: string, userId: string) =>
    Effect.flatMap(repo.access(id, userId), Option.match({ onNone: () => Effect.fail(notFound()), onSome: Effect.succeed }))

  const view = (id: string, userId: string) =>
    Effect.flatMap(repo.forMember(id, userId), Option.match({ onNone: () => Effect.fail(notFound()), onSome: (r) => Effect.succeed(conversationView(r)) }))

  const page = (userId: string, status: "accepted" | "request", q: PageQuery) =>
    Effect.gen(function*() {
      const after = yield* decodeCursor(q.cursor)
      const rows = yield* repo.list(userId, status, after, q.limit + 1)
      const hasMore = rows.length > q.limit
      const items = rows.slice(0, q.limit)
      const last = items[items.length - 1]
      return {
        items: items.map(conversationView),
        nextCursor: hasMore && last !== undefined ? encodeCursor({ at: last.lastActivityAt, id: last.id }) : null,
        hasMore
      }
    })

  /** Accounts by username for a new thread or new members: each must exist and have no block with the caller. */
  const resolve = (userId: string, usernames: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const wanted = [...new Set(usernames.map((u) => u.trim().toLowerCase().replace(/^@/, "")))]
      const found: Array<string> = []
      for (const username of wanted) {
        const user = yield* users.byUsername(username)
        if (Option.isNone(user) || (user.value.id !== userId && (yield* graph.blockedEitherWay(userId, user.value.id)))) {
          return yield* new NotFound({ message: `no account @${username}` })
        }
        if (user.value.id !== userId) found.push(user.value.id)
      }
      return found
    })

  const messageOf = (id: string, userId: string, joinedSeq: number, seq: number) =>
    Effect.flatMap(repo.messages(id, userId, joinedSeq, { _tag: "Seqs", seqs: [seq] }, 1), ([row]) =>
      row === undefined ? Effect.fail(unavailable("the message")) : Effect.succeed(messageView(row, userId, sign)))

  /** A direct upload for a photo message: checked as a post's is, claimed, and handed to the media pipeline. */
  const photoFrom = (id: string, userId: string, uploadId: string) =>
    Effect.gen(function*() {
      const upload = yield* posts.upload(uploadId)
      if (Option.isNone(upload) || upload.value.userId !== userId) return yield* new NotFound({ message: "no such upload" })
      if (upload.value.usedAt !== null) return yield* new Conflict({ message: "that upload was already used" })
      if (upload.value.expiresAt.getTime() < Date.now()) return yield* new Unprocessable({ message: "that upload has expired; ask for a new one" })
      const key = upload.value.objectKey
      const info = yield* store.stat(key).pipe(Effect.orDie)
      if (Option.isNone(info)) return yield* new Unprocessable({ message: "nothing was uploaded to that upload's URL yet" })
      if (info.value.size > Number(upload.value.maxBytes)) return yield* new Unprocessable({ message: "the upload is larger than allowed" })
      const head = yield* store.head(key, SNIFF_BYTES).pipe(Effect.orDie)
      if (Option.isNone(Option.flatMap(head, (h) => Option.fromNullable(sniffImage(h))))) {
        return yield* new Unprocessable({ message: "send a JPEG, PNG, WebP, AVIF or GIF image (recognised by its content)" })
      }
      yield* checkImageHeader(store, key, info.value.size, config.media.maxPixels).pipe(
        Effect.mapError((e) => new Unprocessable({ message: e.message }))
      )
      const mediaId = crypto.randomUUID()
      yield* sql.withTransaction(Effect.gen(function*() {
        if (!(yield* posts.useUpload(uploadId, userId))) return yield* new Conflict({ message: "that upload was already used" })
        yield* repo.createMedia({ id: mediaId, conversationId: id, uploaderId: userId, originalKey: key })
        yield* outbox.appendMessage("media.dm", new MediaJob({ kind: "dm", id: mediaId, key, enqueuedAt: new Date().toISOString() }), mediaId)
      })).pipe(Effect.catchTag("SqlError", Effect.die))
      return mediaId
    })

  return Conversations.of({
    list: (userId, q) => page(userId, "accepted", q),
    requests: (userId, q) => page(userId, "request", q),
    unread: (userId) => Effect.map(repo.unread(userId), (u) => new UnreadSummary(u)),

    create: (userId, input) =>
      Effect.gen(function*() {
        const others = yield* resolve(userId, input.memberUsernames)
        if (others.length === 0) return yield* new Unprocessable({ message: "name someone other than yourself" })
        if (others.length + 1 > MAX_MEMBERS) return yield* new Unprocessable({ message: `a group has at most ${MAX_MEMBERS} members, you included` })
        const direct = others.length === 1 && (input.title === undefined || input.title.trim() === "")
        const directKey = direct ? [userId, others[0]!].sort().join(":") : null
        if (directKey !== null) {
          const existing = yield* repo.findDirect(directKey)
          if (Option.isSome(existing)) {
            const rateLimit = yield* limits.check(limits.rules.dmThread, userId).pipe(Effect.catchAll((e) => Effect.succeed(e.rateLimit)))
            // you are back in a thread you declined or were hidden from by starting it again
            const mine = yield* repo.membership(existing.value, userId)
            if (Option.isSome(mine) && mine.value.status !== "accepted") {
              yield* command(existing.value, "accepting the conversation", (replyTo) => ({ _tag: "Respond", userId, accept: true, replyTo }))
            }
            return limited<Conversation>(rateLimit)(yield* view(existing.value, userId))
          }
        }
        const rateLimit = yield* limits.enforce(limits.rules.dmThread, userId)
        const followers = yield* repo.followersAmong(userId, others)
        const id = crypto.randomUUID()
        const created = yield* repo.create({
          id,
          kind: direct ? "direct" : "group",
          title: direct ? null : input.title?.trim() || null,
          directKey,
          createdBy: userId,
          members: [
            { userId, role: "admin", status: "accepted" },
            ...others.map((o) => ({ userId: o, role: direct ? "admin" as const : "member" as const, status: followers.has(o) ? "accepted" as const : "request" as const }))
          ]
        })
        // lost a race to create the same 1:1 thread: answer the one that won
        const threadId = created || directKey === null ? id : Option.getOrElse(yield* repo.findDirect(directKey), () => id)
        return limited<Conversation>(rateLimit)(yield* view(threadId, userId))
      }),

    get: view,

    update: (id, userId, patch) =>
      Effect.gen(function*() {
        yield* member(id, userId)
        if (patch.title !== undefined || patch.muted !== undefined) {
          const title = patch.title === undefined ? undefined : patch.title === null || patch.title.trim() === "" ? null : patch.title.trim()
          yield* command(id, "the change", (replyTo) => ({ _tag: "Update", userId, title, muted: patch.muted, replyTo }))
        }
        return yield* view(id, userId)
      }),

    messages: (id, userId, q) =>
      Effect.gen(function*() {
        const me = yield* member(id, userId)
        const limit = q.limit
        let range: MessageRange = { _tag: "Latest" }
        if (q.cursor !== undefined && q.cursor !== "") {
          const cursor = decodeSeqCursor(q.cursor)
          if (Option.isNone(cursor)) return yield* new BadRequest({ message: "cursor is not one this server issued" })
          range = cursor.value.dir === "b" ? { _tag: "Before", seq: cursor.value.seq } : { _tag: "After", seq: cursor.value.seq }
        }
        let rows: ReadonlyArray<MessageRow>
        if (q.around !== undefined && range._tag === "Latest") {
          const older = yield* repo.messages(id, userId, me.joinedSeq, { _tag: "Before", seq: q.around + 1 }, Math.ceil(limit / 2) + 1)
          const newer = yield* repo.messages(id, userId, me.joinedSeq, { _tag: "After", seq: q.around }, Math.floor(limit / 2) + 1)
          const hasMore = older.length > Math.ceil(limit / 2)
          const hasNewer = newer.length > Math.floor(limit / 2)
          rows = [...(hasMore ? older.slice(1) : older), ...(hasNewer ? newer.slice(0, -1) : newer)]
          return pageFrom(rows, hasMore, hasNewer)
        }
        rows = yield* repo.messages(id, userId, me.joinedSeq, range, limit + 1)
        const extra = rows.length > limit
        if (range._tag === "After") {
          const items = extra ? rows.slice(0, limit) : rows
          return pageFrom(items, items.length > 0 && items[0]!.seq > me.joinedSeq + 1, extra)
        }
        const items = extra ? rows.slice(1) : rows
        return pageFrom(items, extra, range._tag === "Before" && items.length > 0 && items[items.length - 1]!.seq < me.lastSeq)

        function pageFrom(items: ReadonlyArray<MessageRow>, hasMore: boolean, hasNewer: boolean): MessagePage {
          const first = items[0]
          const last = items[items.length - 1]
          return {
            items: items.map((r) => messageView(r, userId, sign)),
            nextCursor: hasMore && first !== undefined ? encodeSeqCursor("b", first.seq) : null,
            hasMore,
            newerCursor: hasNewer && last !== undefined ? encodeSeqCursor("a", last.seq) : null,
            hasNewer
          }
        }
      }),

    send: (id, userId, input, story) =>
      Effect.gen(function*() {
        const me = yield* member(id, userId)
        // a resend of a message already stored is answered from PostgreSQL, at any later time
        const stored = yield* repo.bySenderClient(id, userId, input.clientId)
        if (Option.isSome(stored)) {
          // never refused: a client retrying a message it wrote must learn that it arrived
          const rateLimit = yield* limits.check(limits.rules.dmSend, userId).pipe(Effect.catchAll((e) => Effect.succeed(e.rateLimit)))
          return limited<Message>(rateLimit)(yield* messageOf(id, userId, 0, stored.value))
        }
        const text = input.text?.trim() === "" ? undefined : input.text
        if (text === undefined && input.postId === undefined && input.mediaUploadId === undefined) {
          return yield* new Unprocessable({ message: "a message needs text, a postId or a mediaUploadId" })
        }
        if (input.postId !== undefined && input.mediaUploadId !== undefined) {
          return yield* new Unprocessable({ message: "share a post or attach a photo, not both" })
        }
        const rateLimit = yield* limits.enforce(limits.rules.dmSend, userId)
        const mediaId = input.mediaUploadId === undefined ? undefined : yield* photoFrom(id, userId, input.mediaUploadId)
        const at = new Date(yield* Clock.currentTimeMillis).toISOString()
        const answer = yield* call(id, (replyTo) => ({
          _tag: "Send",
          senderId: userId,
          clientId: input.clientId,
          text,
          postId: input.postId,
          mediaId,
          replyToSeq: input.replyToSeq,
          story,
          at,
          replyTo
        }))
        const seq = Option.isSome(answer)
          ? (yield* ok(answer.value)).seq
          : Option.getOrUndefined(yield* repo.bySenderClient(id, userId, input.clientId))
        if (seq === undefined) return yield* unavailable("the message")
        return limited<Message>(rateLimit)(yield* messageOf(id, userId, me.joinedSeq, seq))
      }),

    read: (id, userId, seq) =>
      Effect.gen(function*() {
        yield* member(id, userId)
        const answer = yield* command(id, "the read receipt", (replyTo) => ({ _tag: "Read", userId, seq, replyTo }))
        return new ReadState({ readSeq: answer.seq ?? 0, unreadCount: yield* repo.unreadIn(id, userId) })
      }),

    remove: (id, userId, seq) =>
      Effect.gen(function*() {
        yield* member(id, userId)
        const at = new Date(yield* Clock.currentTimeMillis).toISOString()
        yield* command(id, "the deletion", (replyTo) => ({ _tag: "Delete", userId, seq, at, replyTo }))
      }),

    react: (id, userId, seq, emoji) =>
      Effect.gen(function*() {
        const me = yield* member(id, userId)
        yield* command(id, "the reaction", (replyTo) => ({ _tag: "React", userId, seq, emoji, toggle: emoji !== null, replyTo }))
        return { reactions: (yield* messageOf(id, userId, me.joinedSeq, seq)).reactions }
      }),

    addMembers: (id, userId, usernames) =>
      Effect.gen(function*() {
        yield* member(id, userId)
        const ids = yield* resolve(userId, usernames)
        if (ids.length === 0) return yield* new Unprocessable({ message: "name someone other than yourself" })
        yield* command(id, "adding members", (replyTo) => ({ _tag: "AddMembers", userId, memberIds: ids, replyTo }))
        return yield* view(id, userId)
      }),

    removeMember: (id, userId, username) =>
      Effect.gen(function*() {
        yield* member(id, userId)
        const target = yield* users.byUsername(username.trim().toLowerCase().replace(/^@/, ""))
        if (Option.isNone(target)) return yield* new NotFound({ message: `no account @${username}` })
        yield* command(id, "removing the member", (replyTo) => ({ _tag: "RemoveMember", userId, memberId: target.value.id, replyTo }))
        return yield* view(id, userId)
      }),

    leave: (id, userId) =>
      Effect.gen(function*() {
        yield* member(id, userId)
        yield* command(id, "leaving", (replyTo) => ({ _tag: "RemoveMember", userId, memberId: userId, replyTo }))
      }),

    respond: (id, userId, accept) =>
      Effect.gen(function*() {
        yield* member(id, userId)
        yield* command(id, accept ? "accepting" : "declining", (replyTo) => ({ _tag: "Respond", userId, accept, replyTo }))
        return accept ? yield* view(id, userId) : undefined
      }),

    peers: (id, userId) =>
      Effect.map(repo.activeMemberIds(id), (ids) => (ids.includes(userId) ? ids.filter((m) => m !== userId) : []))
  })
})

export const layer = Layer.effect(Conversations, make)
