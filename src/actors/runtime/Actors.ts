/**
 * Sending to actors, from any node: `send` publishes a durable command to the key's MAILBOX
 * partition and returns after the PubAck; `sendBatch` addresses many keys of one partition in one
 * message; `ask` is request/reply to whichever node owns the partition now, with a timeout.
 */
import { Context, Data, Effect, Layer, Schema } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { headersOf, type TraceContext, Tracing } from "../../observability/Tracing.ts"
import { natsHeadersOf } from "../../streams/Bus.ts"
import { Nats, NatsError } from "../../streams/Nats.ts"
import {
  type ActorKind,
  type AnyKind,
  askSubject,
  type BatchOf,
  BatchKey,
  type CommandOf,
  isValidKey,
  mailboxSubject,
  partitionOf,
  type QueryOf
} from "./Actor.ts"

/** No node answered an `ask` in time (no owner yet, or the owner is busy or gone). */
export class ActorUnavailable extends Data.TaggedError("ActorUnavailable")<{
  readonly kind: string
  readonly key: string
  readonly reason: string
}> {
  override get message() {
    return `actor ${this.kind}:${this.key} unavailable: ${this.reason}`
  }
}

/** MAILBOX is full (ACTOR_MAILBOX_MAX_MESSAGES): refused at once; callers answer 503. */
export class MailboxFull extends Data.TaggedError("MailboxFull")<{ readonly kind: string; readonly key: string }> {
  override get message() {
    return `actor mailboxes are full; ${this.kind}:${this.key} cannot take a command now`
  }
}

export interface ActorsShape {
  readonly partitions: number
  readonly partitionOf: (key: string) => number
  readonly send: <K extends AnyKind>(kind: K, key: string, command: CommandOf<K>, options?: { readonly msgId?: string }) => Effect.Effect<void, NatsError | MailboxFull>
  readonly sendBatch: <K extends AnyKind>(kind: K, partition: number, batch: BatchOf<K>, options?: { readonly msgId?: string }) => Effect.Effect<void, NatsError | MailboxFull>
  readonly ask: <K extends AnyKind>(kind: K, key: string, query: QueryOf<K>, options?: { readonly timeoutMillis?: number }) => Effect.Effect<unknown, ActorUnavailable>
}

export class Actors extends Context.Tag("Actors")<Actors, ActorsShape>() {}

type AnySchemas = ActorKind<unknown, unknown, unknown, unknown, unknown, unknown>

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const make = Effect.gen(function*() {
  const nats = yield* Nats
  const config = yield* AppConfig
  const partitions = config.actorPartitions

  const tracing = yield* Tracing

  const publishIn = (subject: string, json: unknown, msgId: string | undefined, kind: string, key: string, trace: TraceContext | undefined) =>
    Effect.tryPromise({
      try: () =>
        nats.js.publish(
          nats.subject(subject),
          encoder.encode(JSON.stringify(json)),
          trace === undefined
            ? { msgID: msgId ?? crypto.randomUUID() }
            : { msgID: msgId ?? crypto.randomUUID(), headers: natsHeadersOf(headersOf(trace)) }
        ),
      catch: (cause) =>
        /maximum messages|maximum bytes|resource limits/i.test(cause instanceof Error ? cause.message : String(cause))
          ? new MailboxFull({ kind, key })
          : new NatsError({ op: `publish ${subject}`, cause })
    }).pipe(Effect.asVoid)

  /** A command carries the sender's trace (tracing on): the actor handles it as a child of the sender's span. */
  const publish = (subject: string, json: unknown, msgId: string | undefined, kind: string, key: string) =>
    tracing.enabled
      ? Effect.flatMap(tracing.current, (trace) => publishIn(subject, json, msgId, kind, key, trace))
      : publishIn(subject, json, msgId, kind, key, undefined)

  // one encoder per schema, built on first use: building one per message cost more than the send
  const encoders = new WeakMap<Schema.Schema<any, any>, (value: unknown) => Effect.Effect<unknown, unknown>>()
  const encode = <A, I>(schema: Schema.Schema<A, I> | undefined, value: A, what: string): Effect.Effect<I> => {
    if (schema === undefined) return Effect.dieMessage(`actor kind has no ${what} schema`)
    let encoder = encoders.get(schema)
    if (encoder === undefined) {
      encoder = Schema.encode(schema as Schema.Schema<unknown, unknown>)
      encoders.set(schema, encoder)
    }
    return encoder(value).pipe(Effect.orDie) as Effect.Effect<I>
  }

  const send: ActorsShape["send"] = (k, key, command, options) =>
    Effect.suspend(() => {
      if (!isValidKey(key)) return Effect.dieMessage(`invalid actor key ${JSON.stringify(key)}`)
      return encode((k as AnySchemas).command, command, "command").pipe(
        Effect.flatMap((json) => publish(mailboxSubject(k.name, partitionOf(key, partitions), key), json, options?.msgId, k.name, key))
      )
    })

  const sendBatch: ActorsShape["sendBatch"] = (k, partition, batch, options) =>
    encode((k as AnySchemas).batch, batch, "batch").pipe(
      Effect.flatMap((json) => publish(mailboxSubject(k.name, partition, BatchKey), json, options?.msgId, k.name, BatchKey))
    )

  const ask: ActorsShape["ask"] = (k, key, query, options) =>
    Effect.gen(function*() {
      const unavailable = (reason: string) => new ActorUnavailable({ kind: k.name, key, reason })
      const encoded = yield* encode((k as AnySchemas).query, query, "query")
      const reply = yield* Effect.tryPromise({
        try: () =>
          nats.connection.request(
            nats.subject(askSubject(partitionOf(key, partitions))),
            encoder.encode(JSON.stringify({ kind: k.name, key, query: encoded })),
            { timeout: options?.timeoutMillis ?? config.actors.askTimeoutMillis }
          ),
        catch: (cause) => unavailable(cause instanceof Error ? cause.message : String(cause))
      })
      const body = JSON.parse(decoder.decode(reply.data)) as { ok?: unknown; error?: string }
      if (body.error !== undefined) return yield* unavailable(body.error)
      return body.ok
    })

  return Actors.of({ partitions, partitionOf: (key) => partitionOf(key, partitions), send, sendBatch, ask })
})

export const layer = Layer.effect(Actors, make)
