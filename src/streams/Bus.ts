/**
 * Typed JetStream access: `publish` encodes with a Schema, sets `Nats-Msg-Id` and returns after the
 * PubAck; `consume` turns a durable pull consumer into a Stream of deliveries that the caller acks,
 * naks with a delay, or terminates explicitly. A payload that does not decode is terminated and
 * logged with its subject and sequence — never retried forever, never dropped silently.
 */
import type { JsMsg, PubAck } from "@nats-io/jetstream"
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node"
import { Context, Effect, Either, Layer, Option, Schema, Stream } from "effect"
import { Nats, NatsError } from "./Nats.ts"

export interface Topic<A, I> {
  /** Logical subject (without the deployment prefix). */
  readonly subject: string
  readonly schema: Schema.Schema<A, I>
}

export const topic = <A, I>(subject: string, schema: Schema.Schema<A, I>): Topic<A, I> => ({ subject, schema })

export interface Delivery<A> {
  readonly value: A
  readonly subject: string
  readonly streamSequence: number
  readonly deliveryCount: number
  readonly msgId: string | undefined
  /** When JetStream stored the message (absent on hand-made deliveries). */
  readonly publishedAt?: Date | undefined
  /** The message's headers (a `traceparent` among them when it was sent inside a trace). */
  readonly headers?: MsgHdrs | undefined
  readonly ack: Effect.Effect<void>
  /** Redeliver after `delayMillis` (or the consumer's backoff when omitted). */
  readonly nak: (delayMillis?: number) => Effect.Effect<void>
  /** Stop redelivering this message. */
  readonly term: (reason: string) => Effect.Effect<void>
  /** Extend the ack deadline while a long job runs. */
  readonly working: Effect.Effect<void>
}

/** Headers sent with a message besides `Nats-Msg-Id` (the trace context: `Tracing.headersOf`). */
export type Headers = Readonly<Record<string, string>>

export interface BusShape {
  readonly publish: <A, I>(
    topic: Topic<A, I>,
    value: A,
    options: { readonly msgId: string; readonly subjectSuffix?: string; readonly headers?: Headers | undefined }
  ) => Effect.Effect<PubAck, NatsError>
  /** Publishes an already-encoded JSON payload to a logical subject (the outbox relay's path). */
  readonly publishRaw: (
    subject: string,
    payload: Uint8Array,
    options: { readonly msgId: string; readonly headers?: Headers | undefined }
  ) => Effect.Effect<PubAck, NatsError>
  /**
   * Publishes already-encoded payloads in one go: all are sent before any PubAck is awaited, in
   * the given order (one connection, so JetStream stores them in that order), and each one's
   * outcome is returned in that order.
   */
  readonly publishRawInOrder: (
    messages: ReadonlyArray<{ readonly subject: string; readonly payload: Uint8Array; readonly msgId: string; readonly headers?: Headers | undefined }>
  ) => Effect.Effect<ReadonlyArray<Either.Either<PubAck, NatsError>>>
  readonly consume: <A, I>(
    stream: string,
    durable: string,
    schema: Schema.Schema<A, I>,
    options?: { readonly maxMessages?: number }
  ) => Stream.Stream<Delivery<A>, NatsError>
}

export class Bus extends Context.Tag("Bus")<Bus, BusShape>() {}

const encoder = new TextEncoder()

/** `headers` as a NATS message's. */
export const natsHeadersOf = (headers: Headers): MsgHdrs => {
  const h = natsHeaders()
  for (const name in headers) h.set(name, headers[name]!)
  return h
}

/** Publish options: `msgID` is sent as the Nats-Msg-Id header (JetStream drops a repeat inside the duplicate window). */
const publishOptions = (msgId: string, headers: Headers | undefined) =>
  headers === undefined ? { msgID: msgId } : { msgID: msgId, headers: natsHeadersOf(headers) }

