/**
 * Direct messages: the contract's shapes (threads, messages, pages, inputs) and the conversation
 * actor's protocol — what the DM use-cases send to `conversation:<id>` and what it answers on the
 * command's reply subject. The behaviour lives in `src/actors/conversation/`.
 */
import { Schema } from "effect"
import { UserCard } from "./Accounts.ts"
import { Variants } from "./Posts.ts"
import { StorableString } from "./Text.ts"

export const MAX_MEMBERS = 32
export const MAX_TEXT = 2000
export const MAX_TITLE = 100
/** A sender may delete a message for everyone this long after sending it. */
export const DELETE_WINDOW_MS = 15 * 60 * 1000

export const ClientId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9_.:-]{1,64}$/, { message: () => "clientId is 1–64 characters of A-Z, a-z, 0-9, '_', '.', ':' and '-' (e.g. a UUID)" })
)
/** One emoji (or a short sequence of them, as skin tones and flags are). */
export const Emoji = StorableString.pipe(
  Schema.filter((s) => s.length >= 1 && s.length <= 16 && /^\p{Extended_Pictographic}/u.test(s) && !/[\s\p{L}\p{N}]/u.test(s), {
    message: () => "an emoji, e.g. \"❤️\""
  }),
  // generators (the fuzz suite, property tests) could wait forever for a random string to pass the filter
  Schema.annotations({ arbitrary: () => (fc) => fc.constantFrom("❤️", "😂", "👍", "🔥", "😮", "😢", "👍🏽") })
)

export const ConversationKind = Schema.Literal("direct", "group")
export const MemberRole = Schema.Literal("admin", "member")
export const MemberStatus = Schema.Literal("accepted", "request")

export class ConversationMember extends Schema.Class<ConversationMember>("ConversationMember")({
  user: UserCard,
  role: MemberRole,
  /** The member's read pointer: every message up to it was seen ("Seen" receipts). */
  readSeq: Schema.Int
}) {}

export class MessagePreview extends Schema.Class<MessagePreview>("MessagePreview")({
  seq: Schema.Int,
  sender: UserCard,
  kind: Schema.Literal("text", "post", "photo"),
  text: Schema.NullOr(Schema.String),
  deleted: Schema.Boolean,
  createdAt: Schema.String
}) {}

export class Conversation extends Schema.Class<Conversation>("Conversation")({
  id: Schema.String,
  kind: ConversationKind,
  title: Schema.NullOr(Schema.String),
  members: Schema.Array(ConversationMember),
  /** The thread's latest sequence (0 while empty). */
  lastSeq: Schema.Int,
  lastMessage: Schema.NullOr(MessagePreview),
  lastActivityAt: Schema.String,
  /** Messages after your read pointer that are not yours and not deleted. */
  unreadCount: Schema.Int,
  readSeq: Schema.Int,
  muted: Schema.Boolean,
  /** `request`: someone you do not follow wrote to you first; accept it to move it to your inbox. */
  status: MemberStatus,
  role: MemberRole
}) {}

export const ConversationPage = Schema.Struct({
  items: Schema.Array(Conversation),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean
})
export type ConversationPage = typeof ConversationPage.Type

export class SharedPost extends Schema.Class<SharedPost>("SharedPost")({
  id: Schema.String,
  thumbnail: Schema.NullOr(Schema.String),
  caption: Schema.String,
  author: UserCard
}) {}

export class MessagePhoto extends Schema.Class<MessagePhoto>("MessagePhoto")({
  status: Schema.Literal("processing", "ready", "failed"),
  /** Signed for the reader; they expire like every signed media URL (fetch the page again). */
  variants: Schema.NullOr(Variants),
  placeholder: Schema.NullOr(Schema.String),
  width: Schema.NullOr(Schema.Int),
  height: Schema.NullOr(Schema.Int)
}) {}

export class ReplyPreview extends Schema.Class<ReplyPreview>("ReplyPreview")({
  seq: Schema.Int,
  sender: UserCard,
  text: Schema.NullOr(Schema.String),
  deleted: Schema.Boolean
}) {}

