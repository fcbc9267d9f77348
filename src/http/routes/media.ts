import { HttpServerResponse } from "@effect/platform"
import { Effect, Option } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { NotFound } from "../../domain/ApiError.ts"
import { BlobStore, type ByteRange } from "../../media/BlobStore.ts"
import { isPublicKey } from "../../media/Keys.ts"
import { RequestContext } from "../../observability/RequestContext.ts"
import type { GroupHandlers } from "../Handlers.ts"

const IMMUTABLE = "public, max-age=31536000, immutable"

/** One `bytes=` range of a known size; undefined for none, "invalid" for one that cannot be served. */
export const parseRange = (header: string | undefined, size: number): ByteRange | undefined | "invalid" => {
  if (header === undefined) return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (m === null || (m[1] === "" && m[2] === "")) return "invalid"
  if (m[1] === "") {
    const suffix = Number(m[2])
    return suffix === 0 ? "invalid" : { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1)
  return start >= size || start > end ? "invalid" : { start, end }
}

export const mediaHandlers = {
  get: ({ path }) =>
    Effect.gen(function*() {
      const notFound = new NotFound({ message: "no such media" })
      // originals and pending uploads are never served, whatever their key
      if (!isPublicKey(path.key)) return yield* notFound
      const store = yield* BlobStore
      const config = yield* AppConfig
      const request = yield* RequestContext
      if (store.kind === "s3" && config.media.s3Delivery === "redirect") {
        const url = yield* store.presignGet(path.key, 300).pipe(Effect.orDie)
        if (Option.isSome(url)) {
          return HttpServerResponse.empty({ status: 302, headers: { location: url.value, "cache-control": "private, max-age=60" } })
        }
      }
      const info = yield* store.stat(path.key).pipe(Effect.orDie)
      if (Option.isNone(info)) return yield* notFound
      const { size, etag, contentType, lastModified } = info.value
      const common = {
        etag,
        "cache-control": IMMUTABLE,
        "accept-ranges": "bytes",
        "x-content-type-options": "nosniff",
        "last-modified": lastModified.toUTCString()
      }
      if (request.headers["if-none-match"] === etag) return HttpServerResponse.empty({ status: 304, headers: common })
      const range = parseRange(request.headers.range, size)
      if (range === "invalid") {
        return HttpServerResponse.empty({ status: 416, headers: { ...common, "content-range": `bytes */${size}` } })
      }
      const opened = yield* store.read(path.key, range).pipe(Effect.orDie)
      if (Option.isNone(opened)) return yield* notFound
      const length = range ? range.end - range.start + 1 : size
      return HttpServerResponse.stream(opened.value.body, {
        status: range ? 206 : 200,
        contentType,
        contentLength: length,
        headers: range ? { ...common, "content-range": `bytes ${range.start}-${range.end}/${size}` } : common
      })
    })
} satisfies GroupHandlers<"media", BlobStore | AppConfig | RequestContext>
