import { Effect, Schema } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { BadRequest, UnsupportedMediaType } from "../../domain/ApiError.ts"
import { CreateFromUpload } from "../../domain/Posts.ts"
import { RequestContext } from "../../observability/RequestContext.ts"
import { Accounts } from "../../social/Accounts.ts"
import { Posts } from "../../social/Posts.ts"
import { Uploads } from "../../social/Uploads.ts"
import { Auth, selfOrigin } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"
import { mediaType, readText, RequestBody } from "../RequestBody.ts"
import { readJson } from "../pipeline/Input.ts"
import { badRequestFrom } from "../Routes.ts"
import { withRateLimit } from "./rateLimit.ts"
import { requiredViewer, viewerId } from "./users.ts"

/** A JSON body read by the handler itself: the same depth limit and errors as the pipeline's JSON routes. */
export const decodeJson = <A, I>(schema: Schema.Schema<A, I>, text: string, maxDepth: number) => {
  const json = readJson(text, maxDepth)
  return json._tag === "Invalid"
    ? Effect.fail(new BadRequest({ message: json.message }))
    : Schema.decodeUnknown(schema)(json.value).pipe(Effect.mapError(badRequestFrom("body")))
}

export const postsHandlers = {
  /** A multipart form streams into the use-case; JSON names a direct upload made before. */
  create: () =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      const posts = yield* Posts
      const body = yield* RequestBody
      const config = yield* AppConfig
      switch (mediaType(body.contentType)) {
        case "application/json": {
          const input = yield* decodeJson(CreateFromUpload, yield* readText(body, config.limits.jsonBodyBytes), config.limits.jsonDepth)
          if ((input.uploadId === undefined) === (input.uploadIds === undefined)) {
            return yield* new BadRequest({ message: "send either `uploadId` (one photo) or `uploadIds` (1–10, in order)" })
          }
          const uploadIds = input.uploadIds ?? [input.uploadId!]
          return yield* withRateLimit(posts.createFromUpload(viewer.userId, uploadIds, input))
        }
        case "multipart/form-data":
          return yield* withRateLimit(posts.createFromForm(viewer.userId, body))
        default:
          return yield* new UnsupportedMediaType({ message: "send multipart/form-data with an `image` part, or JSON with an `uploadId`" })
      }
    }),
  saved: ({ urlParams }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      return yield* (yield* Posts).saved(viewer.userId, urlParams)
    }),
  update: ({ path, payload }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      return yield* withRateLimit((yield* Posts).update(path.id, viewer.userId, payload))
    }),
  get: ({ path }) => Effect.gen(function*() {
    return yield* (yield* Posts).get(path.id, yield* viewerId)
  }),
  remove: ({ path }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      yield* withRateLimit((yield* Posts).remove(path.id, viewer.userId))
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
      return yield* withRateLimit((yield* Uploads).target(viewer.userId, base))
    }),
  receive: ({ path, urlParams }) =>
    Effect.gen(function*() {
      const body = yield* RequestBody
      yield* (yield* Uploads).receive(path.id, urlParams.expires, urlParams.sig, body).pipe(
        Effect.catchTag("BodyError", (e) => Effect.fail(new BadRequest({ message: `could not read the upload: ${e.reason}` })))
      )
    }),
  avatar: () =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      return yield* withRateLimit((yield* Uploads).avatar(viewer.userId, yield* RequestBody))
    }),
  requeue: ({ path }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      const me = yield* (yield* Accounts).me(viewer.userId)
      return yield* (yield* Uploads).requeue(me.username, path.id)
    })
} satisfies GroupHandlers<"posts", Posts | Uploads | Accounts | Auth | AppConfig | RequestBody | RequestContext>
