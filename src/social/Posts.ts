/**
 * Posts: creating one from a streamed multipart upload or a direct upload, reading it with the
 * author's privacy and blocks enforced, the profile grid, and deletion. Creation stores the
 * original first (it is big and may fail), then writes the post row and its media job in one
 * transaction through the outbox — so there is never a post without its job, nor a job without
 * its post; an original left behind by any failure (a bad field, a dropped connection, the
 * database) is removed before the error is answered.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option, ParseResult, Schema, Stream } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { BadRequest, Conflict, NotFound, PayloadTooLarge, RateLimited, UnsupportedMediaType, Unprocessable } from "../domain/ApiError.ts"
import { PostDeleted } from "../domain/DomainEvents.ts"
import { MediaJob } from "../domain/Media.ts"
import { AltText, MAX_POST_MEDIA, type Post, PostAccepted, PostForm, type PostPage, type PostUpdate } from "../domain/Posts.ts"
import { Timelines } from "../redis/Timelines.ts"
import { EngagementRepo } from "../db/Engagement.ts"
import { GraphRepo } from "../db/Graph.ts"
import { OutboxRepo } from "../db/Outbox.ts"
import { PostsRepo } from "../db/Posts.ts"
import { UsersRepo } from "../db/Users.ts"
import { BlobError, BlobStore, BlobTooLarge } from "../media/BlobStore.ts"
import { keyOfUrl, photoOriginalKey } from "../media/Keys.ts"
import { MediaUrls } from "../media/MediaUrls.ts"
import { SNIFF_BYTES, sniffImage } from "../media/Sniff.ts"
import { decodeCursor, pageOf } from "./Cursor.ts"
import { checkImageHeader } from "./ImageCheck.ts"
import { invalidForm, readImagesForm, tooLarge as tooLargeFor, type UploadBody } from "./ImageForm.ts"
import { type Limited, limited, Limits } from "./Limits.ts"
import { postOf } from "./Views.ts"


export interface PostInput {
  readonly caption: string
  /** The first photo's alt text, when `altTexts` is not given. */
  readonly altText: string
  /** Each photo's alt text, in order. */
  readonly altTexts?: ReadonlyArray<string> | undefined
  readonly location?: string | undefined
}

interface Original {
  readonly key: string
  readonly type: string
  readonly size: number
}

