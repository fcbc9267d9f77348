/**
 * An upload as a use-case receives it — the request body as the transport streams it, with its
 * media type and declared length — and the multipart form of one image read from it: the first
 * `image` part goes to a sink as it streams in (its bytes never pile up in memory), the text
 * fields are collected, other files are drained.
 */
import { Multipart } from "@effect/platform"
import { Effect, ParseResult, Stream } from "effect"
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from "../domain/ApiError.ts"

/** The shape of the HTTP layer's `RequestBody`, generic in how reading it can fail. */
export interface UploadBody<E> {
  readonly contentType: string
  readonly contentLength: number | undefined
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly stream: Stream.Stream<Uint8Array, E>
}

/** Room for a form's text fields and boundaries beside its image. */
const FORM_OVERHEAD_BYTES = 64 * 1024

export const tooLarge = (maxBytes: number) => new PayloadTooLarge({ message: `an image is at most ${maxBytes / 1024 / 1024} MB` })

const mediaType = (contentType: string) => contentType.split(";")[0]!.trim().toLowerCase()

const malformed = (e: Multipart.MultipartError) => new BadRequest({ message: `malformed multipart body: ${e.reason}` })

export const isForm = (body: UploadBody<unknown>) => mediaType(body.contentType) === "multipart/form-data"

/** The form's fields did not decode: a 400 naming each field, as the contract's own inputs get. */
export const invalidForm = (error: ParseResult.ParseError) =>
  new BadRequest({
    message: "invalid form",
    details: ParseResult.ArrayFormatter.formatErrorSync(error).map((i) => ({ path: i.path.map(String), message: i.message }))
  })

/**
 * The fields of the form and whether it had an image, once `storeImage` has taken the image.
 * Refuses what is not a multipart form, or declares more bytes than an image of `maxImageBytes`
 * and its fields, before reading anything.
 */
const BOUNDARY = /;\s*boundary=(?:"[^"\r\n]{1,70}"|[^\s;"]{1,70})\s*(?:;|$)/i

/** A multipart error the parts' stream raised while a sink read it is the client's malformed body. */
const malformedAsBadRequest = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchIf(effect, (e): e is Extract<E, Multipart.MultipartError> => e instanceof Multipart.MultipartError, (e) => Effect.fail(malformed(e)))

/**
 * The form's parts, after the checks made before reading anything: a multipart form, no more than
 * `maxFormBytes` declared, not empty, with a usable boundary.
 */
const formParts = <E>(body: UploadBody<E>, maxImageBytes: number, maxFormBytes: number, notAForm: string) =>
  Effect.gen(function*() {
    if (!isForm(body)) return yield* new UnsupportedMediaType({ message: notAForm })
    if ((body.contentLength ?? 0) > maxFormBytes) return yield* tooLarge(maxImageBytes)
    if (body.contentLength === 0) return yield* new BadRequest({ message: "the form is empty: send an `image` part" })
    // the parser assumes a usable boundary (an empty one reaches it as a defect): RFC 2046 allows 1–70 characters
    if (!BOUNDARY.test(body.contentType)) {
      return yield* new BadRequest({ message: "multipart/form-data needs a boundary parameter of 1 to 70 characters" })
    }
    return Stream.pipeThroughChannel(body.stream, Multipart.makeChannel(body.headers as Record<string, string>)).pipe(
      Stream.mapError((e) =>
        e instanceof Multipart.MultipartError ? malformed(e) : new BadRequest({ message: "could not read the body" })
      )
    )
  })

export const readImageForm = <E, E2>(
  body: UploadBody<E>,
  maxImageBytes: number,
  storeImage: (image: Stream.Stream<Uint8Array, Multipart.MultipartError>) => Effect.Effect<void, E2>
): Effect.Effect<{ readonly fields: Readonly<Record<string, string>>; readonly sawImage: boolean }, Exclude<E2, Multipart.MultipartError> | BadRequest | PayloadTooLarge | UnsupportedMediaType> =>
  Effect.gen(function*() {
    const parts = yield* formParts(body, maxImageBytes, maxImageBytes + FORM_OVERHEAD_BYTES, "send multipart/form-data with an `image` part")
    const fields: Record<string, string> = {}
    let sawImage = false
    yield* Stream.runForEach(parts, (part): Effect.Effect<void, E2 | Multipart.MultipartError> => {
      if (part._tag === "Field") {
        fields[part.key] = part.value
        return Effect.void
      }
      if (part.key === "image" && !sawImage) {
        sawImage = true
        return storeImage(part.content)
      }
      return Stream.runDrain(part.content)
    })
    return { fields, sawImage }
  }).pipe(malformedAsBadRequest)

/** What a form of several images left once each image was taken: its other fields and each image's alt text. */
export interface ImagesForm {
  readonly fields: Readonly<Record<string, string>>
  readonly images: number
  /** Per image, in order: its `altText` (sent before it, or as `altText[i]`), else "". */
  readonly altTexts: ReadonlyArray<string>
  /** A part (an image past `maxImages`, an `altText[i]` for no image) the form should not have had. */
  readonly problem: string | undefined
}

const INDEXED_ALT = /^altText\[(\d{1,2})\]$/

/**
 * The multipart form of a carousel: up to `maxImages` `image` parts, each handed to `storeImage`
 * with its 0-based index as it streams in. An `altText` part belongs to the next image (sent before
 * it, so a streaming client needs no look-ahead); `altText[i]` names its image; an `altText` left
 * over after the last image is that image's when it has none (the single-image form of old).
 * Images past the limit are drained, not stored, and reported in `problem`.
 */
export const readImagesForm = <E, E2>(
  body: UploadBody<E>,
  maxImageBytes: number,
  maxImages: number,
  storeImage: (index: number, image: Stream.Stream<Uint8Array, Multipart.MultipartError>) => Effect.Effect<void, E2>
): Effect.Effect<ImagesForm, Exclude<E2, Multipart.MultipartError> | BadRequest | PayloadTooLarge | UnsupportedMediaType> =>
  Effect.gen(function*() {
    const parts = yield* formParts(body, maxImageBytes, (maxImageBytes + FORM_OVERHEAD_BYTES) * maxImages, "send multipart/form-data with `image` parts")
    const fields: Record<string, string> = {}
    const altTexts: Array<string | undefined> = []
    let pending: string | undefined
    let images = 0
    let problem: string | undefined
    yield* Stream.runForEach(parts, (part): Effect.Effect<void, E2 | Multipart.MultipartError> => {
      if (part._tag === "Field") {
        const indexed = INDEXED_ALT.exec(part.key)
        if (indexed !== null) altTexts[Number(indexed[1])] = part.value
        else if (part.key === "altText") pending = part.value
        else fields[part.key] = part.value
        return Effect.void
      }
      if (part.key !== "image") return Stream.runDrain(part.content)
      const index = images++
      if (index >= maxImages) {
        problem = `a post has at most ${maxImages} photos`
        return Stream.runDrain(part.content)
      }
      if (pending !== undefined) {
        altTexts[index] ??= pending
        pending = undefined
      }
      return storeImage(index, part.content)
    })
    if (pending !== undefined && images > 0 && altTexts[images - 1] === undefined) altTexts[images - 1] = pending
    if (altTexts.length > Math.min(images, maxImages)) problem ??= `alt text was sent for photo ${altTexts.length}, but the post has ${images}`
    const kept = Math.min(images, maxImages)
    return { fields, images: kept, altTexts: Array.from({ length: kept }, (_, i) => altTexts[i] ?? ""), problem }
  }).pipe(malformedAsBadRequest)
