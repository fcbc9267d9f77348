/**
 * The request body of a streamed endpoint, as the transports hand it over: bytes as they arrive,
 * with backpressure (uWS pauses the socket while the handler is behind; node streams do this
 * themselves). Handlers read it at most once.
 */
import { Context, Data, Effect, Stream } from "effect"
import { BadRequest, PayloadTooLarge } from "../domain/ApiError.ts"

export class BodyError extends Data.TaggedError("BodyError")<{ readonly reason: string }> {}

export interface RequestBodyShape {
  readonly contentType: string
  readonly contentLength: number | undefined
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly stream: Stream.Stream<Uint8Array, BodyError>
}

export class RequestBody extends Context.Tag("RequestBody")<RequestBody, RequestBodyShape>() {}

/** The media type without parameters, lower-cased. */
export const mediaType = (contentType: string) => contentType.split(";")[0]!.trim().toLowerCase()

/** The whole body as text, refusing more than `maxBytes`. */
export const readText = (body: RequestBodyShape, maxBytes: number) =>
  Effect.gen(function*() {
    if ((body.contentLength ?? 0) > maxBytes) return yield* new PayloadTooLarge({ message: `body is larger than ${maxBytes} bytes` })
    const chunks: Array<Uint8Array> = []
    let size = 0
    yield* Stream.runForEach(body.stream, (chunk) => {
      size += chunk.byteLength
      if (size > maxBytes) return Effect.fail(new PayloadTooLarge({ message: `body is larger than ${maxBytes} bytes` }))
      chunks.push(chunk)
      return Effect.void
    }).pipe(Effect.catchTag("BodyError", (e) => Effect.fail(new BadRequest({ message: `could not read the body: ${e.reason}` }))))
    return Buffer.concat(chunks).toString("utf8")
  })