export const make = Effect.gen(function*() {
  const nats = yield* Nats

  const publishRaw: BusShape["publishRaw"] = (subject, payload, { headers, msgId }) =>
    Effect.tryPromise({
      try: () => nats.js.publish(nats.subject(subject), payload, publishOptions(msgId, headers)),
      catch: (cause) => new NatsError({ op: `publish ${subject}`, cause })
    })

  const publishRawInOrder: BusShape["publishRawInOrder"] = (messages) =>
    Effect.promise(() => {
      // one synchronous loop: each publish writes its request before this returns
      const acks = messages.map(({ headers, msgId, payload, subject }) =>
        nats.js.publish(nats.subject(subject), payload, publishOptions(msgId, headers)).then(
          (ack) => Either.right(ack),
          (cause: unknown) => Either.left(new NatsError({ op: `publish ${subject}`, cause }))
        )
      )
      return Promise.all(acks)
    })

  const publish: BusShape["publish"] = (t, value, options) =>
    Schema.encode(t.schema)(value).pipe(
      Effect.orDie,
      Effect.flatMap((encoded) =>
        publishRaw(options.subjectSuffix ? `${t.subject}.${options.subjectSuffix}` : t.subject, encoder.encode(JSON.stringify(encoded)), options)
      )
    )

  const consume = <A, I>(
    stream: string,
    durable: string,
    schema: Schema.Schema<A, I>,
    options?: { readonly maxMessages?: number }
  ): Stream.Stream<Delivery<A>, NatsError> => {
    const decode = Schema.decodeUnknownOption(Schema.parseJson(schema))
    return Stream.unwrapScoped(
      Effect.gen(function*() {
        const consumer = yield* Effect.tryPromise({
          try: () => nats.js.consumers.get(nats.name(stream), durable),
          catch: (cause) => new NatsError({ op: `consumer ${durable}`, cause })
        })
        const messages = yield* Effect.acquireRelease(
          Effect.tryPromise({
            try: () => consumer.consume({ max_messages: options?.maxMessages ?? 64 }),
            catch: (cause) => new NatsError({ op: `consume ${durable}`, cause })
          }),
          // close() resolves once the reading loop below has ended, which it cannot while it waits on a
          // hand-over nobody takes any more (the stream was interrupted): bounded, or a shutdown hangs
          (m) => Effect.promise(() => m.close().catch(() => undefined)).pipe(Effect.timeoutOption(2000))
        )
        // read by a detached loop (awaiting each hand-over, for backpressure): a fiber blocked inside
        // the iterator could not be interrupted cleanly at shutdown
        return Stream.async<JsMsg, NatsError>((emit) => {
          void (async () => {
            try {
              for await (const msg of messages) await emit.single(msg)
              await emit.end()
            } catch (cause) {
              await emit.fail(new NatsError({ op: `consume ${durable}`, cause }))
            }
          })()
        }, 16).pipe(
          Stream.mapEffect((msg) => {
            const value = decode(msg.string())
            if (Option.isSome(value)) return Effect.succeed(Option.some(toDelivery(msg, value.value)))
            return Effect.logError("undecodable message terminated").pipe(
              Effect.annotateLogs({ subject: msg.subject, seq: msg.seq, durable }),
              Effect.zipRight(Effect.sync(() => msg.term())),
              Effect.as(Option.none<Delivery<A>>())
            )
          }),
          Stream.filterMap((delivery) => delivery)
        )
      })
    )
  }

  return Bus.of({ publish, publishRaw, publishRawInOrder, consume })
})

export const toDelivery = <A>(msg: JsMsg, value: A): Delivery<A> => ({
  value,
  subject: msg.subject,
  streamSequence: msg.seq,
  deliveryCount: msg.info.deliveryCount,
  msgId: msg.headers?.get("Nats-Msg-Id") || undefined,
  publishedAt: new Date(Math.floor(msg.info.timestampNanos / 1e6)),
  headers: msg.headers,
  // confirmed by the server: after this the message will not come back
  ack: Effect.promise(() => msg.ackAck().catch(() => false)).pipe(Effect.asVoid),
  nak: (delayMillis) => Effect.sync(() => msg.nak(delayMillis)),
  // NATS 2.9 does not parse "+TERM <reason>" (2.10 does), so the reason goes to the log instead
  term: (reason) =>
    Effect.logWarning("message terminated").pipe(
      Effect.annotateLogs({ subject: msg.subject, seq: msg.seq, reason }),
      Effect.zipRight(Effect.sync(() => msg.term()))
    ),
  working: Effect.sync(() => msg.working())
})

export const layer = Layer.effect(Bus, make)