/** A story a message replies or reacts to; only while the reader may still see it is it `available` (with its thumbnail). */
export class StoryQuote extends Schema.Class<StoryQuote>("StoryQuote")({
  id: Schema.String,
  kind: Schema.Literal("reply", "reaction"),
  thumbnail: Schema.NullOr(Schema.String),
  available: Schema.Boolean
}) {}

export class Reaction extends Schema.Class<Reaction>("Reaction")({
  emoji: Schema.String,
  user: UserCard
}) {}

export class Message extends Schema.Class<Message>("Message")({
  conversationId: Schema.String,
  /** 1, 2, 3 … without a gap, per conversation. */
  seq: Schema.Int,
  /** Your own messages' client id (null on everyone else's). */
  clientId: Schema.NullOr(Schema.String),
  sender: UserCard,
  kind: Schema.Literal("text", "post", "photo"),
  text: Schema.NullOr(Schema.String),
  post: Schema.NullOr(SharedPost),
  /** A shared post the reader may not see (deleted, private, behind a block): shown as unavailable. */
  postUnavailable: Schema.Boolean,
  photo: Schema.NullOr(MessagePhoto),
  replyTo: Schema.NullOr(ReplyPreview),
  /** A reply or reaction to a story (sent from the story viewer). */
  story: Schema.NullOr(StoryQuote),
  reactions: Schema.Array(Reaction),
  createdAt: Schema.String,
  /** A tombstone keeps its sequence; its text, post and photo are gone. */
  deletedAt: Schema.NullOr(Schema.String)
}) {}

export const MessagePage = Schema.Struct({
  /** Oldest first. */
  items: Schema.Array(Message),
  /** Pages older messages. */
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean,
  /** Pages newer messages (null on the latest page). */
  newerCursor: Schema.NullOr(Schema.String),
  hasNewer: Schema.Boolean
})
export type MessagePage = typeof MessagePage.Type

export class UnreadSummary extends Schema.Class<UnreadSummary>("UnreadSummary")({
  /** Unread messages in your inbox's threads (muted ones and requests left out). */
  unreadCount: Schema.Int,
  /** Threads of your inbox with unread messages (muted ones left out). */
  conversations: Schema.Int,
  /** Message requests waiting for you. */
  requests: Schema.Int
}) {}

export class ReadState extends Schema.Class<ReadState>("ReadState")({
  readSeq: Schema.Int,
  unreadCount: Schema.Int
}) {}

export const ReactionList = Schema.Struct({ reactions: Schema.Array(Reaction) })

// ---- inputs

/** A message sequence as a client may send one (within what PostgreSQL's bigint and a JS number hold). */
const Seq = Schema.Int.pipe(Schema.positive(), Schema.lessThanOrEqualTo(Number.MAX_SAFE_INTEGER))

const UsernameRef = StorableString.pipe(Schema.minLength(1), Schema.maxLength(64))
const Title = StorableString.pipe(Schema.maxLength(MAX_TITLE, { message: () => `a title is at most ${MAX_TITLE} characters` }))

export class NewConversation extends Schema.Class<NewConversation>("NewConversation")({
  memberUsernames: Schema.Array(UsernameRef).pipe(
    Schema.minItems(1, { message: () => "name at least one other member" }),
    Schema.maxItems(MAX_MEMBERS - 1, { message: () => `a group has at most ${MAX_MEMBERS} members, you included` })
  ),
  title: Schema.optional(Title)
}) {}

export class ConversationPatch extends Schema.Class<ConversationPatch>("ConversationPatch")({
  title: Schema.optional(Schema.NullOr(Title)),
  muted: Schema.optional(Schema.Boolean)
}) {}

export class NewMessage extends Schema.Class<NewMessage>("NewMessage")({
  clientId: ClientId,
  text: Schema.optional(StorableString.pipe(Schema.maxLength(MAX_TEXT, { message: () => `a message is at most ${MAX_TEXT} characters` }))),
  postId: Schema.optional(Schema.UUID),
  mediaUploadId: Schema.optional(Schema.UUID),
  replyToSeq: Schema.optional(Seq)
}) {}

