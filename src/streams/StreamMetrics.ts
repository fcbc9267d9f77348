/**
 * JetStream backlog in `/metrics`, read from the server at scrape time: per durable consumer its
 * pending (not yet delivered), ack-pending (delivered, not acknowledged) and redelivered counts,
 * and per stream its messages and bytes. Streams and consumers are labelled by their logical and
 * durable names (no deployment prefix): every node reports the same values, so dashboards take
 * `max by (stream, consumer)`.
 *
 * One scrape costs one `stream info` per stream of the layout and one paged consumer listing per
 * stream that has consumers (never one request per consumer). The answer is kept for CACHE_TTL
 * from when it arrived, so the five gauges of one scrape, or two scrapers, share one read (the
 * gauges of a scrape wait for the read in flight rather than start their own); a read is given up
 * after TIMEOUT, and that failure is kept as long, so a slow NATS costs a scrape TIMEOUT once and
 * leaves these gauges empty rather than hanging `/metrics`.
 */
import type { ConsumerInfo } from "@nats-io/jetstream"
import { Clock, Duration, Effect, type Exit, Layer, SynchronizedRef } from "effect"
import { Metrics } from "../observability/Metrics.ts"
import { Nats, NatsError, type NatsShape } from "./Nats.ts"
import { StreamNames } from "./Topology.ts"

const CACHE_TTL = Duration.seconds(2)
const TIMEOUT = Duration.seconds(2)

export interface ConsumerStats {
  readonly stream: string
  readonly consumer: string
  readonly pending: number
  readonly ackPending: number
  readonly redelivered: number
}

export interface StreamStats {
  readonly stream: string
  readonly messages: number
  readonly bytes: number
}

export interface Snapshot {
  readonly streams: ReadonlyArray<StreamStats>
  readonly consumers: ReadonlyArray<ConsumerStats>
}

const call = <A>(op: string, f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: (cause) => new NatsError({ op, cause }) })

const isNotFound = (e: NatsError) => /not found/i.test(e.message)

/** One stream's stats and its durables' (nothing for a stream that does not exist yet). */
const ofStream = (nats: NatsShape, logical: string) =>
  Effect.gen(function*() {
    const name = nats.name(logical)
    const info = yield* call(`stream info ${name}`, () => nats.jsm.streams.info(name))
    const stream: StreamStats = { stream: logical, messages: info.state.messages, bytes: info.state.bytes }
    if (info.state.consumer_count === 0) return { streams: [stream], consumers: [] }
    const listed = yield* call(`consumer list ${name}`, async () => {
      const all: Array<ConsumerInfo> = []
      for await (const c of nats.jsm.consumers.list(name)) all.push(c)
      return all
    })
    const consumers = listed
      // an ephemeral consumer's random name would be a new series per scrape
      .filter((c) => c.config.durable_name !== undefined)
      .map((c): ConsumerStats => ({
        stream: logical,
        consumer: c.name,
        pending: c.num_pending,
        ackPending: c.num_ack_pending,
        redelivered: c.num_redelivered
      }))
    return { streams: [stream], consumers }
  }).pipe(Effect.catchIf(isNotFound, () => Effect.succeed<Snapshot>({ streams: [], consumers: [] })))

/** Every stream of the layout, read now. */
export const snapshot = (nats: NatsShape): Effect.Effect<Snapshot, NatsError> =>
  Effect.forEach(Object.values(StreamNames), (s) => ofStream(nats, s), { concurrency: 4 }).pipe(
    Effect.map((parts) => ({ streams: parts.flatMap((p) => p.streams), consumers: parts.flatMap((p) => p.consumers) }))
  )

export const layer = Layer.effectDiscard(
  Effect.gen(function*() {
    const nats = yield* Nats
    const metrics = yield* Metrics
    const read = snapshot(nats).pipe(
      Effect.timeoutFail({ duration: TIMEOUT, onTimeout: () => new NatsError({ op: "stream metrics", cause: new Error("timed out") }) }),
      Effect.tapError((e) => Effect.logWarning(`jetstream metrics not read: ${e.message}`))
    )
    const last = yield* SynchronizedRef.make<{ readonly at: number; readonly exit: Exit.Exit<Snapshot, NatsError> } | undefined>(undefined)
    const cached = SynchronizedRef.modifyEffect(last, (entry) =>
      Effect.gen(function*() {
        if (entry !== undefined && (yield* Clock.currentTimeMillis) - entry.at < Duration.toMillis(CACHE_TTL)) return [entry.exit, entry] as const
        const exit = yield* Effect.exit(read)
        const fresh = { at: yield* Clock.currentTimeMillis, exit }
        return [exit, fresh] as const
      })).pipe(Effect.flatten)
    const consumerGauge = (name: string, help: string, value: (c: ConsumerStats) => number) =>
      metrics.labelledGauge(name, help, ["stream", "consumer"], Effect.map(cached, (s) => s.consumers.map((c) => [{ stream: c.stream, consumer: c.consumer }, value(c)] as const)))
    const streamGauge = (name: string, help: string, value: (s: StreamStats) => number) =>
      metrics.labelledGauge(name, help, ["stream"], Effect.map(cached, (s) => s.streams.map((x) => [{ stream: x.stream }, value(x)] as const)))
    consumerGauge("aperture_jetstream_consumer_pending", "Messages of the stream not yet delivered to this durable consumer (JetStream num_pending)", (c) => c.pending)
    consumerGauge("aperture_jetstream_consumer_ack_pending", "Messages delivered to this durable consumer and not yet acknowledged (num_ack_pending)", (c) => c.ackPending)
    consumerGauge("aperture_jetstream_consumer_redelivered", "Messages this durable consumer has delivered more than once and not yet acknowledged (num_redelivered)", (c) => c.redelivered)
    streamGauge("aperture_jetstream_stream_messages", "Messages stored in the stream", (s) => s.messages)
    streamGauge("aperture_jetstream_stream_bytes", "Bytes stored in the stream", (s) => s.bytes)
  })
)
