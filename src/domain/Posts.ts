/** Posts, uploads and media as they appear on the wire. */
import { Schema } from "effect"
import { UserCard } from "./Accounts.ts"
import { StorableString } from "./Text.ts"

export const PostStatus = Schema.Literal("processing", "published", "failed")

export const Caption = StorableString.pipe(
  Schema.filter((s) => [...s].length <= 2200, { message: () => "a caption is at most 2,200 characters" })
)
export const AltText = StorableString.pipe(
  Schema.filter((s) => [...s].length <= 1000, { message: () => "alt text is at most 1,000 characters" })
)
export const Location = StorableString.pipe(
  Schema.filter((s) => [...s].length <= 100, { message: () => "a location is at most 100 characters" })
)

export class Variants extends Schema.Class<Variants>("Variants")({
  thumbnail: Schema.String,
  small: Schema.String,
  medium: Schema.String,
  large: Schema.String
}) {}

export class PostCounts extends Schema.Class<PostCounts>("PostCounts")({
  likes: Schema.Int,
  comments: Schema.Int
}) {}

export class PostViewerFlags extends Schema.Class<PostViewerFlags>("PostViewerFlags")({
  isLiked: Schema.Boolean,
  isSaved: Schema.Boolean
}) {}

/** At most this many photos in one post (a carousel). */
export const MAX_POST_MEDIA = 10

export const MediaStatus = Schema.Literal("processing", "ready", "failed")

/** One photo of a post, in the post's order: its own variants, size, placeholder and alt text. */
export class PostMedia extends Schema.Class<PostMedia>("PostMedia")({
  status: MediaStatus,
  /** As the post's `variants`: null until the photo is rendered; signed for a private author's viewers. */
  variants: Schema.NullOr(Variants),
  width: Schema.NullOr(Schema.Int),
  height: Schema.NullOr(Schema.Int),
  placeholder: Schema.NullOr(Schema.String),
  dominantColor: Schema.NullOr(Schema.String),
  altText: Schema.String
}) {}

export class Post extends Schema.Class<Post>("Post")({
  id: Schema.String,
  status: PostStatus,
  caption: Schema.String,
  altText: Schema.String,
  location: Schema.NullOr(Schema.String),
  /**
   * URLs of the four WebP sizes (150, 320, 640, 1080 px wide); null until published. A private
   * author's are signed for the viewer and expire (MEDIA_URL_TTL_SECONDS): fetch the post again for fresh ones.
   */
  variants: Schema.NullOr(Variants),
  width: Schema.NullOr(Schema.Int),
  height: Schema.NullOr(Schema.Int),
  /** A tiny blurred preview as a data URI, to show until the image loads. */
  placeholder: Schema.NullOr(Schema.String),
  dominantColor: Schema.NullOr(Schema.String),
  hashtags: Schema.Array(Schema.String),
  mentions: Schema.Array(Schema.String),
  counts: PostCounts,
  author: UserCard,
  viewer: Schema.NullOr(PostViewerFlags),
  createdAt: Schema.String,
  publishedAt: Schema.NullOr(Schema.String),
  /**
   * The post's photos in order (1–10: a carousel when more than one). The single-image fields
   * above (`variants`, `width`, `height`, `placeholder`, `dominantColor`, `altText`) are the first
   * photo's, kept for older clients.
   */
  media: Schema.Array(PostMedia)
}) {}

export class PostAccepted extends Schema.Class<PostAccepted>("PostAccepted")({
  postId: Schema.String,
  status: PostStatus
}) {}

const UploadIds = Schema.Array(Schema.UUID).pipe(
  Schema.minItems(1, { message: () => "a post has at least one photo" }),
  Schema.maxItems(MAX_POST_MEDIA, { message: () => `a post has at most ${MAX_POST_MEDIA} photos` })
)
const AltTexts = Schema.Array(AltText).pipe(
  Schema.maxItems(MAX_POST_MEDIA, { message: () => `a post has at most ${MAX_POST_MEDIA} photos` })
)

/**
 * Creating a post from direct uploads (`POST /uploads` first): one `uploadId`, or `uploadIds` in
 * the carousel's order with `altTexts` index by index (`altText` is the first photo's when
 * `altTexts` is not given).
 */
export class CreateFromUpload extends Schema.Class<CreateFromUpload>("CreateFromUpload")({
  uploadId: Schema.optional(Schema.UUID),
  uploadIds: Schema.optional(UploadIds),
  caption: Schema.optionalWith(Caption, { default: () => "" }),
  altText: Schema.optionalWith(AltText, { default: () => "" }),
  altTexts: Schema.optional(AltTexts),
  location: Schema.optional(Location)
}) {}

/**
 * Editing your post's words: the caption (its hashtags and mentions follow it) and the alt text —
 * `altText` is the first photo's; `altTexts` sets each photo's, in order (a shorter list leaves
 * the rest as they are).
 */
export class PostUpdate extends Schema.Class<PostUpdate>("PostUpdate")({
  caption: Schema.optional(Caption),
  altText: Schema.optional(AltText),
  altTexts: Schema.optional(AltTexts)
}) {}

/**
 * The multipart form of `POST /posts`, for the contract's documentation; parts are streamed. Up to
 * 10 `image` parts make a carousel in their order; each photo's alt text is an `altText` part sent
 * before its image (or `altText[i]`, 0-based, anywhere; a lone `altText` after a single image is
 * that image's, as before).
 */
export const PostForm = Schema.Struct({
  image: Schema.Unknown.annotations({ description: "the photo(s): 1–10 `image` parts, each JPEG, PNG, WebP, AVIF or GIF (first frame), at most 10 MB" }),
  caption: Schema.optional(Caption),
  altText: Schema.optional(AltText),
  location: Schema.optional(Location)
})

export class UploadTarget extends Schema.Class<UploadTarget>("UploadTarget")({
  uploadId: Schema.String,
  /** PUT the image bytes here (with its Content-Type) before it expires. */
  url: Schema.String,
  method: Schema.Literal("PUT"),
  /** Headers the upload must carry. */
  headers: Schema.Record({ key: Schema.String, value: Schema.String }),
  maxBytes: Schema.Int,
  expiresAt: Schema.String
}) {}

export const PostPage = Schema.Struct({
  items: Schema.Array(Post),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean
})
export type PostPage = typeof PostPage.Type

export const PostIdPath = Schema.Struct({ id: Schema.UUID })

export class AvatarAccepted extends Schema.Class<AvatarAccepted>("AvatarAccepted")({
  status: Schema.Literal("processing")
}) {}
