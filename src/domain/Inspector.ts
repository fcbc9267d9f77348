/**
 * The actor inspector's shapes: what `GET /admin/actors` and `GET /admin/actors/:kind/:key` answer,
 * and the frames of an admin's live tail (`observe` on the socket). Read by the HTTP API, the
 * `<ap-actor-inspector>` widget and the `observe` CLI alike.
 */
import { Schema } from "effect"

/** One node of the cluster as it answered the inspector (every role answers). */
export const InspectedNode = Schema.Struct({
  node: Schema.String,
  roles: Schema.Array(Schema.String),
  version: Schema.String,
  startedAt: Schema.String,
  /** Milliseconds since this node's last heartbeat was stored (null: it keeps none — not an `actors` node). */
  heartbeatAgeMs: Schema.NullOr(Schema.Number),
  /** Milliseconds the node took to answer, as the asking node measured. */
  answeredInMs: Schema.Number,
  partitions: Schema.Number,
  actors: Schema.Number,
  mailboxDepth: Schema.Number,
  sockets: Schema.Number
})
export type InspectedNode = typeof InspectedNode.Type

/** A MAILBOX partition: who leases it, under which epoch, until when, and its consumer's backlog. */
export const InspectedPartition = Schema.Struct({
  partition: Schema.Number,
  /** null: nobody answered for it (free, or its owner did not answer). */
  owner: Schema.NullOr(Schema.String),
  epoch: Schema.NullOr(Schema.Number),
  state: Schema.NullOr(Schema.String),
  /** When the lease runs out unless renewed (the owner's view). */
  leaseExpiresAt: Schema.NullOr(Schema.String),
  actors: Schema.Number,
  /** From JetStream: commands not yet delivered, delivered and not acknowledged, redelivered. */
  pending: Schema.NullOr(Schema.Number),
  ackPending: Schema.NullOr(Schema.Number),
  redelivered: Schema.NullOr(Schema.Number)
})
export type InspectedPartition = typeof InspectedPartition.Type

/** One live actor, as its node sees it. */
export const ActorSummary = Schema.Struct({
  kind: Schema.String,
  key: Schema.String,
  node: Schema.String,
  partition: Schema.Number,
  epoch: Schema.Number,
  mailboxDepth: Schema.Number,
  handled: Schema.Number,
  restarts: Schema.Number,
  parked: Schema.Boolean,
  spawnedAt: Schema.String,
  lastActivity: Schema.String
})
export type ActorSummary = typeof ActorSummary.Type

export const KindSummary = Schema.Struct({
  kind: Schema.String,
  live: Schema.Number,
  mailboxDepth: Schema.Number,
  handled: Schema.Number,
  restarts: Schema.Number
})

export const StreamSummary = Schema.Struct({
  stream: Schema.String,
  messages: Schema.Number,
  bytes: Schema.Number,
  consumers: Schema.Array(Schema.Struct({
    name: Schema.String,
    pending: Schema.Number,
    ackPending: Schema.Number,
    redelivered: Schema.Number
  }))
})

export const DeadLetterCount = Schema.Struct({ source: Schema.String, consumer: Schema.String, count: Schema.Number })

export const ActorsOverview = Schema.Struct({
  at: Schema.String,
  /** The node that gathered this answer. */
  askedBy: Schema.String,
  nodes: Schema.Array(InspectedNode),
  /** Nodes with a live heartbeat that did not answer in time: their partitions and actors are missing here. */
  missing: Schema.Array(Schema.String),
  partitions: Schema.Array(InspectedPartition),
  kinds: Schema.Array(KindSummary),
  /** The hottest actors across the cluster (at most `limit` each). */
  top: Schema.Struct({
    mailboxDepth: Schema.Array(ActorSummary),
    handled: Schema.Array(ActorSummary),
    restarts: Schema.Array(ActorSummary),
    lastActivity: Schema.Array(ActorSummary)
  }),
  streams: Schema.Array(StreamSummary),
  deadLetters: Schema.Array(DeadLetterCount)
})
export type ActorsOverview = typeof ActorsOverview.Type

export const ActorsOverviewQuery = Schema.Struct({
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 100)), { default: () => 20 })
})

export const ActorPath = Schema.Struct({
  kind: Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9_-]{0,31}$/)),
  key: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{1,128}$/))
})

/** One handled command (or ask) of an actor, newest last. */
export const HandledCommand = Schema.Struct({
  seq: Schema.Number,
  tag: Schema.String,
  outcome: Schema.Literal("ok", "failed", "dead", "parked", "answered"),
  durationMs: Schema.Number,
  attempt: Schema.Number,
  at: Schema.String,
  error: Schema.optional(Schema.String)
})
export type HandledCommand = typeof HandledCommand.Type

export const ActorDetail = Schema.Struct({
  kind: Schema.String,
  key: Schema.String,
  partition: Schema.Number,
  /** The node leasing the key's partition (null: nobody answered for it). */
  owner: Schema.NullOr(Schema.String),
  epoch: Schema.NullOr(Schema.Number),
  /** Whether the actor is alive now (an idle actor is passivated and hydrated again when a command comes). */
  alive: Schema.Boolean,
  mailboxDepth: Schema.Number,
  handled: Schema.Number,
  restarts: Schema.Number,
  parked: Schema.Boolean,
  spawnedAt: Schema.NullOr(Schema.String),
  lastActivity: Schema.NullOr(Schema.String),
  /** `Behaviour.describe` of its state (null when not hydrated or the kind describes nothing). */
  state: Schema.Unknown.annotations({
    jsonSchema: { type: "object", description: "The kind's `describe` of the actor's state (JSON), or null." }
  }),
  recent: Schema.Array(HandledCommand),
  /** The partition's consumer in JetStream. */
  consumer: Schema.NullOr(Schema.Struct({ name: Schema.String, pending: Schema.Number, ackPending: Schema.Number, redelivered: Schema.Number }))
})
export type ActorDetail = typeof ActorDetail.Type