export class ReadPointer extends Schema.Class<ReadPointer>("ReadPointer")({
  seq: Schema.Int.pipe(Schema.nonNegative(), Schema.lessThanOrEqualTo(Number.MAX_SAFE_INTEGER))
}) {}

export class NewReaction extends Schema.Class<NewReaction>("NewReaction")({ emoji: Emoji }) {}

export class MemberList extends Schema.Class<MemberList>("MemberList")({
  usernames: Schema.Array(UsernameRef).pipe(Schema.minItems(1), Schema.maxItems(MAX_MEMBERS - 1))
}) {}

export const ConversationPath = Schema.Struct({ id: Schema.UUID })
export const MessagePath = Schema.Struct({ id: Schema.UUID, seq: Schema.compose(Schema.NumberFromString, Seq) })
export const MemberPath = Schema.Struct({ id: Schema.UUID, username: UsernameRef })

export const MessageQuery = Schema.Struct({
  cursor: Schema.optional(StorableString.pipe(Schema.maxLength(200))),
  around: Schema.optional(Schema.compose(Schema.NumberFromString, Seq)),
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 50)), { default: () => 30 })
})

// ---- the actor's protocol

const Uuid = Schema.UUID
const ReplyTo = Schema.optional(Schema.String.pipe(Schema.maxLength(200)))

export const ConversationCommand = Schema.Union(
  Schema.TaggedStruct("Send", {
    senderId: Uuid,
    clientId: ClientId,
    text: Schema.optional(Schema.String),
    postId: Schema.optional(Uuid),
    mediaId: Schema.optional(Uuid),
    replyToSeq: Schema.optional(Schema.Int),
    /** The story this message replies or reacts to. */
    story: Schema.optional(Schema.Struct({ id: Uuid, kind: Schema.Literal("reply", "reaction") })),
    /** When the sender sent it (the API node's clock). */
    at: Schema.String,
    replyTo: ReplyTo
  }),
  Schema.TaggedStruct("Read", { userId: Uuid, seq: Schema.Int, replyTo: ReplyTo }),
  Schema.TaggedStruct("Delete", { userId: Uuid, seq: Schema.Int, at: Schema.String, replyTo: ReplyTo }),
  Schema.TaggedStruct("React", { userId: Uuid, seq: Schema.Int, emoji: Schema.NullOr(Schema.String), toggle: Schema.Boolean, replyTo: ReplyTo }),
  Schema.TaggedStruct("Update", { userId: Uuid, title: Schema.optional(Schema.NullOr(Schema.String)), muted: Schema.optional(Schema.Boolean), replyTo: ReplyTo }),
  Schema.TaggedStruct("AddMembers", { userId: Uuid, memberIds: Schema.Array(Uuid), replyTo: ReplyTo }),
  Schema.TaggedStruct("RemoveMember", { userId: Uuid, memberId: Uuid, replyTo: ReplyTo }),
  Schema.TaggedStruct("Respond", { userId: Uuid, accept: Schema.Boolean, replyTo: ReplyTo })
)
export type ConversationCommand = typeof ConversationCommand.Type

export const ConversationQuery = Schema.TaggedStruct("Status", {})

export const ConversationProtocol = { name: "conversation", command: ConversationCommand, query: ConversationQuery } as const

/** Why the actor refused a command: the use-case answers the matching 4xx. */
export const RefusalCode = Schema.Literal("NotFound", "Forbidden", "Unprocessable")
export type RefusalCode = typeof RefusalCode.Type

/** What the actor answers on a command's reply subject. */
export const CommandReply = Schema.Union(
  Schema.Struct({ ok: Schema.Struct({ seq: Schema.optional(Schema.Int), existing: Schema.optional(Schema.Boolean) }) }),
  Schema.Struct({ refused: Schema.Struct({ code: RefusalCode, message: Schema.String }) })
)
export type CommandReply = typeof CommandReply.Type
