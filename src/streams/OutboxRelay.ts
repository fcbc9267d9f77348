/**
 * Publishes outbox rows to JetStream, `Nats-Msg-Id` = event id, and marks each row sent only after
 * its PubAck — inside the transaction that holds the relay lock, so with several nodes exactly one
 * relay publishes at a time. Woken by NOTIFY at commit, with a poll as the safety net. While NATS is
 * down the relay backs off and rows wait; nothing is lost, and a row published but not yet marked
 * (a crash in between) is deduplicated by JetStream.
 *
 * The order this gives: each batch goes out in id order, but only committed rows are visible, and
 * concurrent transactions can commit out of id order — a row with a lower id whose transaction
 * commits after a higher one was published goes out after it. What holds is causal order: a row
 * appended after another transaction committed (by a write that saw that commit: the unfollow that
 * deleted the follow's row, the delete of a post the worker published) takes a later id, and the
 * earlier row was visible first, so it is published after that one. Rows of transactions that
 * overlapped come out in no promised order. A batch is sent in one go, in id order, on one
 * connection (so JetStream stores it in that order); a failed publish stops the batch there: it and
 * every row after it are published again, in order (a row after it that was stored already is
 * dropped as a duplicate). A row after a failed one is stored before it only if JetStream refused
 * that one row and took the next (its limits refuse every row alike; a timeout means stored late).
 *
 * A row appended inside a trace is published in an `outbox.publish` span of that trace (publish to
 * PubAck), and its message carries that span's `traceparent`: the consumer continues the trace.
 */
import { PgClient } from "@effect/sql-pg"
import type { PubAck } from "@nats-io/jetstream"
import { Duration, Effect, Either, Exit, Layer, Option, Queue, Schedule, Stream } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { NOTIFY_CHANNEL, type OutboxRow, OutboxRepo } from "../db/Outbox.ts"
import { headersOf, type OpenSpan, Tracing } from "../observability/Tracing.ts"
import { Bus } from "./Bus.ts"
import type { NatsError } from "./Nats.ts"
import { Taps } from "./Taps.ts"

const encoder = new TextEncoder()

/** One `outbox.publish` span per row that was appended inside a trace (none when tracing is off). */
const publishSpans = (rows: ReadonlyArray<OutboxRow>): Effect.Effect<ReadonlyArray<OpenSpan | undefined>> =>
  Effect.flatMap(Tracing, (tracing) =>
    !tracing.enabled
      ? Effect.succeed([])
      : Effect.forEach(rows, (row) =>
        row.traceParent === null
          ? Effect.succeed(undefined)
          : tracing.start("outbox.publish", { traceparent: row.traceParent, tracestate: row.traceState ?? undefined }, {
            kind: "producer",
            attributes: { "messaging.system": "nats", "messaging.destination.name": row.subject, "messaging.message.id": row.eventId, "outbox.id": row.id }
          })))

/** Ends each row's span with its PubAck (the stream and sequence JetStream stored it at) or its failure. */
const endSpans = (spans: ReadonlyArray<OpenSpan | undefined>, outcomes: ReadonlyArray<Either.Either<PubAck, NatsError>>) =>
  Effect.forEach(spans, (span, i) => {
    if (span === undefined) return Effect.void
    const published = outcomes[i]!
    if (published._tag === "Left") return span.end(Exit.fail(published.left))
    span.attribute("jetstream.stream", published.right.stream)
    span.attribute("jetstream.sequence", published.right.seq)
    span.attribute("jetstream.duplicate", published.right.duplicate)
    return span.end(Exit.void)
  }, { discard: true })

export const drainOnce = Effect.fn("OutboxRelay.drainOnce")(function*(batchSize: number) {
  const repo = yield* OutboxRepo
  const bus = yield* Bus
  const taps = yield* Effect.serviceOption(Taps)
  const outcome = yield* repo.withPendingBatch(batchSize, (rows) =>
    Effect.gen(function*() {
      const sent: Array<string> = []
      let failure: unknown = undefined
      // all of the batch sent at once, in id order, then the PubAcks read in that order: one round
      // trip per batch instead of one per row (a burst of posts was held to ~10 events/s here)
      const spans = yield* publishSpans(rows)
      const outcomes = yield* bus.publishRawInOrder(
        rows.map((row, i) => ({
          subject: row.subject,
          payload: encoder.encode(JSON.stringify(row.payload)),
          msgId: row.eventId,
          headers: spans[i] === undefined ? undefined : headersOf(spans[i]!.context)
        }))
      )
      yield* endSpans(spans, outcomes)
      for (const [i, row] of rows.entries()) {
        const published = outcomes[i]!
        if (published._tag === "Left") {
          // only rows before the first failure are marked: the rest go out again with it, in
          // order, and JetStream drops those it already stored (same Nats-Msg-Id)
          failure = published.left
          break
        }
        sent.push(row.id)
      }
      yield* repo.markPublished(sent)
      if (Option.isSome(taps) && taps.value.anyone()) for (const row of rows.slice(0, sent.length)) taps.value.publishEvent(row.payload)
      return { published: sent.length, pending: rows.length, failure }
    }))
  return outcome.result ?? { published: 0, pending: 0, failure: undefined }
})

export const run = Effect.gen(function*() {
  const config = yield* AppConfig
  const pg = yield* PgClient.PgClient
  const repo = yield* OutboxRepo
  const wake = yield* Queue.sliding<void>(1)

  yield* pg.listen(NOTIFY_CHANNEL).pipe(
    Stream.runForEach(() => wake.offer(undefined)),
    Effect.tapErrorCause((cause) => Effect.logWarning("outbox listen lost; polling until it returns", cause)),
    Effect.retry(Schedule.spaced("1 second")),
    Effect.forkScoped
  )

  yield* repo.prunePublished(24 * 60 * 60).pipe(
    Effect.repeat(Schedule.spaced("1 minute")),
    Effect.catchAllCause((cause) => Effect.logWarning("outbox prune failed", cause)),
    Effect.forkScoped
  )

  const poll = Duration.millis(config.outbox.pollMillis)
  let failures = 0
  const loop: Effect.Effect<void, never, OutboxRepo | Bus> = Effect.gen(function*() {
    const result = yield* drainOnce(config.outbox.batchSize).pipe(
      Effect.catchAllCause((cause) =>
        Effect.logError("outbox relay batch failed", cause).pipe(
          Effect.as({ published: 0, pending: 1, failure: cause as unknown })
        )
      )
    )
    if (result.failure !== undefined) {
      failures++
      if (failures === 1) yield* Effect.logWarning("outbox relay cannot publish; retrying with backoff", result.failure)
      yield* Effect.sleep(Duration.millis(Math.min(config.outbox.pollMillis * 2 ** failures, 5_000)))
    } else {
      if (failures > 0) yield* Effect.logInfo("outbox relay publishing again")
      failures = 0
      // a full batch means more may be waiting; otherwise sleep until a commit or the poll
      if (result.pending < config.outbox.batchSize) {
        yield* wake.take.pipe(Effect.timeout(poll), Effect.ignore)
      }
    }
  })
  yield* Effect.forever(loop).pipe(Effect.forkScoped)
  yield* Effect.logInfo("outbox relay started")
})

export const layer = Layer.scopedDiscard(run)
