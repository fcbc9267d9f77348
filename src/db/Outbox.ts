/**
 * Outbox rows: written by domain writes inside their own transaction, read by the relay in id order
 * among the committed ones (OutboxRelay.ts says what order that gives).
 * `append` refuses to run outside a transaction — an event without its write (or a write without
 * its event) is exactly what the outbox exists to prevent.
 *
 * Appended inside a trace (tracing on), a row keeps the W3C context of its append's span, and the
 * relay publishes it as a child of that span: the trace goes on through the message.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer } from "effect"
import { type DomainEvent, envelopeOf } from "../domain/DomainEvents.ts"
import { type EventEnvelope, eventSubject } from "../domain/Events.ts"
import { Tracing } from "../observability/Tracing.ts"

export interface OutboxRow {
  readonly id: string
  readonly eventId: string
  readonly subject: string
  readonly payload: unknown
  /** The W3C context of the span that appended it (null: tracing was off, or no span). */
  readonly traceParent: string | null
  readonly traceState: string | null
}

export const NOTIFY_CHANNEL = "aperture_outbox"
/** Key of the transaction-level advisory lock that makes one relay at a time publish, in order. */
const RELAY_LOCK = 0x4150_4f42 // "APOB"

export class OutboxRepo extends Context.Tag("OutboxRepo")<OutboxRepo, {
  /** A domain event (DomainEvents.ts), in its envelope, published on `ev.<type>`. */
  readonly append: (event: DomainEvent) => Effect.Effect<EventEnvelope>
  /**
   * A command rather than an event (a media job): published as-is to `subject` with `id` as its
   * Nats-Msg-Id, so enqueueing the same job twice delivers it once.
   */
  readonly appendMessage: (subject: string, payload: unknown, id: string) => Effect.Effect<void>
  /** Runs `f` over the oldest pending rows while holding the relay lock; false when another relay holds it. */
  readonly withPendingBatch: <A, E, R>(
    limit: number,
    f: (rows: ReadonlyArray<OutboxRow>) => Effect.Effect<A, E, R>
  ) => Effect.Effect<{ readonly locked: boolean; readonly result: A | undefined }, E, R>
  readonly markPublished: (ids: ReadonlyArray<string>) => Effect.Effect<void>
  readonly backlog: Effect.Effect<number>
  readonly prunePublished: (olderThanSeconds: number) => Effect.Effect<number>
}>() {}

/** A row written outside the caller's transaction would outlive (or miss) the write it belongs to. */
const requireTransaction = (what: string) =>
  Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (tx) =>
    tx._tag === "None" ? Effect.dieMessage(`${what} must run inside sql.withTransaction`) : Effect.void)

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const tracing = yield* Tracing

  /** The context this row continues (its append's span), named on that span. */
  const traceOf = (subject: string, id: string) =>
    tracing.enabled
      ? Effect.zipLeft(tracing.current, tracing.annotate({ "messaging.destination.name": subject, "outbox.message_id": id }))
      : Effect.succeed(undefined)

  const append = Effect.fn("Outbox.append")(function*(domainEvent: DomainEvent) {
    yield* requireTransaction(`Outbox.append(${domainEvent.type})`)
    const event = envelopeOf(domainEvent, { id: crypto.randomUUID(), occurredAt: new Date().toISOString() })
    const subject = eventSubject(event.type)
    const trace = yield* traceOf(subject, event.id)
    yield* sql`
      INSERT INTO outbox (event_id, subject, payload, trace_parent, trace_state)
      VALUES (${event.id}, ${subject}, ${JSON.stringify(event)}::jsonb, ${trace?.traceparent ?? null}, ${trace?.tracestate ?? null})`
    // delivered at commit, dropped on rollback: wakes the relay without polling
    // a non-empty payload: @effect/sql-pg's listen drops notifications whose payload is empty
    yield* sql`SELECT pg_notify(${NOTIFY_CHANNEL}, '1')`
    return event
  }, Effect.orDie)

  const appendMessage = Effect.fn("Outbox.appendMessage")(function*(subject: string, payload: unknown, id: string) {
    yield* requireTransaction(`Outbox.appendMessage(${subject})`)
    const trace = yield* traceOf(subject, id)
    // the same id twice is the same message: keep the first
    yield* sql`INSERT INTO outbox (event_id, subject, payload, trace_parent, trace_state)
               VALUES (${id}, ${subject}, ${JSON.stringify(payload)}::jsonb, ${trace?.traceparent ?? null}, ${trace?.tracestate ?? null})
               ON CONFLICT (event_id) DO NOTHING`
    yield* sql`SELECT pg_notify(${NOTIFY_CHANNEL}, '1')`
  }, Effect.orDie)

  const withPendingBatch = <A, E, R>(limit: number, f: (rows: ReadonlyArray<OutboxRow>) => Effect.Effect<A, E, R>) =>
    sql.withTransaction(
      Effect.gen(function*() {
        // a node frozen (not dead) while holding the relay lock would hold every node's events back:
        // PostgreSQL ends a transaction left idle this long (longer than a publish may take)
        yield* sql`SET LOCAL idle_in_transaction_session_timeout = '15s'`.pipe(Effect.orDie)
        const [lock] = yield* sql<{ locked: boolean }>`SELECT pg_try_advisory_xact_lock(${RELAY_LOCK}) AS locked`.pipe(
          Effect.orDie
        )
        if (!lock?.locked) return { locked: false, result: undefined }
        const rows = yield* sql<OutboxRow>`
          SELECT id::text, event_id, subject, payload, trace_parent, trace_state FROM outbox
          WHERE published_at IS NULL ORDER BY id LIMIT ${limit}`.pipe(Effect.orDie)
        return { locked: true, result: yield* f(rows) }
      })
    ).pipe(Effect.catchTag("SqlError", Effect.die))

  const markPublished = (ids: ReadonlyArray<string>) =>
    ids.length === 0
      ? Effect.void
      : sql`UPDATE outbox SET published_at = now() WHERE id IN ${sql.in(ids)}`.pipe(Effect.asVoid, Effect.orDie)

  const backlog = sql<{ n: string }>`SELECT count(*)::text AS n FROM outbox WHERE published_at IS NULL`.pipe(
    Effect.map((rows) => Number(rows[0]?.n ?? 0)),
    Effect.orDie
  )

  const prunePublished = (olderThanSeconds: number) =>
    sql<{ n: string }>`
      WITH gone AS (
        DELETE FROM outbox WHERE published_at < now() - make_interval(secs => ${olderThanSeconds}) RETURNING 1
      ) SELECT count(*)::text AS n FROM gone`.pipe(Effect.map((rows) => Number(rows[0]?.n ?? 0)), Effect.orDie)

  return OutboxRepo.of({ append, appendMessage, withPendingBatch, markPublished, backlog, prunePublished })
})

export const layer = Layer.effect(OutboxRepo, make)
