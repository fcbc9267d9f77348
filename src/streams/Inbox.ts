/**
 * Per-user inboxes on the INBOX stream: `inbox.<userId>`, bounded per subject and by age. A frame
 * is stored as `{type, ts, payload}`; its stream sequence becomes the `id` clients see and resume
 * from. Reads go by direct get (`next_by_subj`), so delivery and replay read the same ordered log:
 * a socket's cursor moves over stored messages only, which is what makes resume gap-free.
 *
 * With tracing on, a frame published inside a span carries its context (`traceparent` header,
 * kept by JetStream's republish and by direct gets), so its socket delivery joins that trace.
 */
import type { StoredMsg } from "@nats-io/jetstream"
import type { Msg, MsgHdrs } from "@nats-io/transport-node"
import { Context, Effect, Layer } from "effect"
import { type FrameTrace, headersOf, type TraceContext, Tracing } from "../observability/Tracing.ts"
import { natsHeadersOf } from "./Bus.ts"
import { Nats, NatsError } from "./Nats.ts"
import { StreamNames } from "./Topology.ts"

export interface InboxMessage {
  readonly seq: number
  /** The stored frame `{type, ts, payload}` as JSON text. */
  readonly json: string
  /** The trace the frame was published in (tracing on), and when this node read it. */
  readonly trace?: FrameTrace | undefined
}

/** A frame as JetStream republished it after storing it. */
export interface Republished extends InboxMessage {
  /** The sequence of the user's previous stored frame (0 when this is the first). */
  readonly previous: number
}

export interface InboxShape {
  readonly subject: (userId: string) => string
  /** Where each stored frame of the user is republished (core NATS, with its sequences). */
  readonly republished: (userId: string) => string
  readonly parseRepublished: (msg: Msg) => Republished | null
  /** Publishes one frame to a user's inbox; returns its sequence once JetStream stored it. */
  readonly publish: (userId: string, type: string, payload: unknown, msgId: string) => Effect.Effect<number, NatsError>
  /** The first stored message of the user's inbox after `afterSeq`, if any. */
  readonly next: (userId: string, afterSeq: number) => Effect.Effect<InboxMessage | null, NatsError>
  /** The sequence of the user's latest stored message (0 when none). */
  readonly lastSeq: (userId: string) => Effect.Effect<number, NatsError>
  /** Whether message `seq` is still stored and belongs to this user's inbox. */
  readonly holds: (userId: string, seq: number) => Effect.Effect<boolean, NatsError>
}

export class Inbox extends Context.Tag("Inbox")<Inbox, InboxShape>() {}

const encoder = new TextEncoder()

/** `{"type":…}` → `{"id":seq,"type":…}`: the delivered frame without re-encoding the stored one. */
export const withId = (m: InboxMessage) => `{"id":${m.seq},${m.json.slice(1)}`

export const make = Effect.gen(function*() {
  const nats = yield* Nats
  const stream = nats.name(StreamNames.inbox)
  const subject = (userId: string) => nats.subject(`inbox.${userId}`)
  const call = <A>(op: string, f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: (cause) => new NatsError({ op, cause }) })
  const tracing = yield* Tracing
  const traceOf = (headers: MsgHdrs | undefined): FrameTrace | undefined => {
    if (!tracing.enabled || headers === undefined) return undefined
    const parent = tracing.fromHeaders((name) => headers.get(name))
    return parent === undefined ? undefined : { parent, receivedAt: Date.now() }
  }
  const toMessage = (m: StoredMsg | null): InboxMessage | null =>
    m === null ? null : tracing.enabled ? { seq: m.seq, json: m.string(), trace: traceOf(m.header) } : { seq: m.seq, json: m.string() }
  const send = (userId: string, type: string, payload: unknown, msgId: string, trace: TraceContext | undefined) =>
    call("inbox publish", () =>
      nats.js.publish(
        subject(userId),
        encoder.encode(JSON.stringify({ type, ts: new Date().toISOString(), payload })),
        trace === undefined ? { msgID: msgId } : { msgID: msgId, headers: natsHeadersOf(headersOf(trace)) }
      )
    ).pipe(Effect.map((ack) => ack.seq))

  return Inbox.of({
    subject,
    republished: (userId) => nats.subject(`rp.inbox.${userId}`),
    parseRepublished: (msg) => {
      const seq = Number(msg.headers?.get("Nats-Sequence"))
      const previous = Number(msg.headers?.get("Nats-Last-Sequence") || 0)
      if (!Number.isInteger(seq) || seq <= 0) return null
      return tracing.enabled ? { seq, previous, json: msg.string(), trace: traceOf(msg.headers) } : { seq, previous, json: msg.string() }
    },
    publish: (userId, type, payload, msgId) =>
      tracing.enabled
        ? Effect.flatMap(tracing.current, (trace) => send(userId, type, payload, msgId, trace))
        : send(userId, type, payload, msgId, undefined),
    next: (userId, afterSeq) =>
      call("inbox next", () => nats.jsm.direct.getMessage(stream, { seq: afterSeq + 1, next_by_subj: subject(userId) })).pipe(Effect.map(toMessage)),
    lastSeq: (userId) =>
      call("inbox last", () => nats.jsm.direct.getMessage(stream, { last_by_subj: subject(userId) })).pipe(Effect.map((m) => m?.seq ?? 0)),
    holds: (userId, seq) =>
      call("inbox get", () => nats.jsm.direct.getMessage(stream, { seq })).pipe(Effect.map((m) => m !== null && m.subject === subject(userId)))
  })
})

export const layer = Layer.effect(Inbox, make)
