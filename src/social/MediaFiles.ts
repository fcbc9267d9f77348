/**
 * Serving stored media. Only rendered variants and avatars are ever served — originals and pending
 * uploads never are, whatever key is asked for. Avatars and the variants of public posts are
 * public and immutable. A restricted post's variants (its author is private) are served only
 * through a valid signed URL (see MediaUrls), and only privately cacheable for what is left of its
 * lifetime; its plain URL, a bad or expired signature, or a signed URL fetched by someone signed in
 * as another person, are a 404 like a missing object, so nothing says the post exists.
 *
 * With S3 delivering directly the answer is a presigned URL to redirect to (for a restricted post,
 * living no longer than the signed URL did); otherwise the store's metadata, then its bytes (whole
 * or one range). Answers are data: the route speaks HTTP (ETag, Range, redirects).
 */
import { Context, Effect, Layer, Option, type Stream } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { NotFound } from "../domain/ApiError.ts"
import { type BlobInfo, BlobStore, type ByteRange } from "../media/BlobStore.ts"
import { isPublicKey } from "../media/Keys.ts"
import { MediaUrls, type Signature } from "../media/MediaUrls.ts"
import { MediaAudience } from "./MediaAudience.ts"

export type MediaInfo = BlobInfo
export type MediaRange = ByteRange

/** Where a servable object is: elsewhere (a presigned URL) or here, with what the store knows of it; and how it may be cached. */
export type MediaLocation =
  | { readonly _tag: "Redirect"; readonly url: string; readonly cacheControl: string }
  | { readonly _tag: "Stored"; readonly info: MediaInfo; readonly cacheControl: string }

/** Who asks: the URL's signature, and (looked up only when a signature needs it) who is signed in. */
export interface MediaRequest {
  readonly signature: Signature
  readonly requester: Effect.Effect<Option.Option<string>>
}

/** How long a redirect's presigned URL stays valid. */
const REDIRECT_SECONDS = 300
const IMMUTABLE = "public, max-age=31536000, immutable"
const POST_VARIANT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:-p\d)?-w\d{2,4}\.webp$/

export class MediaFiles extends Context.Tag("MediaFiles")<MediaFiles, {
  readonly find: (key: string, request: MediaRequest) => Effect.Effect<MediaLocation, NotFound>
  /** The object's bytes (one range when asked); NotFound when it went away since `find`. */
  readonly open: (key: string, range?: MediaRange) => Effect.Effect<{ readonly info: MediaInfo; readonly body: Stream.Stream<Uint8Array, unknown> }, NotFound>
}>() {}

const notFound = () => new NotFound({ message: "no such media" })

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const store = yield* BlobStore
  const urls = yield* MediaUrls
  const audience = yield* MediaAudience
  const redirects = store.kind === "s3" && config.media.s3Delivery === "redirect"

  /** Seconds the answer may be cached privately, or none for public immutable caching; fails when it may not be served. */
  const access = (key: string, request: MediaRequest) =>
    Effect.gen(function*() {
      const post = POST_VARIANT.exec(key)
      if (post === null) return Option.none<number>() // an avatar
      const signed = urls.verify(key, request.signature)
      if (Option.isSome(signed)) {
        const requester = yield* request.requester
        // bound to its viewer: whoever is signed in as someone else gets nothing from it
        if (Option.isSome(requester) && requester.value !== signed.value.viewerId) return yield* notFound()
        return Option.some(signed.value.remainingSeconds)
      }
      if ((yield* audience.of(post[1]!)) !== "public") return yield* notFound()
      return Option.none<number>()
    })

  return MediaFiles.of({
    find: (key, request) =>
      Effect.gen(function*() {
        if (!isPublicKey(key)) return yield* notFound()
        const privately = yield* access(key, request)
        if (redirects) {
          const seconds = Option.getOrElse(privately, () => REDIRECT_SECONDS)
          const url = yield* store.presignGet(key, seconds).pipe(Effect.orDie)
          if (Option.isSome(url)) {
            return { _tag: "Redirect", url: url.value, cacheControl: `private, max-age=${Math.min(seconds, 60)}` } as const
          }
        }
        const info = yield* store.stat(key).pipe(Effect.orDie)
        if (Option.isNone(info)) return yield* notFound()
        const cacheControl = Option.match(privately, { onNone: () => IMMUTABLE, onSome: (s) => `private, max-age=${s}` })
        return { _tag: "Stored", info: info.value, cacheControl } as const
      }),
    open: (key, range) =>
      Effect.gen(function*() {
        if (!isPublicKey(key)) return yield* notFound()
        const opened = yield* store.read(key, range).pipe(Effect.orDie)
        if (Option.isNone(opened)) return yield* notFound()
        return opened.value
      })
  })
})

export const layer = Layer.effect(MediaFiles, make)
