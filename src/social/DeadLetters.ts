/**
 * The admin's view of dead letters: a page of them (newest first, by source or consumer) and a
 * replay, which publishes the original message to its original subject again — through the
 * outbox, with a new message id (the original's may still be inside JetStream's duplicate window)
 * — and marks the dead letter replayed in the same transaction. A second replay is refused with
 * 409: at most one replay per dead letter, even when two admins press at once. If the replayed
 * message fails for good again, that is a new dead letter. A media post's replay also puts the
 * post back to `processing` (as the requeue endpoint does), or the worker would skip it.
 * A replayed event reaches every consumer of its subject; handlers tolerate an event seen twice.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { DeadLetterPage, DeadLetterRecord } from "../domain/Admin.ts"
import { Conflict, Forbidden, NotFound } from "../domain/ApiError.ts"
import { MediaJob } from "../domain/Media.ts"
import { type DeadLetterRow, DeadLettersRepo, type DeadLetterSource } from "../db/DeadLetters.ts"
import { OutboxRepo } from "../db/Outbox.ts"
import { PostsRepo } from "../db/Posts.ts"
import { UsersRepo } from "../db/Users.ts"

export interface DeadLetterQuery {
  readonly cursor?: string | undefined
  readonly limit: number
  readonly source?: DeadLetterSource | undefined
  readonly consumer?: string | undefined
}

export class DeadLetters extends Context.Tag("DeadLetters")<DeadLetters, {
  readonly page: (viewerId: string, q: DeadLetterQuery) => Effect.Effect<DeadLetterPage, Forbidden>
  readonly replay: (viewerId: string, id: string) => Effect.Effect<DeadLetterRecord, Forbidden | NotFound | Conflict>
}>() {}

const recordOf = (r: DeadLetterRow) =>
  new DeadLetterRecord({
    id: r.id,
    source: r.source,
    consumer: r.consumer,
    subject: r.subject,
    payload: r.payload,
    error: r.error,
    deliveries: r.deliveries,
    streamSeq: r.streamSeq,
    publishedAt: r.publishedAt?.toISOString() ?? null,
    failedAt: r.failedAt.toISOString(),
    replayedAt: r.replayedAt?.toISOString() ?? null
  })

const decodeJob = Schema.decodeUnknownOption(MediaJob)

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const sql = yield* SqlClient.SqlClient
  const repo = yield* DeadLettersRepo
  const outbox = yield* OutboxRepo
  const posts = yield* PostsRepo
  const users = yield* UsersRepo

  const requireAdmin = (viewerId: string) =>
    Effect.flatMap(users.byId(viewerId), (user) =>
      Option.isSome(user) && config.adminUsernames.includes(user.value.username.toLowerCase())
        ? Effect.void
        : Effect.fail(new Forbidden({ message: "admins only (ADMIN_USERNAMES)" })))

  const republish = (row: DeadLetterRow) =>
    Effect.gen(function*() {
      if (row.source === "media") {
        const job = decodeJob(row.payload)
        if (Option.isSome(job) && job.value.kind === "post") yield* posts.requeue(job.value.id)
        const fresh = Option.map(job, (j) => new MediaJob({ ...j, enqueuedAt: new Date().toISOString() }))
        return yield* outbox.appendMessage(row.subject, Option.getOrElse(fresh, () => row.payload), `replay:${row.id}`)
      }
      yield* outbox.appendMessage(row.subject, row.payload, `replay:${row.id}`)
    })

  return DeadLetters.of({
    page: Effect.fn("DeadLetters.page")(function*(viewerId, q) {
      yield* requireAdmin(viewerId)
      const rows = yield* repo.page({
        before: Option.fromNullable(q.cursor),
        limit: q.limit + 1,
        source: q.source,
        consumer: q.consumer
      })
      const hasMore = rows.length > q.limit
      const items = rows.slice(0, q.limit)
      return new DeadLetterPage({
        items: items.map(recordOf),
        nextCursor: hasMore ? items[items.length - 1]!.id : null,
        hasMore
      })
    }),

    replay: Effect.fn("DeadLetters.replay")(function*(viewerId, id) {
      yield* requireAdmin(viewerId)
      const replayed = yield* sql.withTransaction(Effect.gen(function*() {
        const marked = yield* repo.markReplayed(id)
        if (Option.isSome(marked)) yield* republish(marked.value)
        return marked
      })).pipe(Effect.orDie)
      if (Option.isSome(replayed)) {
        yield* Effect.logInfo("dead letter replayed").pipe(
          Effect.annotateLogs({ deadLetterId: id, consumer: replayed.value.consumer, subject: replayed.value.subject })
        )
        return recordOf(replayed.value)
      }
      const existing = yield* repo.byId(id)
      if (Option.isNone(existing)) return yield* new NotFound({ message: "no such dead letter" })
      return yield* new Conflict({
        message: `that dead letter was already replayed at ${existing.value.replayedAt?.toISOString()}`,
        details: { replayedAt: existing.value.replayedAt?.toISOString() ?? null }
      })
    })
  })
})

export const layer = Layer.effect(DeadLetters, make)
