/**
 * Direct uploads and avatars. A direct upload is a short-lived (≤ 15 min), single-use target: a
 * presigned PUT in S3 mode, or — in fs mode — a URL on Aperture itself signed with the server's
 * key (HMAC over upload id and expiry), so only the holder of the URL can write that one object.
 * Avatars take the media pipeline like posts, as square 150/320 variants; their form is read
 * here as it streams, the same way as a post's.
 */
import { SqlClient } from "@effect/sql"
import { retryAborted } from "../db/Retry.ts"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { AppConfig } from "../config/AppConfig.ts"
import { BadRequest, Conflict, Forbidden, LengthRequired, NotFound, type PayloadTooLarge, type RateLimited, type Unprocessable, type UnsupportedMediaType } from "../domain/ApiError.ts"
import { MediaJob } from "../domain/Media.ts"
import { AvatarAccepted, PostAccepted, UploadTarget } from "../domain/Posts.ts"
import { OutboxRepo } from "../db/Outbox.ts"
import { PostsRepo } from "../db/Posts.ts"
import { BlobError, BlobStore, BlobTooLarge } from "../media/BlobStore.ts"
import { uploadKey } from "../media/Keys.ts"
import { checkImageHeader } from "./ImageCheck.ts"
import { readImageForm, tooLarge, type UploadBody } from "./ImageForm.ts"
import { type Limited, limited, Limits } from "./Limits.ts"
import { Posts } from "./Posts.ts"

