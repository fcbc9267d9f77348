/**
 * The conversation actor: one per DM thread (`conversation:<id>`), the single writer of it. Each
 * command is applied in one transaction fenced by the partition's epoch (`Fences.transaction`),
 * which also records the command's MAILBOX sequence, so a command delivered again after a failover
 * changes nothing twice. After the commit the actor publishes the command's frames to every member's
 * inbox — with message ids derived from the thread and sequence, so a retry or redelivery within
 * JetStream's duplicate window stores nothing twice — and answers the sender on the command's reply
 * subject (core NATS; the use-case waits for it, and falls back to PostgreSQL when it cannot).
 *
 * The invariants are PostgreSQL's as well (migration 0012): the sequence is taken from
 * `conversations.last_seq` in the insert's own statement, `(conversation_id, seq)` and
 * `(conversation_id, sender_id, client_id)` are unique — so a resend at any later time answers the
 * original message, and no fault can leave a gap, a duplicate or two writers.
 *
 * A command the rules refuse (not a member, a block, a message too old to delete) commits nothing
 * and is answered with the refusal; it is not retried.
 */
import { Data, Effect, Option } from "effect"
import {
  CommandReply,
  type ConversationCommand,
  ConversationProtocol,
  DELETE_WINDOW_MS,
  MAX_MEMBERS,
  type RefusalCode
} from "../../domain/Conversations.ts"
import { type ConversationState, ConversationsRepo, type MemberRow, messageView } from "../../db/Conversations.ts"
import { GraphRepo } from "../../db/Graph.ts"
import { MediaUrls } from "../../media/MediaUrls.ts"
import { Inbox } from "../../streams/Inbox.ts"
import { Nats } from "../../streams/Nats.ts"
import { behaviour, type Envelope, kind } from "../runtime/Actor.ts"
import { Fences } from "../runtime/Fence.ts"

export const ConversationKind = kind(ConversationProtocol)

/** A rule refused the command: nothing was written. */
class Refusal extends Data.TaggedError("Refusal")<{ readonly code: RefusalCode; readonly message: string }> {}

type State = { readonly _tag: "Missing"; readonly id: string } | { readonly _tag: "Live"; readonly c: ConversationState }

/** Frames to publish once the command's transaction committed. */
type After =
  | { readonly _tag: "Message"; readonly seq: number }
  | { readonly _tag: "Frame"; readonly to: "members" | "self"; readonly type: string; readonly payload: unknown; readonly extra?: ReadonlyArray<string> }
  | { readonly _tag: "Reactions"; readonly seq: number }

interface Applied {
  readonly reply: { readonly seq?: number; readonly existing?: boolean }
  readonly after: ReadonlyArray<After>
  /** Membership or the title changed: read the state again. */
  readonly refresh: boolean
  /** The caller's read pointer moved here (kept in the state without reading it again). */
  readonly readSeq?: number
}

const encoder = new TextEncoder()
/** A viewer that is nobody: renders what every reader sees alike (reactions, the sender's view). */
const NIL = "00000000-0000-0000-0000-000000000000"

const active = (m: MemberRow) => m.leftSeq === null && m.status !== "declined"

