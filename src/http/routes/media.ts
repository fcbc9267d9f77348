import { HttpServerResponse } from "@effect/platform"
import { Effect, Option } from "effect"
import { RequestContext } from "../../observability/RequestContext.ts"
import { MediaFiles, type MediaRange } from "../../social/MediaFiles.ts"
import { Auth } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"

/** One `bytes=` range of a known size; undefined for none, "invalid" for one that cannot be served. */
export const parseRange = (header: string | undefined, size: number): MediaRange | undefined | "invalid" => {
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
  get: ({ path, urlParams }) =>
    Effect.gen(function*() {
      const media = yield* MediaFiles
      const request = yield* RequestContext
      const auth = yield* Auth
      const requester = auth.optional.pipe(
        Effect.map(Option.map((v) => v.userId)),
        Effect.orElseSucceed(() => Option.none<string>()),
        Effect.provideService(RequestContext, request)
      )
      const found = yield* media.find(path.key, { signature: urlParams, requester })
      if (found._tag === "Redirect") {
        return HttpServerResponse.empty({ status: 302, headers: { location: found.url, "cache-control": found.cacheControl } })
      }
      const { size, etag, contentType, lastModified } = found.info
      const common = {
        etag,
        "cache-control": found.cacheControl,
        "accept-ranges": "bytes",
        "x-content-type-options": "nosniff",
        "last-modified": lastModified.toUTCString()
      }
      if (request.headers["if-none-match"] === etag) return HttpServerResponse.empty({ status: 304, headers: common })
      const range = parseRange(request.headers.range, size)
      if (range === "invalid") {
        return HttpServerResponse.empty({ status: 416, headers: { ...common, "content-range": `bytes */${size}` } })
      }
      const opened = yield* media.open(path.key, range)
      const length = range ? range.end - range.start + 1 : size
      return HttpServerResponse.stream(opened.body, {
        status: range ? 206 : 200,
        contentType,
        contentLength: length,
        headers: range ? { ...common, "content-range": `bytes ${range.start}-${range.end}/${size}` } : common
      })
    })
} satisfies GroupHandlers<"media", MediaFiles | RequestContext | Auth>
