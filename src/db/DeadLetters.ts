/** Dead letters (see migration 0009): recorded by the consumers that give up, listed and replayed by admins. */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"

export type DeadLetterSource = "events" | "media" | "mailbox"

export interface NewDeadLetter {
  readonly dedupKey: string
  readonly source: DeadLetterSource
  readonly consumer: string
  /** The logical subject (no deployment prefix) the message was published to. */
  readonly subject: string
  readonly payload: unknown
  readonly error: string
  readonly deliveries: number
  readonly streamSeq: number | null
  readonly publishedAt: Date | null
}

export interface DeadLetterRow extends NewDeadLetter {
  readonly id: string
  readonly failedAt: Date
  readonly replayedAt: Date | null
}

export class DeadLettersRepo extends Context.Tag("DeadLettersRepo")<DeadLettersRepo, {
  /** Records a dead letter; the same `dedupKey` twice keeps the first. Its id either way. */
  readonly record: (letter: NewDeadLetter) => Effect.Effect<string>
  /** Newest first, below `before` (an id), optionally one source or consumer. */
  readonly page: (q: {
    readonly before: Option.Option<string>
    readonly limit: number
    readonly source?: DeadLetterSource | undefined
    readonly consumer?: string | undefined
  }) => Effect.Effect<ReadonlyArray<DeadLetterRow>>
  readonly byId: (id: string) => Effect.Effect<Option.Option<DeadLetterRow>>
  /** Dead letters not replayed, per source and consumer (the inspector's figures). */
  readonly counts: Effect.Effect<ReadonlyArray<{ readonly source: string; readonly consumer: string; readonly count: number }>>
  /** Marks it replayed unless it already was; the row when this call marked it. Run in the replay's transaction. */
  readonly markReplayed: (id: string) => Effect.Effect<Option.Option<DeadLetterRow>>
}>() {}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const columns = sql`id::text, dedup_key, source, consumer, subject, payload, error, deliveries,
    stream_seq::float8 AS stream_seq, published_at, failed_at, replayed_at`

  return DeadLettersRepo.of({
    record: (l) =>
      sql<{ id: string }>`
        WITH inserted AS (
          INSERT INTO dead_letters (dedup_key, source, consumer, subject, payload, error, deliveries, stream_seq, published_at)
          VALUES (${l.dedupKey}, ${l.source}, ${l.consumer}, ${l.subject}, ${JSON.stringify(l.payload ?? null)}::jsonb,
                  ${l.error}, ${l.deliveries}, ${l.streamSeq}, ${l.publishedAt})
          ON CONFLICT (dedup_key) DO NOTHING
          RETURNING id::text)
        SELECT id FROM inserted UNION ALL SELECT id::text FROM dead_letters WHERE dedup_key = ${l.dedupKey} LIMIT 1`.pipe(
        Effect.map((rows) => rows[0]?.id ?? ""),
        Effect.orDie,
        Effect.withSpan("DeadLettersRepo.record")
      ),

    page: (q) =>
      sql<DeadLetterRow>`
        SELECT ${columns} FROM dead_letters
        WHERE true
          ${Option.isSome(q.before) ? sql`AND id < ${q.before.value}::bigint` : sql``}
          ${q.source === undefined ? sql`` : sql`AND source = ${q.source}`}
          ${q.consumer === undefined ? sql`` : sql`AND consumer = ${q.consumer}`}
        ORDER BY id DESC LIMIT ${q.limit}`.pipe(Effect.orDie, Effect.withSpan("DeadLettersRepo.page")),

    counts: sql<{ source: string; consumer: string; count: number }>`
      SELECT source, consumer, count(*)::int AS count FROM dead_letters WHERE replayed_at IS NULL
      GROUP BY source, consumer ORDER BY source, consumer`.pipe(Effect.orDie),

    byId: (id) =>
      sql<DeadLetterRow>`SELECT ${columns} FROM dead_letters WHERE id = ${id}::bigint`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.orDie
      ),

    markReplayed: (id) =>
      sql<DeadLetterRow>`
        UPDATE dead_letters SET replayed_at = date_trunc('milliseconds', now())
        WHERE id = ${id}::bigint AND replayed_at IS NULL
        RETURNING ${columns}`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.orDie
      )
  })
})

export const layer = Layer.effect(DeadLettersRepo, make)