export const make = Effect.gen(function*() {
  const repo = yield* ConversationsRepo
  const graph = yield* GraphRepo
  const fences = yield* Fences
  const inbox = yield* Inbox
  const urls = yield* MediaUrls
  const nats = yield* Nats

  const refuse = (code: RefusalCode, message: string) => Effect.fail(new Refusal({ code, message }))
  const notFound = () => refuse("NotFound", "no such conversation")

  const memberOf = (c: ConversationState, userId: string) => {
    const m = c.members.find((x) => x.userId === userId)
    return m !== undefined && m.leftSeq === null ? m : undefined
  }

  /** The command's writes, inside its fenced transaction. */
  const apply = (state: State, command: ConversationCommand, envelope: Envelope): Effect.Effect<Applied, Refusal> =>
    Effect.gen(function*() {
      if (state._tag === "Missing") return yield* notFound()
      const c = state.c
      const id = c.id
      const userId = command._tag === "Send" ? command.senderId : command.userId
      const me = memberOf(c, userId)
      if (me === undefined) return yield* notFound()
      switch (command._tag) {
        case "Send": {
          if (c.kind === "direct") {
            const other = c.members.find((m) => m.userId !== userId)
            if (other !== undefined && (yield* graph.blockedEitherWay(userId, other.userId))) {
              return yield* refuse("Forbidden", "you cannot send messages in this conversation")
            }
          }
          if (command.replyToSeq !== undefined) {
            const target = command.replyToSeq <= me.joinedSeq ? Option.none() : yield* repo.message(id, command.replyToSeq)
            if (Option.isNone(target)) return yield* refuse("Unprocessable", `there is no message ${command.replyToSeq} to reply to`)
          }
          if (command.postId !== undefined && !(yield* repo.postVisible(command.postId, userId))) {
            return yield* refuse("NotFound", "no such post")
          }
          if (command.mediaId !== undefined) {
            const media = yield* repo.media(command.mediaId)
            if (Option.isNone(media) || media.value.uploaderId !== userId || media.value.conversationId !== id) {
              return yield* refuse("NotFound", "no such upload")
            }
          }
          const { existing: found, recent, seq } = yield* repo.insertMessage({
            conversationId: id,
            senderId: userId,
            clientId: command.clientId,
            kind: command.mediaId !== undefined ? "photo" : command.postId !== undefined ? "post" : "text",
            text: command.text ?? null,
            postId: command.postId ?? null,
            mediaId: command.mediaId ?? null,
            replyToSeq: command.replyToSeq ?? null,
            storyId: command.story?.id ?? null,
            storyKind: command.story?.kind ?? null,
            at: new Date(command.at)
          })
          // found: a resend, or this command again after a failover or a failed publish — whose frames
          // may not all be stored yet: published again (their message ids dedup them) unless it is an
          // old message resent by its client
          const again = found && (recent || envelope.deliveryCount > 1 || envelope.attempt > 1)
          return { reply: { seq, existing: found }, after: !found || again ? [{ _tag: "Message", seq }] : [], refresh: me.status !== "accepted" }
        }
        case "Read": {
          const before = me.readSeq
          const readSeq = yield* repo.advanceRead(id, userId, command.seq)
          const after: Array<After> = readSeq > before
            ? [{ _tag: "Frame", to: "members", type: "read_receipt", payload: { conversationId: id, userId, readSeq } }]
            : []
          return { reply: { seq: readSeq }, after, refresh: false, readSeq }
        }
        case "Delete": {
          const target = command.seq <= me.joinedSeq ? Option.none() : yield* repo.message(id, command.seq)
          if (Option.isNone(target)) return yield* refuse("NotFound", `no message ${command.seq}`)
          if (target.value.deleted) return { reply: {}, after: [], refresh: false }
          if (target.value.senderId !== userId) return yield* refuse("Forbidden", "only its sender can delete a message")
          if (new Date(command.at).getTime() - target.value.createdAt.getTime() > DELETE_WINDOW_MS) {
            return yield* refuse("Forbidden", "a message can be deleted for everyone only within 15 minutes of sending it")
          }
          yield* repo.tombstone(id, command.seq, new Date(command.at))
          return {
            reply: {},
            after: [{ _tag: "Frame", to: "members", type: "message_deleted", payload: { conversationId: id, seq: command.seq } }],
            refresh: false
          }
        }
        case "React": {
          const target = command.seq <= me.joinedSeq ? Option.none() : yield* repo.message(id, command.seq)
          if (Option.isNone(target)) return yield* refuse("NotFound", `no message ${command.seq}`)
          if (target.value.deleted) return yield* refuse("Unprocessable", "that message was deleted")
          const current = yield* repo.reaction(id, command.seq, userId)
          const next = command.toggle && current === command.emoji ? null : command.emoji
          if (next !== current) yield* repo.setReaction(id, command.seq, userId, next)
          return { reply: {}, after: next === current ? [] : [{ _tag: "Reactions", seq: command.seq }], refresh: false }
        }
        case "Update": {
          const after: Array<After> = []
          if (command.title !== undefined) {
            if (c.kind !== "group") return yield* refuse("Unprocessable", "only a group has a title")
            yield* repo.setTitle(id, command.title)
            after.push({ _tag: "Frame", to: "members", type: "conversation_updated", payload: { conversationId: id, reason: "title" } })
          }
          if (command.muted !== undefined) {
            yield* repo.setMuted(id, userId, command.muted)
            after.push({ _tag: "Frame", to: "self", type: "conversation_updated", payload: { conversationId: id, reason: "muted" } })
          }
          return { reply: {}, after, refresh: true }
        }
        case "AddMembers": {
          if (c.kind !== "group") return yield* refuse("Unprocessable", "members can be added to a group only")
          if (me.role !== "admin") return yield* refuse("Forbidden", "only a group's admins can add members")
          const fresh = command.memberIds.filter((m) => memberOf(c, m) === undefined)
          if (c.members.filter((m) => m.leftSeq === null).length + fresh.length > MAX_MEMBERS) {
            return yield* refuse("Unprocessable", `a group has at most ${MAX_MEMBERS} members`)
          }
          const followers = yield* repo.followersAmong(userId, fresh)
          yield* repo.addMembers(
            id,
            fresh.map((m) => ({ userId: m, role: "member" as const, status: followers.has(m) ? "accepted" as const : "request" as const })),
            c.lastSeq
          )
          return {
            reply: {},
            after: [{ _tag: "Frame", to: "members", type: "conversation_updated", payload: { conversationId: id, reason: "members" }, extra: fresh }],
            refresh: true
          }
        }
        case "RemoveMember": {
          const self = command.memberId === userId
          if (c.kind !== "group") return yield* refuse("Unprocessable", "only a group can be left or have members removed")
          if (!self && me.role !== "admin") return yield* refuse("Forbidden", "only a group's admins can remove members")
          const target = memberOf(c, command.memberId)
          if (target === undefined) return { reply: {}, after: [], refresh: false }
          yield* repo.removeMember(id, command.memberId, c.lastSeq)
          const rest = c.members.filter((m) => m.leftSeq === null && m.userId !== command.memberId)
          // a group keeps an admin: the longest-standing member becomes one when the last admin goes
          if (target.role === "admin" && !rest.some((m) => m.role === "admin") && rest[0] !== undefined) {
            yield* repo.setRole(id, rest[0].userId, "admin")
          }
          return {
            reply: {},
            after: [
              { _tag: "Frame", to: "members", type: "conversation_updated", payload: { conversationId: id, reason: "members" } },
              {
                _tag: "Frame",
                to: "self",
                type: "conversation_updated",
                payload: { conversationId: id, reason: self ? "left" : "removed" },
                extra: [command.memberId]
              }
            ],
            refresh: true
          }
        }
        case "Respond": {
          const wanted = command.accept ? "accepted" : "declined"
          // accepting brings back a declined thread too (its person started it again)
          if (me.status === wanted || (!command.accept && me.status === "accepted")) return { reply: {}, after: [], refresh: false }
          yield* repo.setStatus(id, userId, command.accept ? "accepted" : "declined")
          return {
            reply: {},
            after: command.accept
              ? [{ _tag: "Frame", to: "self", type: "conversation_updated", payload: { conversationId: id, reason: "accepted" } }]
              : [],
            refresh: true
          }
        }
      }
    })

  /**
   * The reply and frames of a command whose transaction had already committed (delivered again
   * after a failover): what it wrote is read back, and its frames are published again under the
   * same message ids.
   */
  const recover = (state: State, command: ConversationCommand): Effect.Effect<Applied> =>
    Effect.gen(function*() {
      if (state._tag === "Missing") return { reply: {}, after: [], refresh: true }
      const id = state.c.id
      if (command._tag === "Send") {
        const seq = yield* repo.bySenderClient(id, command.senderId, command.clientId)
        return Option.match(seq, {
          onNone: () => ({ reply: {}, after: [], refresh: true }),
          onSome: (s): Applied => ({ reply: { seq: s, existing: false }, after: [{ _tag: "Message", seq: s }], refresh: true })
        })
      }
      if (command._tag === "Read") {
        const m = yield* repo.membership(id, command.userId)
        const readSeq = Option.match(m, { onNone: () => 0, onSome: (x) => x.readSeq })
        return {
          reply: { seq: readSeq },
          after: [{ _tag: "Frame", to: "members", type: "read_receipt", payload: { conversationId: id, userId: command.userId, readSeq } }],
          refresh: true
        }
      }
      const updated = (reason: string, to: "members" | "self" = "members", extra?: ReadonlyArray<string>): After =>
        extra === undefined
          ? { _tag: "Frame", to, type: "conversation_updated", payload: { conversationId: id, reason } }
          : { _tag: "Frame", to, type: "conversation_updated", payload: { conversationId: id, reason }, extra }
      // the frames the first handling published, or was publishing when it stopped
      const after: ReadonlyArray<After> = (() => {
        switch (command._tag) {
          case "Delete":
            return [{ _tag: "Frame", to: "members", type: "message_deleted", payload: { conversationId: id, seq: command.seq } }]
          case "React":
            return [{ _tag: "Reactions", seq: command.seq }]
          case "Update":
            return [...(command.title !== undefined ? [updated("title")] : []), ...(command.muted !== undefined ? [updated("muted", "self")] : [])]
          case "AddMembers":
            return [updated("members", "members", command.memberIds)]
          case "RemoveMember":
            return [updated("members"), updated(command.memberId === command.userId ? "left" : "removed", "self", [command.memberId])]
          case "Respond":
            return command.accept ? [updated("accepted", "self")] : []
        }
      })()
      return { reply: {}, after, refresh: true }
    })

  const replyTo = (subject: string | undefined, reply: CommandReply) =>
    subject === undefined
      ? Effect.void
      : Effect.sync(() => nats.connection.publish(subject, encoder.encode(JSON.stringify(reply)))).pipe(
        Effect.catchAllDefect((e) => Effect.logWarning("could not answer a conversation command", e))
      )

  /** Publishes a command's frames to the members' inboxes (stored by JetStream before this returns). */
  const publish = (c: ConversationState, command: ConversationCommand, after: ReadonlyArray<After>, envelope: Envelope) =>
    Effect.forEach(after, (a) =>
      Effect.gen(function*() {
        switch (a._tag) {
          case "Message": {
            const recipients = c.members.filter((m) => active(m) && m.joinedSeq < a.seq)
            const [base] = yield* repo.messages(c.id, command._tag === "Send" ? command.senderId : NIL, 0, { _tag: "Seqs", seqs: [a.seq] }, 1)
            if (base === undefined) return
            const sign = (url: string, viewerId: string) => urls.sign(url, viewerId)
            yield* Effect.forEach(recipients, (m) =>
              Effect.gen(function*() {
                // a shared post is shown to each reader only while they may see it
                const row = base.postId === null || m.userId === base.senderId
                  ? base
                  : (yield* repo.messages(c.id, m.userId, 0, { _tag: "Seqs", seqs: [a.seq] }, 1))[0] ?? base
                const message = messageView(row, m.userId, sign)
                yield* inbox.publish(m.userId, "message", { conversationId: c.id, message, request: m.status === "request" }, `dm:${c.id}:${a.seq}:${m.userId}`)
              }), { concurrency: "unbounded", discard: true })
            return
          }
          case "Reactions": {
            const [row] = yield* repo.messages(c.id, NIL, 0, { _tag: "Seqs", seqs: [a.seq] }, 1)
            const reactions = row === undefined ? [] : messageView(row, NIL, (u) => u).reactions
            const recipients = c.members.filter((m) => active(m) && m.joinedSeq < a.seq)
            yield* Effect.forEach(recipients, (m) =>
              inbox.publish(m.userId, "reaction", { conversationId: c.id, seq: a.seq, reactions }, `dmr:${c.id}:${envelope.seq}:${m.userId}`), { concurrency: "unbounded", discard: true })
            return
          }
          case "Frame": {
            const self = command._tag === "Send" ? command.senderId : command.userId
            const targets = new Set(a.to === "self" ? (a.extra ?? [self]) : [...c.members.filter(active).map((m) => m.userId), ...(a.extra ?? [])])
            yield* Effect.forEach(targets, (userId) =>
              inbox.publish(userId, a.type, a.payload, `dmf:${c.id}:${envelope.seq}:${a.type}:${userId}`), { concurrency: "unbounded", discard: true })
          }
        }
      }), { discard: true })

  const load = (id: string) => Effect.map(repo.state(id), Option.match({ onNone: (): State => ({ _tag: "Missing", id }), onSome: (c): State => ({ _tag: "Live", c }) }))

  return behaviour({
    kind: ConversationKind,
    hydrate: (id) => load(id),
    receive: (state: State, command, envelope) =>
      Effect.gen(function*() {
        // a send is idempotent by its client id (a unique index): no applied sequence to keep for it
        const outcome = yield* fences.transaction(envelope, apply(state, command, envelope), { recordApplied: command._tag !== "Send" }).pipe(
          Effect.flatMap(Option.match({ onNone: () => recover(state, command), onSome: Effect.succeed })),
          Effect.catchTag("Refusal", (r) => Effect.succeed(r))
        )
        if (outcome instanceof Refusal) {
          yield* replyTo(command.replyTo, { refused: { code: outcome.code, message: outcome.message } })
          return state
        }
        const moved = outcome.readSeq
        const next: State = outcome.refresh || state._tag === "Missing"
          ? yield* load(state._tag === "Missing" ? state.id : state.c.id)
          : moved !== undefined && command._tag === "Read"
          ? { _tag: "Live", c: { ...state.c, members: state.c.members.map((m) => (m.userId === command.userId ? { ...m, readSeq: moved } : m)) } }
          : state
        const live = next._tag === "Live" ? next.c : state._tag === "Live" ? state.c : undefined
        if (live !== undefined) {
          yield* publish(live, command, outcome.after, envelope)
        }
        yield* replyTo(command.replyTo, { ok: outcome.reply })
        if (next._tag === "Live" && outcome.reply.seq !== undefined && command._tag === "Send") {
          return { _tag: "Live", c: { ...next.c, lastSeq: Math.max(next.c.lastSeq, outcome.reply.seq) } } satisfies State
        }
        return next
      }),
    answer: (state: State) => Effect.succeed(state._tag === "Live" ? { id: state.c.id, lastSeq: state.c.lastSeq, members: state.c.members.length } : { id: state.id, missing: true }),
    describe: (state: State) => (state._tag === "Live" ? { id: state.c.id, kind: state.c.kind, lastSeq: state.c.lastSeq, members: state.c.members.length } : { id: state.id, missing: true })
  })
})
