/**
 * Stories on the wire: a story, the tray, views and viewers, replies, and the audience lists
 * (close friends, "hide my story from", mutes). Rules are in social/Stories.ts.
 */
import { Schema } from "effect"
import { UserCard } from "./Accounts.ts"
import { ClientId, Emoji } from "./Conversations.ts"
import { StorableString } from "./Text.ts"

export const StoryAudience = Schema.Literal("followers", "closeFriends")
export type StoryAudience = typeof StoryAudience.Type
export const StoryStatus = Schema.Literal("processing", "published", "failed")

/** A story's rendered image: the 9:16 cover crop and its thumbnail (both WebP), and a tiny placeholder. */
export class StoryMedia extends Schema.Class<StoryMedia>("StoryMedia")({
  /** 1080×1920 (smaller originals are not enlarged). */
  url: Schema.String,
  /** 180×320. */
  thumbnail: Schema.String,
  /** A data: URL to show while the image loads. */
  placeholder: Schema.String,
  width: Schema.Int,
  height: Schema.Int,
  dominantColor: Schema.String
}) {}

export class Story extends Schema.Class<Story>("Story")({
  id: Schema.String,
  /** Grows with publication (0 while processing); read pointers compare against it. */
  seq: Schema.Int,
  author: UserCard,
  audience: StoryAudience,
  status: StoryStatus,
  createdAt: Schema.String,
  publishedAt: Schema.NullOr(Schema.String),
  /** `publishedAt` + 24 h, by the database clock. */
  expiresAt: Schema.NullOr(Schema.String),
  media: Schema.NullOr(StoryMedia),
  /** Whether the viewer has seen it (their read pointer for the author is at or past it). */
  seen: Schema.Boolean,
  /** The author's alone: how many people viewed it (null for everyone else). */
  viewCount: Schema.NullOr(Schema.Int)
}) {}

export class StoryAccepted extends Schema.Class<StoryAccepted>("StoryAccepted")({
  storyId: Schema.String,
  status: StoryStatus
}) {}

/** The JSON form of `POST /stories`: a direct upload made before. */
export class StoryFromUpload extends Schema.Class<StoryFromUpload>("StoryFromUpload")({
  uploadId: Schema.UUID,
  audience: Schema.optionalWith(StoryAudience, { default: () => "followers" as const }),
  clientId: Schema.optional(ClientId)
}) {}

/** The fields of the multipart form of `POST /stories` besides its `image`. */
export const StoryFormFields = Schema.Struct({
  audience: Schema.optionalWith(StoryAudience, { default: () => "followers" as const }),
  clientId: Schema.optional(ClientId)
})

export class TrayStory extends Schema.Class<TrayStory>("TrayStory")({
  id: Schema.String,
  seq: Schema.Int,
  expiresAt: Schema.String,
  seen: Schema.Boolean
}) {}

export class TrayEntry extends Schema.Class<TrayEntry>("TrayEntry")({
  user: UserCard,
  /** The viewer's own entry (always first). */
  own: Schema.Boolean,
  unseenCount: Schema.Int,
  /** When the author's newest active story was published. */
  latestAt: Schema.String,
  /** The highest `seq` of this author the viewer saw (0: none). */
  readPointer: Schema.Int,
  /** At least one of the active stories is for close friends only. */
  closeFriends: Schema.Boolean,
  /** The active ones, oldest first. */
  stories: Schema.Array(TrayStory)
}) {}

export const TrayPage = Schema.Struct({
  items: Schema.Array(TrayEntry),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean
})
export type TrayPage = typeof TrayPage.Type

export const TrayQuery = Schema.Struct({
  cursor: Schema.optional(StorableString.pipe(Schema.maxLength(200))),
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 100)), { default: () => 50 })
})

/** A person's active stories for the viewer, oldest first: the viewer sequence. */
export const UserStories = Schema.Struct({
  user: UserCard,
  readPointer: Schema.Int,
  items: Schema.Array(Story)
})
export type UserStories = typeof UserStories.Type

export const StoryPage = Schema.Struct({
  items: Schema.Array(Story),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean
})
export type StoryPage = typeof StoryPage.Type

export class StoryViewed extends Schema.Class<StoryViewed>("StoryViewed")({
  storyId: Schema.String,
  viewed: Schema.Boolean
}) {}

export class StoryViewer extends Schema.Class<StoryViewer>("StoryViewer")({
  user: UserCard,
  viewedAt: Schema.String
}) {}

export const ViewerPage = Schema.Struct({
  items: Schema.Array(StoryViewer),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean,
  viewCount: Schema.Int
})
export type ViewerPage = typeof ViewerPage.Type

const MAX_REPLY = 2000
export class StoryReply extends Schema.Class<StoryReply>("StoryReply")({
  clientId: ClientId,
  text: Schema.optional(StorableString.pipe(Schema.minLength(1), Schema.maxLength(MAX_REPLY, { message: () => `a reply is at most ${MAX_REPLY} characters` }))),
  emoji: Schema.optional(Emoji)
}) {}

export class StoryReplySent extends Schema.Class<StoryReplySent>("StoryReplySent")({
  conversationId: Schema.String,
  seq: Schema.Int
}) {}
