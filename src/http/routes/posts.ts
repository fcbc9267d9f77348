import { Multipart } from "@effect/platform"
import { Effect, Option, Schema, Stream } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from "../../domain/ApiError.ts"
import { CreateFromUpload, PostForm } from "../../domain/Posts.ts"
import { BlobStore } from "../../media/BlobStore.ts"
import { originalKey } from "../../media/Keys.ts"
import { RequestContext } from "../../observability/RequestContext.ts"
import { Posts } from "../../social/Posts.ts"
import { Uploads } from "../../social/Uploads.ts"
import { Accounts } from "../../social/Accounts.ts"
import { Auth, selfOrigin } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"
import { mediaType, readText, RequestBody } from "../RequestBody.ts"
import { badRequestFrom } from "../Routes.ts"
import { requiredViewer, viewerId } from "./users.ts"

const decodeJson = <A, I>(schema: Schema.Schema<A, I>, text: string) =>
  Effect.try({ try: () => JSON.parse(text) as unknown, catch: () => new BadRequest({ message: "body is not valid JSON" }) }).pipe(
    Effect.flatMap((json) => Schema.decodeUnknown(schema)(json).pipe(Effect.mapError(badRequestFrom("body"))))
  )

const decodeFields = Schema.decodeUnknown(Schema.Struct({
  caption: Schema.optionalWith(PostForm.fields.caption.from, { default: () => "" }),
  altText: Schema.optionalWith(PostForm.fields.altText.from, { default: () => "" }),
  location: Schema.optional(PostForm.fields.location.from)
}))

/**
 * The parts of a multipart body, in order; the first `image` part is stored as it streams in
 * (its bytes never pile up in memory), the text fields are collected. Other files are drained.
 */
const readForm = <E, E2>(
  parts: Stream.Stream<Multipart.Part, E>,
  storeImage: (image: Stream.Stream<Uint8Array, Multipart.MultipartError>) => Effect.Effect<void, E2>
) =>
  Effect.gen(function*() {
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
  }).pipe(
    Effect.catchIf(
      (e): e is Multipart.MultipartError => e instanceof Multipart.MultipartError,
      (e) => Effect.fail(new BadRequest({ message: `malformed multipart body: ${e.reason}` }))
    )
  )

const multipartParts = (body: RequestBody["Type"]) =>
  Stream.pipeThroughChannel(body.stream, Multipart.makeChannel(body.headers as Record<string, string>)).pipe(
    Stream.mapError((e) => (e._tag === "MultipartError" ? new BadRequest({ message: `malformed multipart body: ${e.reason}` }) : new BadRequest({ message: "could not read the body" })))
  )

const requireMultipartUpload = Effect.gen(function*() {
  const body = yield* RequestBody
  const config = yield* AppConfig
  if (mediaType(body.contentType) !== "multipart/form-data") {
    return yield* new UnsupportedMediaType({ message: "send multipart/form-data with an `image` part" })
  }
  // the image plus a little room for the form's text fields and boundaries
  if ((body.contentLength ?? 0) > config.limits.uploadBytes + 64 * 1024) {
    return yield* new PayloadTooLarge({ message: `an image is at most ${config.limits.uploadBytes / 1024 / 1024} MB` })
  }
  return body
})

export const postsHandlers = {
  create: () =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      const posts = yield* Posts
      const body = yield* RequestBody
      const config = yield* AppConfig
      if (mediaType(body.contentType) === "application/json") {
        const input = yield* decodeJson(CreateFromUpload, yield* readText(body, config.limits.jsonBodyBytes))
        return yield* posts.createFromUpload(viewer.userId, input.uploadId, input)
      }
      const multipart = yield* requireMultipartUpload.pipe(
        Effect.mapError((e) =>
          e._tag === "UnsupportedMediaType"
            ? new UnsupportedMediaType({ message: "send multipart/form-data with an `image` part, or JSON with an `uploadId`" })
            : e
        )
      )
      yield* posts.admit(viewer.userId)
      const postId = crypto.randomUUID()
      const key = originalKey(postId)
      const store = yield* BlobStore
      return yield* Effect.gen(function*() {
        let stored: { type: string; size: number } | undefined
        const form = yield* readForm(multipartParts(multipart), (image) =>
          posts.storeOriginal(key, image).pipe(Effect.map((r) => {
            stored = r
          })))
        if (!form.sawImage || stored === undefined) return yield* new BadRequest({ message: "the form has no `image` part" })
        const fields = yield* decodeFields(form.fields).pipe(Effect.mapError(badRequestFrom("form")))
        return yield* posts.createFromStored(viewer.userId, postId, { key, ...stored }, fields)
      }).pipe(
        // whatever went wrong after the image was stored, it must not stay behind
        Effect.onError(() => Effect.ignore(store.remove([key])))
      )
    }),
  get: ({ path }) => Effect.gen(function*() {
    return yield* (yield* Posts).get(path.id, yield* viewerId)
  }),
  remove: ({ path }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      yield* (yield* Posts).remove(path.id, viewer.userId)
    }),
  grid: ({ path, urlParams }) =>
    Effect.gen(function*() {
      return yield* (yield* Posts).grid(path.username, yield* viewerId, urlParams)
    }),
  upload: () =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      const config = yield* AppConfig
      const request = yield* RequestContext
      const base = config.publicUrl ?? selfOrigin(request.headers, config.trustProxy) ?? `http://localhost:${config.port}`
      return yield* (yield* Uploads).target(viewer.userId, base)
    }),
  receive: ({ path, urlParams }) =>
    Effect.gen(function*() {
      const body = yield* RequestBody
      const config = yield* AppConfig
      if ((body.contentLength ?? 0) > config.limits.uploadBytes) {
        return yield* new PayloadTooLarge({ message: `an image is at most ${config.limits.uploadBytes / 1024 / 1024} MB` })
      }
      yield* (yield* Uploads).receive(path.id, urlParams.expires, urlParams.sig, body.stream).pipe(
        Effect.catchTag("BodyError", (e) => Effect.fail(new BadRequest({ message: `could not read the upload: ${e.reason}` })))
      )
    }),
  avatar: () =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      const body = yield* requireMultipartUpload
      const uploads = yield* Uploads
      let accepted: Option.Option<Effect.Effect.Success<ReturnType<typeof uploads.avatar>>> = Option.none()
      const form = yield* readForm(multipartParts(body), (image) =>
        uploads.avatar(viewer.userId, image).pipe(Effect.map((r) => {
          accepted = Option.some(r)
        })))
      if (!form.sawImage || Option.isNone(accepted)) return yield* new BadRequest({ message: "the form has no `image` part" })
      return accepted.value
    }),
  requeue: ({ path }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      const me = yield* (yield* Accounts).me(viewer.userId)
      return yield* (yield* Uploads).requeue(me.username, path.id)
    })
} satisfies GroupHandlers<"posts", Posts | Uploads | Accounts | Auth | AppConfig | BlobStore | RequestBody | RequestContext>
