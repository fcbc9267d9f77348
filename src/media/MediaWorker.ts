/**
 * The `media` role: a durable pull consumer on MEDIA, MEDIA_CONCURRENCY jobs at a time. A job is
 * acknowledged only after its result has committed, so a worker that dies mid-job leaves it to be
 * redelivered (after MEDIA_ACK_WAIT_SECONDS), and a job delivered twice does no harm: variants go
 * to deterministic keys and only a post still `processing` is published. Failures are retried
 * with backoff (MEDIA_RETRY_DELAYS_MS: 1 s, 5 s, 30 s, 2 min) — but only transient ones (the blob
 * store, the database, libvips failing for its own reasons): an image that cannot be read, is of a
 * format we do not take or is over the pixel limit (`ImageRejected`, see `classifySharpError`) fails
 * on its first attempt. Either way, when it gives up the post becomes `failed`, the job is kept in
 * MEDIA_DLQ and in the dead letters an admin can replay, and the author is told — all in one
 * transaction through the outbox.
 */
import { SqlClient } from "@effect/sql"
import { Cause, Effect, Layer, Option, Schedule, Stream } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { PostFailed, PostPublished, StoryPublished } from "../domain/DomainEvents.ts"
import { DeadLetter, MediaJob } from "../domain/Media.ts"
import { OutboxRepo } from "../db/Outbox.ts"
import { ConversationsRepo } from "../db/Conversations.ts"
import { PostsRepo } from "../db/Posts.ts"
import { StoriesRepo } from "../db/Stories.ts"
import { Bus, type Delivery } from "../streams/Bus.ts"
import { makeDeadLetters } from "../streams/DeadLetter.ts"
import { ConsumerNames, StreamNames } from "../streams/Topology.ts"
import { Metrics } from "../observability/Metrics.ts"
import { Tracing } from "../observability/Tracing.ts"
import { BlobStore } from "./BlobStore.ts"
import { avatarKey, mediaUrl, variantKey } from "./Keys.ts"
import { MediaUrls } from "./MediaUrls.ts"
// variant keys carry the nominal width, whatever the image's own size
import { AVATAR_WIDTHS, ImageRejected, POST_WIDTHS, render, STORY_WIDTHS } from "./Pipeline.ts"