/** Client → server `observe` payload: every field optional; none means everything. */
export const ObserveFilter = Schema.Struct({
  /** Actor kinds to tail (`timeline`, `conversation`). */
  kinds: Schema.optional(Schema.Array(Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9_-]{0,31}$/))).pipe(Schema.maxItems(16))),
  /** Actor keys to tail (a user id for `timeline`, a conversation id for `conversation`). */
  keys: Schema.optional(Schema.Array(Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{1,128}$/))).pipe(Schema.maxItems(64))),
  /** Domain event types, `*` matching one dot-separated part and `>` the rest (`post.*`, `story.>`). */
  events: Schema.optional(Schema.Array(Schema.String.pipe(Schema.pattern(/^[a-z*>][a-z0-9_.*>]{0,63}$/))).pipe(Schema.maxItems(16))),
  /** The share of matching traffic to send, 0 < sample ≤ 1 (default 1). */
  sample: Schema.optional(Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(1)))
})
export type ObserveFilter = typeof ObserveFilter.Type

/** A tap as it travels on core NATS and reaches an observer in an `observed` frame. */
export type Tap =
  | {
    readonly source: "actor"
    readonly kind: string
    readonly key: string
    readonly tag: string
    readonly outcome: HandledCommand["outcome"]
    readonly durationMs: number
    readonly node: string
    readonly partition: number
    readonly epoch: number
    readonly seq: number
    readonly at: number
    /** Keys a batch addressed (fan-out), at most 32 of them. */
    readonly keys?: ReadonlyArray<string>
  }
  | {
    readonly source: "event"
    readonly type: string
    readonly id: string
    readonly ids: Readonly<Record<string, string>>
    readonly node: string
    readonly at: number
  }

/** The payload of an `observed` frame: a tap, and how many were dropped since the previous one sent. */
export type Observed = Tap & { readonly droppedBefore?: number }

/** The `observing` frame: the filter now applied (null after `unobserve`) and the socket's rate limit. */
export interface Observing {
  readonly filter: ObserveFilter | null
  readonly maxPerSecond: number
}

/** The `observe_stats` frame, once a second while observing: traffic before the rate limit. */
export interface ObserveStats {
  /** Matching actor taps per kind, and events per type, in the last second. */
  readonly perKind: Readonly<Record<string, number>>
  readonly perEvent: Readonly<Record<string, number>>
  readonly sent: number
  /** Matching taps not sent in the last second (the socket's rate limit, or sampling). */
  readonly dropped: number
}

/** `post.*` matches `post.published`; `story.>` matches `story.viewed` and deeper; a plain type matches itself. */
export const eventPattern = (pattern: string): RegExp => {
  const body = pattern.split(".").map((part) => part === ">" ? "[^]+" : part === "*" ? "[^.]+" : part.replace(/[^a-z0-9_]/g, "\\$&")).join("\\.")
  return new RegExp(`^${body}$`)
}

/** A filter ready to test taps against. */
export interface CompiledFilter {
  readonly actors: boolean
  readonly events: boolean
  readonly kinds: ReadonlySet<string> | undefined
  readonly keys: ReadonlySet<string> | undefined
  readonly eventPatterns: ReadonlyArray<RegExp> | undefined
  readonly sample: number
}

/**
 * What a filter selects: with no field, everything; naming kinds or keys selects actor traffic
 * (and events only if `events` is named too); naming only `events` selects those events alone.
 */
export const compileFilter = (f: ObserveFilter): CompiledFilter => {
  const actorSide = f.kinds !== undefined || f.keys !== undefined
  const eventSide = f.events !== undefined
  return {
    actors: actorSide || !eventSide,
    events: eventSide || !actorSide,
    kinds: f.kinds === undefined ? undefined : new Set(f.kinds),
    keys: f.keys === undefined ? undefined : new Set(f.keys),
    eventPatterns: f.events?.map(eventPattern),
    sample: f.sample ?? 1
  }
}

export const wantsActor = (f: CompiledFilter, kind: string, key: string): boolean =>
  f.actors && (f.kinds === undefined || f.kinds.has(kind)) && (f.keys === undefined || f.keys.has(key))

/** A batch tap matches a key filter when it addressed one of the keys. */
export const wantsActorTap = (f: CompiledFilter, tap: Extract<Tap, { source: "actor" }>): boolean =>
  wantsActor(f, tap.kind, tap.key) ||
  (f.actors && f.keys !== undefined && tap.keys !== undefined && (f.kinds === undefined || f.kinds.has(tap.kind)) &&
    tap.keys.some((k) => f.keys!.has(k)))

export const wantsEvent = (f: CompiledFilter, type: string): boolean =>
  f.events && (f.eventPatterns === undefined || f.eventPatterns.some((p) => p.test(type)))

export const wantsTap = (f: CompiledFilter, tap: Tap): boolean =>
  tap.source === "actor" ? wantsActorTap(f, tap) : wantsEvent(f, tap.type)
