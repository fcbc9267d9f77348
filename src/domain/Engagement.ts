/** Likes, saves, comments and the home feed as they appear on the wire. */
import { Schema } from "effect"
import { UserCard } from "./Accounts.ts"
import { Post } from "./Posts.ts"
import { StorableString } from "./Text.ts"

/** The state after a like/unlike: idempotent, so a double-submit answers the same. */
export class LikeState extends Schema.Class<LikeState>("LikeState")({
  liked: Schema.Boolean,
  likes: Schema.Int
}) {}

export class SaveState extends Schema.Class<SaveState>("SaveState")({
  saved: Schema.Boolean
}) {}

export const CommentText = StorableString.pipe(
  Schema.filter((s) => s.trim().length > 0, { message: () => "a comment cannot be empty" }),
  Schema.filter((s) => [...s].length <= 2200, { message: () => "a comment is at most 2,200 characters" })
)

export class NewComment extends Schema.Class<NewComment>("NewComment")({
  text: CommentText
}) {}

export class Comment extends Schema.Class<Comment>("Comment")({
  id: Schema.String,
  postId: Schema.String,
  text: Schema.String,
  author: UserCard,
  createdAt: Schema.String
}) {}

export const CommentPage = Schema.Struct({
  items: Schema.Array(Comment),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean
})
export type CommentPage = typeof CommentPage.Type

/** `GET /feed`: newest first; `nextCursor` stays valid while new posts arrive. */
export const FeedPage = Schema.Struct({
  items: Schema.Array(Post),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean
})
export type FeedPage = typeof FeedPage.Type

/** Header set on a feed answered from PostgreSQL because Redis is unreachable. */
export const DegradedHeader = "x-aperture-degraded"
