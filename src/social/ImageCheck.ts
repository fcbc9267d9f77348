/**
 * The header check an upload passes before it is answered 202: libvips reads the stored original's
 * header (format, dimensions) and the pixel limit is applied, so an image whose header is corrupt,
 * missing or over the limit is a 422 now rather than a `failed` post later. Only the first
 * HEADER_BYTES are fetched: JPEG, PNG, GIF and AVIF headers sit there. WebP's loader wants the
 * whole RIFF file, so when the prefix does not read and the object is longer, the whole object
 * (at most the upload limit) is read once and asked again — a valid WebP is never refused for
 * being longer than the prefix. A truncated image whose header is intact passes here; the worker
 * fails it on its first attempt (see `classifySharpError`).
 */
import { Effect, Option } from "effect"
import { Unprocessable } from "../domain/ApiError.ts"
import type { BlobStoreShape } from "../media/BlobStore.ts"
import { ImageRejected, inspect } from "../media/Pipeline.ts"

export const HEADER_BYTES = 256 * 1024

const refused = (e: ImageRejected) =>
  new Unprocessable({
    message: `that image cannot be used: ${e.reason}`,
    details: { reason: e.code ?? "UnreadableImage" }
  })

/** Fails with a readable 422 when the stored original at `key` (of `size` bytes) has no usable header. */
export const checkImageHeader = (store: BlobStoreShape, key: string, size: number, maxPixels: number) =>
  Effect.gen(function*() {
    const gone = () => new Unprocessable({ message: "the uploaded image could not be read back", details: { reason: "UnreadableImage" } })
    const head = yield* store.head(key, HEADER_BYTES).pipe(Effect.orDie)
    if (Option.isNone(head)) return yield* gone()
    const checked = yield* inspect(head.value, maxPixels).pipe(
      Effect.catchTag("ImageRejected", (e) => {
        if (size <= head.value.length || e.code === "ImageTooLarge") return Effect.fail(e)
        return store.readAll(key).pipe(
          Effect.orDie,
          Effect.flatMap(Option.match({ onNone: () => Effect.fail(e), onSome: (all) => inspect(all, maxPixels) }))
        )
      })
    ).pipe(
      Effect.catchTags({
        ImageRejected: (e) => Effect.fail(refused(e)),
        // libvips failing for a reason that is not the image's: let the worker have its try
        ImageFailed: (e) => Effect.logWarning("image header check inconclusive", e).pipe(Effect.as(undefined))
      })
    )
    return checked
  })