/** Inbox frames for the author's sockets, stored through the outbox like everything else. */
const inboxFrame = (type: string, payload: unknown) => ({ type, ts: new Date().toISOString(), payload })

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const sql = yield* SqlClient.SqlClient
  const store = yield* BlobStore
  const posts = yield* PostsRepo
  const conversations = yield* ConversationsRepo
  const stories = yield* StoriesRepo
  const urls = yield* MediaUrls
  const outbox = yield* OutboxRepo
  const metrics = yield* Metrics
  const tracing = yield* Tracing
  const deadLetters = yield* makeDeadLetters
  const delays = config.media.retryDelaysMillis
  const maxDeliveries = delays.length + 1
  const processed = metrics.counter("aperture_media_jobs_total", "Media jobs by kind and outcome", ["kind", "outcome"])
  const durations = metrics.histogram(
    "aperture_media_job_duration_seconds",
    "One delivery of a media job, from its start to the end of its work (before its ack), by kind and outcome: " +
      "published, skipped (nothing left to do), retried (failed, tried again later), failed (given up: dead-lettered)",
    ["kind", "outcome"],
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
  )

  const original = (key: string) =>
    store.readAll(key).pipe(
      Effect.orDie,
      Effect.flatMap(Option.match({
        onNone: () => Effect.fail(new ImageRejected({ reason: "the original is gone" })),
        onSome: Effect.succeed
      }))
    )

  /** The four WebP sizes of a post's photo (at `position`) or of a photo message, stored under their deterministic keys. */
  const renderPhoto = (job: MediaJob, key = job.key, position = 0) =>
    Effect.gen(function*() {
      const result = yield* render(yield* original(key), { kind: "post", maxPixels: config.media.maxPixels })
      const variants: Record<string, string> = {}
      yield* Effect.forEach(result.renditions, (r) => {
        const variant = variantKey(job.id, POST_WIDTHS[r.name as keyof typeof POST_WIDTHS], position)
        variants[r.name] = mediaUrl(variant)
        return store.putBytes(variant, r.bytes, "image/webp").pipe(Effect.orDie)
      }, { concurrency: 4, discard: true })
      return { result, variants }
    })

  /**
   * A post: each of its photos rendered in order (one at a time: a carousel of ten must not hold
   * ten decoded originals at once), then all published together — one `post_ready`, one event.
   * A photo that fails fails the post (retried whole: the keys are deterministic).
   */
  const processPost = (job: MediaJob) =>
    Effect.gen(function*() {
      const post = yield* posts.byId(job.id)
      // deleted meanwhile, or already done by an earlier delivery: nothing to do
      if (Option.isNone(post) || post.value.status !== "processing") return "skipped" as const
      yield* posts.countAttempt(job.id)
      const photos = post.value.media.length > 0 ? post.value.media : [{ position: 0, originalKey: job.key }]
      const rendered = yield* Effect.forEach(photos, (m) => renderPhoto(job, m.originalKey, m.position))
      const results = rendered.map(({ result, variants }) => ({
        width: result.width,
        height: result.height,
        variants,
        placeholder: result.placeholder,
        dominantColor: result.dominantColor
      }))
      const variants = results[0]!.variants
      yield* sql.withTransaction(Effect.gen(function*() {
        const published = yield* posts.publish(job.id, results)
        if (!published) return
        const payload = { postId: job.id, authorId: post.value.authorId, variants }
        yield* outbox.append(PostPublished.make(payload))
        // a private author's own frame carries URLs signed for them (the plain ones are refused)
        const restricted = Option.exists(yield* posts.audience(job.id), (a) => a.restricted)
        const ready = restricted ? { ...payload, variants: urls.signAll(variants, post.value.authorId) } : payload
        yield* outbox.appendMessage(`inbox.${post.value.authorId}`, inboxFrame("post_ready", ready), crypto.randomUUID())
      })).pipe(Effect.orDie)
      return "published" as const
    })

  /** Each member's `message_updated` frame, through the outbox in the transaction that records the result. */
  const announcePhoto = (mediaId: string, result: Parameters<typeof conversations.finishMedia>[1]) =>
    sql.withTransaction(Effect.gen(function*() {
      const media = yield* conversations.media(mediaId)
      const messages = yield* conversations.finishMedia(mediaId, result)
      if (Option.isNone(media)) return
      for (const { memberIds, seq } of messages) {
        for (const userId of memberIds) {
          const photo = {
            status: result === null ? "failed" : "ready",
            // a photo message's media are for its members only: always signed for the reader
            variants: result === null ? null : urls.signAll(result.variants as any, userId),
            placeholder: result?.placeholder ?? null,
            width: result?.width ?? null,
            height: result?.height ?? null
          }
          yield* outbox.appendMessage(
            `inbox.${userId}`,
            inboxFrame("message_updated", { conversationId: media.value.conversationId, seq, photo }),
            `dmphoto:${mediaId}:${userId}`
          )
        }
      }
    })).pipe(Effect.orDie)

  const processPhotoMessage = (job: MediaJob) =>
    Effect.gen(function*() {
      const media = yield* conversations.media(job.id)
      if (Option.isNone(media) || media.value.status !== "processing") return "skipped" as const
      const { result, variants } = yield* renderPhoto(job)
      yield* announcePhoto(job.id, { variants, placeholder: result.placeholder, width: result.width, height: result.height })
      return "published" as const
    })

  /**
   * A story: the 9:16 cover crop and its thumbnail; published (and its 24 hours started, by the
   * database clock) in the transaction that announces it. Its media are always served signed, for
   * the viewer who may see it (a story's id is no post's, so its plain URL is a 404).
   */
  const processStory = (job: MediaJob) =>
    Effect.gen(function*() {
      const story = yield* stories.byId(job.id)
      if (Option.isNone(story) || story.value.status !== "processing") return "skipped" as const
      const result = yield* render(yield* original(job.key), { kind: "story", maxPixels: config.media.maxPixels })
      const urlOf: Record<string, string> = {}
      yield* Effect.forEach(result.renditions, (r) => {
        const key = variantKey(job.id, STORY_WIDTHS[r.name as keyof typeof STORY_WIDTHS])
        urlOf[r.name] = mediaUrl(key)
        return store.putBytes(key, r.bytes, "image/webp").pipe(Effect.orDie)
      }, { concurrency: 2, discard: true })
      const large = result.renditions.find((r) => r.name === "large")!
      const media = {
        url: urlOf.large!,
        thumbnail: urlOf.thumbnail!,
        placeholder: result.placeholder,
        width: large.width,
        height: large.height,
        dominantColor: result.dominantColor
      }
      const published = yield* sql.withTransaction(Effect.gen(function*() {
        const row = yield* stories.publish(job.id, media)
        if (Option.isNone(row)) return false
        const s = row.value
        yield* outbox.append(StoryPublished.make({
          storyId: s.id,
          authorId: s.authorId,
          seq: Number(s.seq),
          audience: s.audience,
          publishedAt: s.publishedAt!.toISOString(),
          expiresAt: s.expiresAt!.toISOString()
        }))
        yield* outbox.appendMessage(`inbox.${s.authorId}`, inboxFrame("story_ready", { storyId: s.id }), `story_ready:${s.id}`)
        return true
      })).pipe(Effect.orDie)
      // the variants are all a story needs from now on
      if (published) yield* Effect.ignore(store.remove([job.key]))
      return published ? "published" as const : "skipped" as const
    })

  const processAvatar = (job: MediaJob) =>
    Effect.gen(function*() {
      const pending = yield* posts.avatarPending(job.id)
      if (Option.isNone(pending) || pending.value !== job.key) return "skipped" as const
      const result = yield* render(yield* original(job.key), { kind: "avatar", maxPixels: config.media.maxPixels })
      const version = job.key.slice(-8)
      const variants: Record<string, string> = {}
      yield* Effect.forEach(result.renditions, (r) => {
        const key = avatarKey(job.id, version, AVATAR_WIDTHS[r.name as keyof typeof AVATAR_WIDTHS])
        variants[r.name] = mediaUrl(key)
        return store.putBytes(key, r.bytes, "image/webp").pipe(Effect.orDie)
      }, { discard: true })
      // the profile shape has four sizes; an avatar's small and large are its nearest renditions
      const avatar = { thumbnail: variants.thumbnail!, small: variants.medium!, medium: variants.medium!, large: variants.medium! }
      yield* posts.setAvatar(job.id, avatar, job.key)
      yield* Effect.ignore(store.remove([job.key]))
      return "published" as const
    })

  const giveUp = (job: MediaJob, reason: string, deliveries: number, d?: Delivery<MediaJob>) => {
    const record = {
      // a redelivery of the same job, or a retried transaction, records it once
      dedupKey: `media:${job.kind}:${job.id}:${job.enqueuedAt}`,
      source: "media" as const,
      consumer: ConsumerNames.mediaWorker,
      subject: `media.${job.kind}`,
      payload: job,
      error: reason,
      deliveries,
      streamSeq: d?.streamSequence ?? null,
      publishedAt: d?.publishedAt ?? null
    }
    return sql.withTransaction(Effect.gen(function*() {
      const letter = new DeadLetter({ job, reason, deliveries, failedAt: new Date().toISOString() })
      yield* outbox.appendMessage(`dlq.media.${job.kind}`, letter, crypto.randomUUID())
      const id = yield* deadLetters.recordInTransaction(record)
      if (job.kind === "dm") {
        yield* announcePhoto(job.id, null)
        return id
      }
      if (job.kind === "story") {
        const failed = yield* stories.fail(job.id)
        if (Option.isSome(failed)) {
          const frame = inboxFrame("story_failed", { storyId: job.id, reason })
          yield* outbox.appendMessage(`inbox.${failed.value.authorId}`, frame, `story_failed:${job.id}`)
        }
        return id
      }
      if (job.kind !== "post") return id
      const post = yield* posts.byId(job.id)
      if (Option.isNone(post) || !(yield* posts.fail(job.id, reason))) return id
      const payload = { postId: job.id, authorId: post.value.authorId, reason }
      yield* outbox.append(PostFailed.make(payload))
      yield* outbox.appendMessage(`inbox.${post.value.authorId}`, inboxFrame("post_failed", payload), crypto.randomUUID())
      return id
    })).pipe(Effect.orDie, Effect.flatMap((id) => deadLetters.report(record, id)))
  }

  const handle = (d: Delivery<MediaJob>) =>
    Effect.gen(function*() {
      const job = d.value
      const started = performance.now()
      const work = { post: processPost, dm: processPhotoMessage, story: processStory, avatar: processAvatar }[job.kind]
      const outcome = yield* work(job).pipe(Effect.exit)
      const seconds = (performance.now() - started) / 1000
      if (outcome._tag === "Success") {
        processed.inc({ kind: job.kind, outcome: outcome.value })
        durations.observe({ kind: job.kind, outcome: outcome.value }, seconds)
        yield* Effect.logInfo("media job done").pipe(
          Effect.annotateLogs({ id: job.id, kind: job.kind, ms: Math.round(performance.now() - started), outcome: outcome.value })
        )
        return yield* d.ack
      }
      const failure = Cause.failureOption(outcome.cause)
      const permanent = Option.isSome(failure) && failure.value._tag === "ImageRejected"
      const reason = Option.isSome(failure) && failure.value._tag === "ImageRejected"
        ? failure.value.reason
        : Cause.pretty(outcome.cause).split("\n")[0]!.slice(0, 300)
      if (permanent || d.deliveryCount >= maxDeliveries) {
        yield* Effect.logWarning("media job failed for good").pipe(
          Effect.annotateLogs({ id: job.id, kind: job.kind, deliveries: d.deliveryCount, reason })
        )
        processed.inc({ kind: job.kind, outcome: "failed" })
        durations.observe({ kind: job.kind, outcome: "failed" }, seconds)
        yield* giveUp(job, reason, d.deliveryCount, d)
        return yield* d.ack
      }
      const delay = delays[d.deliveryCount - 1] ?? delays[delays.length - 1]!
      yield* Effect.logWarning("media job failed; retrying").pipe(
        Effect.annotateLogs({ id: job.id, kind: job.kind, delivery: d.deliveryCount, retryInMs: delay, reason })
      )
      processed.inc({ kind: job.kind, outcome: "retried" })
      durations.observe({ kind: job.kind, outcome: "retried" }, seconds)
      yield* d.nak(delay)
    }).pipe(
      // the database itself failing: leave the job to JetStream and try again a little later
      Effect.catchAllCause((cause) => Effect.logError("media job crashed", cause).pipe(Effect.zipRight(d.nak(5_000))))
    )

  /**
   * The last line of defence: a job whose final delivery crashed (the database was down, say) is
   * not redelivered by JetStream. Posts left `processing` well past every retry are failed here,
   * with a dead letter and a notice to the author, so none stays "processing" for ever.
   */
  const sweep = Effect.gen(function*() {
    const patience = config.media.ackWaitSeconds * (maxDeliveries + 1) + delays.reduce((a, b) => a + b, 0) / 1000 + 600
    for (const post of yield* posts.stuck(patience)) {
      const job = new MediaJob({ kind: "post", id: post.id, key: post.originalKey, enqueuedAt: new Date().toISOString() })
      yield* giveUp(job, "processing took too long", 0)
      yield* Effect.logWarning("post stuck in processing marked failed").pipe(Effect.annotateLogs({ id: post.id }))
    }
  })

  /** With tracing on, a delivery is handled in a `media.job` span continuing the trace its message carries. */
  const handleTraced = (d: Delivery<MediaJob>) =>
    !tracing.enabled ? handle(d) : tracing.continueFrom(handle(d), "media.job", tracing.fromHeaders((name) => d.headers?.get(name)), {
      attributes: {
        "media.kind": d.value.kind,
        "media.id": d.value.id,
        ...(d.value.kind === "post" ? { "post.id": d.value.id } : {}),
        "messaging.destination.name": d.subject,
        "jetstream.sequence": d.streamSequence,
        "jetstream.delivery_count": d.deliveryCount
      }
    })

  return { handle: handleTraced, sweep }
})

export const run = Effect.gen(function*() {
  const config = yield* AppConfig
  const bus = yield* Bus
  const { handle, sweep } = yield* make
  yield* sweep.pipe(
    Effect.catchAllCause((cause) => Effect.logWarning("stuck-post sweep failed", cause)),
    Effect.repeat(Schedule.spaced("1 minute")),
    Effect.forkScoped
  )
  yield* bus.consume(StreamNames.media, ConsumerNames.mediaWorker, MediaJob, { maxMessages: config.media.concurrency }).pipe(
    Stream.mapEffect(handle, { concurrency: config.media.concurrency, unordered: true }),
    Stream.runDrain,
    Effect.tapErrorCause((cause) => Effect.logWarning("media consumer stopped; restarting", cause)),
    Effect.retry(Schedule.spaced("1 second")),
    Effect.forkScoped
  )
  yield* Effect.logInfo(`media worker consuming (concurrency ${config.media.concurrency})`)
})

export const layer = Layer.scopedDiscard(run)