export class Uploads extends Context.Tag("Uploads")<Uploads, {
  readonly target: (userId: string, baseUrl: string) => Effect.Effect<Limited<UploadTarget>, RateLimited>
  /** fs mode: receives the bytes PUT to a signed upload URL. */
  readonly receive: <E>(
    uploadId: string,
    expires: number,
    sig: string,
    body: UploadBody<E>
  ) => Effect.Effect<void, Forbidden | NotFound | Conflict | PayloadTooLarge | LengthRequired | E>
  /** A new avatar from a multipart form with an `image` part. */
  readonly avatar: <E>(userId: string, body: UploadBody<E>) => Effect.Effect<Limited<AvatarAccepted>, BadRequest | PayloadTooLarge | UnsupportedMediaType | Unprocessable | RateLimited>
  readonly requeue: (viewerUsername: string, postId: string) => Effect.Effect<PostAccepted, Forbidden | NotFound>
}>() {}

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const sql = yield* SqlClient.SqlClient
  const store = yield* BlobStore
  const repo = yield* PostsRepo
  const outbox = yield* OutboxRepo
  const posts = yield* Posts
  const limits = yield* Limits
  const key = Redacted.value(config.media.uploadSigningKey)
  const ttl = config.media.uploadTtlSeconds
  const maxBytes = config.limits.uploadBytes
  const sign = (uploadId: string, expires: number) => createHmac("sha256", key).update(`${uploadId}.${expires}`).digest("base64url")

  return Uploads.of({
    target: Effect.fn("Uploads.target")(function*(userId, baseUrl) {
      const rateLimit = yield* limits.enforce(limits.rules.write, userId)
      const id = crypto.randomUUID()
      const objectKey = uploadKey(id)
      const row = yield* repo.insertUpload({ id, userId, objectKey, maxBytes, ttlSeconds: ttl })
      const expires = Math.floor(row.expiresAt.getTime() / 1000)
      const presigned = yield* store.presignPut(objectKey, ttl).pipe(Effect.orDie)
      const target = Option.getOrElse(presigned, () => ({
        url: `${baseUrl}/api/v1/uploads/${id}?expires=${expires}&sig=${sign(id, expires)}`,
        headers: {}
      }))
      return limited<UploadTarget>(rateLimit)(new UploadTarget({
        uploadId: id,
        url: target.url,
        method: "PUT",
        headers: { ...target.headers },
        maxBytes,
        expiresAt: row.expiresAt.toISOString()
      }))
    }),

    receive: (uploadId, expires, sig, body) =>
      Effect.gen(function*() {
        // as with S3's presigned PUT, the size is declared up front (not streamed chunked)
        if (body.contentLength === undefined) {
          return yield* new LengthRequired({ message: "send the upload with a Content-Length header" })
        }
        if (body.contentLength > maxBytes) return yield* tooLarge(maxBytes)
        const expected = Buffer.from(sign(uploadId, expires))
        const given = Buffer.from(sig)
        if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
          return yield* new Forbidden({ message: "that upload URL is not valid" })
        }
        if (expires * 1000 < Date.now()) return yield* new Forbidden({ message: "that upload URL has expired" })
        const upload = yield* repo.upload(uploadId)
        if (Option.isNone(upload)) return yield* new NotFound({ message: "no such upload" })
        if (upload.value.usedAt !== null || Option.isSome(yield* store.stat(upload.value.objectKey).pipe(Effect.orDie))) {
          return yield* new Conflict({ message: "that upload has already received its image" })
        }
        yield* store.put(upload.value.objectKey, body.stream, { contentType: "application/octet-stream", maxBytes: Number(upload.value.maxBytes) }).pipe(
          Effect.catchAll((e) =>
            e instanceof BlobTooLarge
              ? Effect.fail(tooLarge(maxBytes))
              : e instanceof BlobError
              ? Effect.die(e)
              : Effect.fail(e as never)
          )
        )
      }),

    avatar: (userId, body) =>
      Effect.gen(function*() {
        const rateLimit = yield* limits.enforce(limits.rules.write, userId)
        const version = randomBytes(6).toString("base64url")
        const original = `avatar-orig-${userId}-${version}`
        let size = 0
        const form = yield* readImageForm(body, maxBytes, (image) => posts.storeOriginal(original, image).pipe(Effect.map((r) => void (size = r.size)))).pipe(
          Effect.onError(() => Effect.ignore(store.remove([original])))
        )
        if (!form.sawImage) return yield* new BadRequest({ message: "the form has no `image` part" })
        yield* checkImageHeader(store, original, size, config.media.maxPixels).pipe(
          Effect.tapError(() => Effect.ignore(store.remove([original])))
        )
        yield* sql.withTransaction(Effect.gen(function*() {
          const previous = yield* repo.setAvatarPending(userId, original)
          yield* outbox.appendMessage(
            "media.avatar",
            new MediaJob({ kind: "avatar", id: userId, key: original, enqueuedAt: new Date().toISOString() }),
            crypto.randomUUID()
          )
          return previous
        })).pipe(
          retryAborted,
          Effect.orDie,
          Effect.tap(Option.match({ onNone: () => Effect.void, onSome: (old) => Effect.ignore(store.remove([old])) })),
          Effect.onError(() => Effect.ignore(store.remove([original])))
        )
        return limited<AvatarAccepted>(rateLimit)(new AvatarAccepted({ status: "processing" }))
      }),

    requeue: (viewerUsername, postId) =>
      Effect.gen(function*() {
        if (!config.adminUsernames.includes(viewerUsername)) return yield* new Forbidden({ message: "admins only" })
        const post = yield* repo.byId(postId)
        if (Option.isNone(post)) return yield* new NotFound({ message: "no such post" })
        yield* sql.withTransaction(Effect.gen(function*() {
          if (!(yield* repo.requeue(postId))) return
          const job = new MediaJob({ kind: "post", id: postId, key: post.value.originalKey, enqueuedAt: new Date().toISOString() })
          // a new message id: the first one is still inside JetStream's duplicate window
          yield* outbox.appendMessage("media.post", job, crypto.randomUUID())
        })).pipe(Effect.orDie)
        return new PostAccepted({ postId, status: "processing" })
      })
  })
})

export const layer = Layer.effect(Uploads, make)