/** `#tags` and `@mentions` in a caption, lower-cased and without repeats. */
export const extractTags = (caption: string) => {
  const hashtags = new Set<string>()
  const mentions = new Set<string>()
  for (const m of caption.matchAll(/(?:^|[^\p{L}\p{N}_&])#([\p{L}\p{N}_]{1,64})/gu)) hashtags.add(m[1]!.toLowerCase())
  for (const m of caption.matchAll(/(?:^|[^\p{L}\p{N}_.@])@([A-Za-z0-9._]{1,30})/gu)) mentions.add(m[1]!.toLowerCase().replace(/\.+$/, ""))
  return { hashtags: [...hashtags].slice(0, 30), mentions: [...mentions].filter((m) => m.length > 0).slice(0, 20) }
}

type CreateError = PayloadTooLarge | UnsupportedMediaType | RateLimited

const decodeFields = Schema.decodeUnknown(Schema.Struct({
  caption: Schema.optionalWith(PostForm.fields.caption.from, { default: () => "" }),
  altText: Schema.optionalWith(PostForm.fields.altText.from, { default: () => "" }),
  location: Schema.optional(PostForm.fields.location.from)
}))
const decodeAltTexts = Schema.decodeUnknown(Schema.Array(AltText))

/** The 400 for a bad alt text names the form's field: `altText` for a single photo, `altText[i]` in a carousel. */
const altTextsInvalid = (error: ParseResult.ParseError, images: number) =>
  new BadRequest({
    message: "invalid form",
    details: ParseResult.ArrayFormatter.formatErrorSync(error).map(({ message, path: [index, ...rest] }) => ({
      path: [images === 1 ? "altText" : `altText[${String(index)}]`, ...rest.map(String)],
      message
    }))
  })

/** Each photo's alt text: `altTexts` when given (missing ones empty), else `altText` for the first. */
const altTextsOf = (input: PostInput, photos: number) =>
  Array.from({ length: photos }, (_, i) => input.altTexts !== undefined ? input.altTexts[i] ?? "" : i === 0 ? input.altText : "")

export class Posts extends Context.Tag("Posts")<Posts, {
  /**
   * A new post from a multipart form (`POST /posts`): the author's write budget is spent before
   * any bytes are read, the image is stored as it streams in, then the fields are decoded.
   */
  readonly createFromForm: <E>(authorId: string, body: UploadBody<E>) => Effect.Effect<Limited<PostAccepted>, CreateError | BadRequest | Unprocessable>
  /** A post of 1–10 direct uploads, in the carousel's order. */
  readonly createFromUpload: (authorId: string, uploadIds: ReadonlyArray<string>, input: PostInput) => Effect.Effect<Limited<PostAccepted>, CreateError | BadRequest | Conflict | Unprocessable | NotFound>
  readonly get: (postId: string, viewerId: string | null) => Effect.Effect<Post, NotFound>
  readonly grid: (username: string, viewerId: string | null, q: { readonly cursor?: string | undefined; readonly limit: number }) => Effect.Effect<PostPage, NotFound | BadRequest>
  readonly remove: (postId: string, viewerId: string) => Effect.Effect<Limited<void>, NotFound | RateLimited>
  /**
   * The posts the viewer saved, newest save first; each read as the viewer may see it now (a post
   * deleted, or of an account that went private or blocked them since, is left out of its page).
   */
  readonly saved: (viewerId: string, q: { readonly cursor?: string | undefined; readonly limit: number }) => Effect.Effect<PostPage, BadRequest>
  /**
   * The author edits the caption (hashtags and mentions follow it) and/or the alt text; the post
   * as they see it after. Anyone else's post is a 404. Feed cards drop the old words at once.
   */
  readonly update: (postId: string, viewerId: string, change: PostUpdate) => Effect.Effect<Limited<Post>, NotFound | RateLimited>
  /** A direct upload of the author's, not used yet, holding an image we take: its key, sniffed type and size. */
  readonly checkUpload: (authorId: string, uploadId: string) => Effect.Effect<
    { readonly key: string; readonly type: string; readonly size: number },
    NotFound | Conflict | Unprocessable | PayloadTooLarge | UnsupportedMediaType
  >
  /** Stores an original under `key` after checking its first bytes; the sniffed type and size. */
  readonly storeOriginal: <E>(key: string, image: Stream.Stream<Uint8Array, E>) => Effect.Effect<{ readonly type: string; readonly size: number }, E | PayloadTooLarge | UnsupportedMediaType>
}>() {}

const notFound = () => new NotFound({ message: "no such post" })

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const sql = yield* SqlClient.SqlClient
  const store = yield* BlobStore
  const posts = yield* PostsRepo
  const timelines = yield* Timelines
  const users = yield* UsersRepo
  const graph = yield* GraphRepo
  const outbox = yield* OutboxRepo
  const limits = yield* Limits
  const engagement = yield* EngagementRepo
  const urls = yield* MediaUrls
  /** A private author's media reach a viewer (who may see them now) only as URLs signed for them. */
  const signerFor = (author: { readonly isPrivate: boolean }, viewerId: string | null) =>
    author.isPrivate && viewerId !== null ? (url: string) => urls.sign(url, viewerId) : undefined
  const maxBytes = config.limits.uploadBytes
  const tooLarge = () => tooLargeFor(maxBytes)
  const unsupported = () =>
    new UnsupportedMediaType({ message: "send a JPEG, PNG, WebP, AVIF or GIF image (recognised by its content, not its name)" })

  /** Refuses the stream as soon as its first bytes are not an image we take — before storing anything. */
  const sniffing = <E>(image: Stream.Stream<Uint8Array, E>, found: (type: string) => void) => {
    let head = new Uint8Array(0)
    let decided = false
    return Stream.mapEffect(image, (chunk): Effect.Effect<Uint8Array, UnsupportedMediaType> => {
      if (decided) return Effect.succeed(chunk)
      const merged = new Uint8Array(head.length + chunk.length)
      merged.set(head)
      merged.set(chunk, head.length)
      head = merged
      if (head.length < SNIFF_BYTES) return Effect.succeed(chunk)
      decided = true
      const type = sniffImage(head)
      if (type === undefined) return Effect.fail(unsupported())
      found(type)
      return Effect.succeed(chunk)
    }).pipe(
      Stream.concat(Stream.suspend(() => {
        if (decided) return Stream.empty
        // shorter than the sniff window: decide on what there is
        const type = sniffImage(head)
        if (type === undefined) return Stream.fail(unsupported())
        found(type)
        return Stream.empty
      }))
    )
  }

  const storeOriginal = <E>(key: string, image: Stream.Stream<Uint8Array, E>) =>
    Effect.gen(function*() {
      let type = ""
      const { size } = yield* store.put(key, sniffing(image, (t) => (type = t)), { contentType: "application/octet-stream", maxBytes }).pipe(
        Effect.catchAll((e): Effect.Effect<never, E | PayloadTooLarge | UnsupportedMediaType> =>
          e instanceof BlobTooLarge ? Effect.fail(tooLarge()) : e instanceof BlobError ? Effect.die(e) : Effect.fail(e as E | UnsupportedMediaType)
        )
      )
      if (size === 0) return yield* Effect.fail(unsupported())
      return { type, size }
    })

  /** The post row, its photos, its tags and its one media job (all photos), in one transaction. */
  const insertWithJob = (postId: string, authorId: string, input: PostInput, originals: ReadonlyArray<Original>) =>
    sql.withTransaction(Effect.gen(function*() {
      const { hashtags, mentions } = extractTags(input.caption)
      const altTexts = altTextsOf(input, originals.length)
      yield* posts.insert({
        id: postId,
        authorId,
        caption: input.caption,
        location: input.location ?? null,
        media: originals.map((o, i) => ({ altText: altTexts[i]!, originalKey: o.key, originalType: o.type, originalBytes: o.size })),
        hashtags,
        mentions
      })
      const job = new MediaJob({ kind: "post", id: postId, key: originals[0]!.key, enqueuedAt: new Date().toISOString() })
      yield* outbox.appendMessage("media.post", job, postId)
      return new PostAccepted({ postId, status: "processing" })
    })).pipe(Effect.orDie)

  const visiblePost = (postId: string, viewerId: string | null) =>
    Effect.gen(function*() {
      const post = yield* posts.byId(postId)
      if (Option.isNone(post)) return yield* notFound()
      const p = post.value
      const author = yield* users.byId(p.authorId)
      if (Option.isNone(author)) return yield* notFound()
      if (viewerId !== p.authorId) {
        // others see published posts only, never across a block, and a private author's only as followers
        if (p.status !== "published") return yield* notFound()
        if (viewerId !== null && (yield* graph.blockedEitherWay(viewerId, p.authorId))) return yield* notFound()
        if (author.value.isPrivate) {
          if (viewerId === null || !(yield* graph.relation(viewerId, p.authorId)).isFollowing) return yield* notFound()
        }
      }
      return { post: p, author: author.value }
    })

  /** A direct upload of `authorId`'s, used by nothing yet, holding an image we take: its key, type and size. */
  const checkUpload = (authorId: string, uploadId: string) =>
    Effect.gen(function*() {
      const upload = yield* posts.upload(uploadId)
      if (Option.isNone(upload) || upload.value.userId !== authorId) return yield* new NotFound({ message: "no such upload" })
      if (upload.value.usedAt !== null) return yield* new Conflict({ message: "that upload was already used" })
      if (upload.value.expiresAt.getTime() < Date.now()) return yield* new Unprocessable({ message: "that upload has expired; ask for a new one" })
      const key = upload.value.objectKey
      const info = yield* store.stat(key).pipe(Effect.orDie)
      if (Option.isNone(info)) return yield* new Unprocessable({ message: "nothing was uploaded to that upload's URL yet" })
      if (info.value.size > Number(upload.value.maxBytes)) {
        yield* Effect.ignore(store.remove([key]))
        return yield* tooLarge()
      }
      const head = yield* store.head(key, SNIFF_BYTES).pipe(Effect.orDie)
      const type = Option.flatMap(head, (h) => Option.fromNullable(sniffImage(h)))
      if (Option.isNone(type)) {
        yield* Effect.ignore(store.remove([key]))
        return yield* unsupported()
      }
      // refused here, the object goes: the same signed URL may then be used again while it lasts
      yield* checkImageHeader(store, key, info.value.size, config.media.maxPixels).pipe(
        Effect.tapError(() => Effect.ignore(store.remove([key])))
      )
      return { key, type: type.value, size: info.value.size }
    })

  const self: Context.Tag.Service<Posts> = Posts.of({
    storeOriginal,

    createFromForm: (authorId, body) =>
      Effect.gen(function*() {
        const rateLimit = yield* limits.enforce(limits.rules.write, authorId)
        const postId = crypto.randomUUID()
        const stored: Array<Original> = []
        return yield* Effect.gen(function*() {
          const form = yield* readImagesForm(body, maxBytes, MAX_POST_MEDIA, (index, image) => {
            const key = photoOriginalKey(postId, index)
            return storeOriginal(key, image).pipe(Effect.map((r) => {
              stored[index] = { key, ...r }
            }))
          })
          if (form.problem !== undefined) return yield* new BadRequest({ message: form.problem })
          if (form.images === 0 || stored.length !== form.images) return yield* new BadRequest({ message: "the form has no `image` part" })
          yield* Effect.forEach(stored, (o) => checkImageHeader(store, o.key, o.size, config.media.maxPixels), { discard: true })
          const fields = yield* decodeFields(form.fields).pipe(Effect.mapError(invalidForm))
          const altTexts = yield* decodeAltTexts(form.altTexts).pipe(Effect.mapError((e) => altTextsInvalid(e, form.images)))
          return yield* insertWithJob(postId, authorId, { ...fields, altTexts }, stored)
        }).pipe(
          // whatever went wrong once an image may have been stored, none may stay behind
          Effect.onError(() => Effect.ignore(store.remove(Array.from({ length: MAX_POST_MEDIA }, (_, i) => photoOriginalKey(postId, i))))),
          Effect.map(limited(rateLimit))
        )
      }),

    checkUpload,

    createFromUpload: (authorId, uploadIds, input) =>
      Effect.gen(function*() {
        if (uploadIds.length === 0) return yield* new BadRequest({ message: "a post has at least one photo: send `uploadIds`" })
        if (uploadIds.length > MAX_POST_MEDIA) return yield* new BadRequest({ message: `a post has at most ${MAX_POST_MEDIA} photos` })
        if (new Set(uploadIds).size !== uploadIds.length) return yield* new BadRequest({ message: "an upload appears twice in `uploadIds`" })
        if (input.altTexts !== undefined && input.altTexts.length > uploadIds.length) {
          return yield* new BadRequest({ message: `${input.altTexts.length} alt texts for ${uploadIds.length} photos` })
        }
        const rateLimit = yield* limits.enforce(limits.rules.write, authorId)
        const originals = yield* Effect.forEach(uploadIds, (id) => checkUpload(authorId, id))
        const postId = crypto.randomUUID()
        return yield* sql.withTransaction(Effect.gen(function*() {
          // claiming the uploads and creating the post commit together: a reuse race has one winner
          for (const uploadId of uploadIds) {
            if (!(yield* posts.useUpload(uploadId, authorId))) {
              return yield* new Conflict({ message: "that upload was already used for a post" })
            }
          }
          return yield* insertWithJob(postId, authorId, input, originals)
        })).pipe(Effect.catchTag("SqlError", Effect.die), Effect.map(limited(rateLimit)))
      }),

    get: (postId, viewerId) =>
      Effect.gen(function*() {
        const { author, post } = yield* visiblePost(postId, viewerId)
        const flags = viewerId === null ? null : yield* engagement.flags(postId, viewerId)
        return postOf(post, author, flags, signerFor(author, viewerId))
      }),

    grid: (username, viewerId, q) =>
      Effect.gen(function*() {
        const author = yield* users.byUsername(username.trim().toLowerCase())
        if (Option.isNone(author)) return yield* new NotFound({ message: `no account @${username}` })
        const a = author.value
        if (viewerId !== null && viewerId !== a.id && (yield* graph.blockedEitherWay(viewerId, a.id))) {
          return yield* new NotFound({ message: `no account @${username}` })
        }
        if (a.isPrivate && viewerId !== a.id && (viewerId === null || !(yield* graph.relation(viewerId, a.id)).isFollowing)) {
          return { items: [], nextCursor: null, hasMore: false }
        }
        const after = yield* decodeCursor(q.cursor)
        const rows = yield* posts.grid(a.id, after, q.limit + 1)
        const sign = signerFor(a, viewerId)
        return pageOf(rows, q.limit, (p) => postOf(p, a, null, sign), (p) => ({ at: p.createdAt, id: p.id }))
      }),

    saved: (viewerId, q) =>
      Effect.gen(function*() {
        const after = yield* decodeCursor(q.cursor)
        const rows = yield* engagement.savedPage(viewerId, after, q.limit + 1)
        const page = pageOf(rows, q.limit, (r) => r.postId, (r) => ({ at: r.savedAt, id: r.postId }))
        const items = yield* Effect.forEach(page.items, (id) => self.get(id, viewerId).pipe(Effect.option), { concurrency: 8 })
        return { ...page, items: items.flatMap((p) => (Option.isSome(p) ? [p.value] : [])) }
      }),

    update: (postId, viewerId, change) =>
      Effect.gen(function*() {
        const rateLimit = yield* limits.enforce(limits.rules.write, viewerId)
        const caption = change.caption === undefined ? undefined : { text: change.caption, ...extractTags(change.caption) }
        const updated = yield* sql.withTransaction(posts.updateText(postId, viewerId, { caption, altText: change.altText, altTexts: change.altTexts })).pipe(Effect.orDie)
        if (!updated) return yield* notFound()
        // after the commit; again a moment later, in case a feed read put back the card it read before
        const drop = timelines.dropCard(postId).pipe(Effect.catchAll((e) => Effect.logWarning("a feed card kept an edited post's old words", e)))
        yield* drop
        yield* Effect.forkDaemon(Effect.delay(drop, "2 seconds"))
        return limited<Post>(rateLimit)(yield* self.get(postId, viewerId))
      }),

    remove: (postId, viewerId) =>
      Effect.gen(function*() {
        const rateLimit = yield* limits.enforce(limits.rules.write, viewerId)
        const removed = yield* sql.withTransaction(Effect.gen(function*() {
          const row = yield* posts.remove(postId, viewerId)
          if (Option.isSome(row)) yield* outbox.append(PostDeleted.make({ postId, authorId: viewerId }))
          return row
        })).pipe(Effect.orDie)
        if (Option.isNone(removed)) return yield* notFound()
        const photos = removed.value.media
        const keys = [
          removed.value.originalKey,
          ...Object.values(removed.value.variants ?? {}).map(keyOfUrl),
          ...photos.flatMap((m) => [m.originalKey, ...Object.values(m.variants ?? {}).map(keyOfUrl)])
        ]
        // after the commit: a failure here leaves unreachable bytes, never a post without its image
        yield* store.remove([...new Set(keys)]).pipe(
          Effect.catchAll((e) => Effect.logWarning("post deleted but its media could not be removed", e))
        )
        return limited<void>(rateLimit)(undefined)
      })
  })
  return self
})

export const layer = Layer.effect(Posts, make)
