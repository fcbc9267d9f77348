/**
 * Giving up on a message, never silently: the dead letter is recorded in PostgreSQL (listed and
 * replayed by admins) and put on its DLQ subject through the outbox in the same transaction, then
 * logged as one structured line and counted in `aperture_dead_letters_total{stream,consumer}`
 * (the stream it was read from, by its logical name: EVENTS, MEDIA).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { type DeadLetterSource, DeadLettersRepo, type NewDeadLetter } from "../db/DeadLetters.ts"
import { OutboxRepo } from "../db/Outbox.ts"
import { Metrics } from "../observability/Metrics.ts"
import { StreamNames } from "./Topology.ts"

const streamOf: Record<DeadLetterSource, string> = { events: StreamNames.events, media: StreamNames.media, mailbox: StreamNames.mailbox }

/** The DLQ subject of a source and consumer: `dlq.ev.<consumer>` for EVENTS (stream EVENTS_DLQ). */
export const dlqSubject = (source: "events", consumer: string) => `dlq.${source === "events" ? "ev" : source}.${consumer}`

export const makeDeadLetters = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const repo = yield* DeadLettersRepo
  const outbox = yield* OutboxRepo
  const metrics = yield* Metrics

  /** Records the row, and the DLQ message when `dlq` names one; inside the caller's transaction. */
  const recordInTransaction = (letter: NewDeadLetter, dlq?: string) =>
    Effect.gen(function*() {
      const id = yield* repo.record(letter)
      if (dlq !== undefined) {
        yield* outbox.appendMessage(dlq, {
          deadLetterId: id,
          source: letter.source,
          consumer: letter.consumer,
          subject: letter.subject,
          error: letter.error,
          deliveries: letter.deliveries,
          streamSeq: letter.streamSeq,
          publishedAt: letter.publishedAt?.toISOString() ?? null,
          failedAt: new Date().toISOString(),
          payload: letter.payload
        }, `dlq:${letter.dedupKey}`)
      }
      return id
    })

  /** After the commit: the log line and the count. */
  const report = (letter: NewDeadLetter, id: string) =>
    Effect.sync(() => metrics.deadLetter(streamOf[letter.source], letter.consumer)).pipe(
      Effect.zipRight(Effect.logError("message dead-lettered").pipe(Effect.annotateLogs({
        deadLetterId: id,
        source: letter.source,
        consumer: letter.consumer,
        subject: letter.subject,
        deliveries: letter.deliveries,
        streamSeq: letter.streamSeq ?? undefined,
        error: letter.error
      })))
    )

  /** Both, in a transaction of its own. */
  const deadLetter = (letter: NewDeadLetter, dlq?: string) =>
    sql.withTransaction(recordInTransaction(letter, dlq)).pipe(Effect.orDie, Effect.tap((id) => report(letter, id)))

  return { recordInTransaction, report, deadLetter }
})
