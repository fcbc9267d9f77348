/**
 * Serving stored media. Only rendered variants and avatars are public — originals and pending
 * uploads are never served, whatever key is asked for. With S3 delivering directly the answer is
 * a short-lived presigned URL to redirect to; otherwise the store's metadata, then its bytes
 * (whole or one range). Answers are data: the route speaks HTTP (ETag, Range, redirects).
 */
import { Context, Effect, Layer, Option, type Stream } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { NotFound } from "../domain/ApiError.ts"
import { type BlobInfo, BlobStore, type ByteRange } from "../media/BlobStore.ts"
import { isPublicKey } from "../media/Keys.ts"

export type MediaInfo = BlobInfo
export type MediaRange = ByteRange

/** Where a public object is: elsewhere (a presigned URL) or here, with what the store knows of it. */
export type MediaLocation =
  | { readonly _tag: "Redirect"; readonly url: string }
  | { readonly _tag: "Stored"; readonly info: MediaInfo }

/** How long a redirect's presigned URL stays valid. */
const REDIRECT_SECONDS = 300

export class MediaFiles extends Context.Tag("MediaFiles")<MediaFiles, {
  readonly find: (key: string) => Effect.Effect<MediaLocation, NotFound>
  /** The object's bytes (one range when asked); NotFound when it went away since `find`. */
  readonly open: (key: string, range?: MediaRange) => Effect.Effect<{ readonly info: MediaInfo; readonly body: Stream.Stream<Uint8Array, unknown> }, NotFound>
}>() {}

const notFound = () => new NotFound({ message: "no such media" })

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const store = yield* BlobStore
  const redirects = store.kind === "s3" && config.media.s3Delivery === "redirect"

  return MediaFiles.of({
    find: (key) =>
      Effect.gen(function*() {
        if (!isPublicKey(key)) return yield* notFound()
        if (redirects) {
          const url = yield* store.presignGet(key, REDIRECT_SECONDS).pipe(Effect.orDie)
          if (Option.isSome(url)) return { _tag: "Redirect", url: url.value } as const
        }
        const info = yield* store.stat(key).pipe(Effect.orDie)
        if (Option.isNone(info)) return yield* notFound()
        return { _tag: "Stored", info: info.value } as const
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
