/**
 * The JetStream layout of ARCHITECTURE.md, declared idempotently at start: each stream, consumer
 * and KV bucket is created when missing and updated to this configuration when present.
 * Only keys NATS 2.9 accepts are used (no per-message TTL, no priority groups, no multi-filter
 * consumers); `compose.yaml` runs a current server, where the same declarations also apply.
 */
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, type ConsumerConfig, type StreamConfig } from "@nats-io/jetstream"
import { Kvm } from "@nats-io/kv"
import { nanos } from "@nats-io/transport-node"
import { Effect, Schedule } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { EventConsumers, type EventConsumerSpec, EventConsumerNames } from "./EventRoutes.ts"
import { Nats, NatsError, type NatsShape } from "./Nats.ts"

const DAY_MS = 24 * 60 * 60 * 1000

export const StreamNames = {
  events: "EVENTS",
  mailbox: "MAILBOX",
  media: "MEDIA",
  mediaDlq: "MEDIA_DLQ",
  actorDlq: "ACTOR_DLQ",
  parked: "PARKED",
  eventsDlq: "EVENTS_DLQ",
  inbox: "INBOX"
} as const

export const BucketNames = { shards: "shards", nodes: "nodes" } as const

export const ConsumerNames = {
  mediaWorker: "media-worker",
  /**
   * A MAILBOX partition's consumer under one lease epoch (`mbox-<p>-<epoch>`): each new holder
   * deletes the previous holder's consumer and creates its own, so a paused or cut-off old holder
   * can pull nothing more (see `ActorHost.ts`). `mbox-<p>` is the name of earlier versions.
   */
  mailboxPartition: (partition: number, epoch?: number) => epoch === undefined ? `mbox-${partition}` : `mbox-${partition}-${epoch}`,
  /** The EVENTS consumers: which reads what is the table in EventRoutes.ts. */
  ...EventConsumerNames
} as const


type StreamSpec = Omit<Partial<StreamConfig>, "name" | "subjects"> & { readonly name: string; readonly subjects: ReadonlyArray<string> }
type ConsumerSpec = Partial<ConsumerConfig> & { readonly stream: string; readonly durable_name: string }

export const streamSpecs = (partitions: number, limits: { readonly mailboxMaxMessages: number } = { mailboxMaxMessages: 1_000_000 }): ReadonlyArray<StreamSpec> => [
  {
    name: StreamNames.events,
    subjects: ["ev.>"],
    retention: RetentionPolicy.Limits,
    max_age: nanos(7 * DAY_MS),
    duplicate_window: nanos(10 * 60 * 1000),
    storage: StorageType.File,
    discard: DiscardPolicy.Old
  },
  {
    name: StreamNames.mailbox,
    subjects: ["mbox.>"],
    retention: RetentionPolicy.Workqueue,
    duplicate_window: nanos(2 * 60 * 1000),
    storage: StorageType.File,
    max_msg_size: 1024 * 1024,
    // full: `send` fails at once (MailboxFull, a 503) rather than piling up work nobody can do
    max_msgs: limits.mailboxMaxMessages,
    discard: DiscardPolicy.New,
    // a partition key is part of the subject; `partitions` only documents the layout here
    description: `actor mailboxes, ${partitions} partitions`
  },
  {
    // the backlog of a key that parked itself (`park.<kind>.<partition>.<key>`, see ActorHost.ts):
    // read back in order by its partition's holder, each message deleted once handled
    name: StreamNames.parked,
    subjects: ["park.>"],
    retention: RetentionPolicy.Limits,
    duplicate_window: nanos(2 * 60 * 1000),
    storage: StorageType.File,
    max_msg_size: 1024 * 1024,
    max_msgs: limits.mailboxMaxMessages,
    discard: DiscardPolicy.New
  },
  {
    name: StreamNames.media,
    subjects: ["media.>"],
    retention: RetentionPolicy.Workqueue,
    duplicate_window: nanos(10 * 60 * 1000),
    storage: StorageType.File,
    discard: DiscardPolicy.New
  },
  {
    name: StreamNames.mediaDlq,
    subjects: ["dlq.media.>"],
    retention: RetentionPolicy.Limits,
    max_age: nanos(30 * DAY_MS),
    storage: StorageType.File
  },
  {
    name: StreamNames.actorDlq,
    subjects: ["dlq.mbox.>"],
    retention: RetentionPolicy.Limits,
    max_age: nanos(30 * DAY_MS),
    storage: StorageType.File
  },
  {
    name: StreamNames.eventsDlq,
    subjects: ["dlq.ev.>"],
    retention: RetentionPolicy.Limits,
    max_age: nanos(30 * DAY_MS),
    duplicate_window: nanos(10 * 60 * 1000),
    storage: StorageType.File
  },
  {
    name: StreamNames.inbox,
    subjects: ["inbox.>"],
    retention: RetentionPolicy.Limits,
    // sockets replay a user's events by `next_by_subj`; live, each stored frame is republished
    // with its sequence and the previous sequence of the same user (`Nats-Last-Sequence`)
    allow_direct: true,
    republish: { src: "inbox.>", dest: "rp.inbox.>" },
    max_msgs_per_subject: 1000,
    max_age: nanos(3 * DAY_MS),
    storage: StorageType.File,
    discard: DiscardPolicy.Old
  }
]

/** The consumers declared at start (MAILBOX partitions' are made by their holders: `mailboxConsumerSpec`). */
export const consumerSpecs = (
  media: { readonly ackWaitSeconds: number; readonly retryDelaysMillis: ReadonlyArray<number> }
): ReadonlyArray<ConsumerSpec> => [
  {
    stream: StreamNames.media,
    durable_name: ConsumerNames.mediaWorker,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(media.ackWaitSeconds * 1000),
    // the worker naks with MEDIA_RETRY_DELAYS_MS itself: a consumer `backoff` would also replace
    // ack_wait with its first step (1 s) and redeliver jobs that are merely still running
    max_deliver: media.retryDelaysMillis.length + 1,
    filter_subject: "media.>"
  },
  // events consumers start at the stream's end when first created: a new deployment does not
  // replay a week of history into timelines that are rebuilt from PostgreSQL anyway
  ...Object.entries(EventConsumers).map(([durable, spec]) => eventsConsumerSpec(durable, spec))
]

/**
 * The consumer of MAILBOX partition `p` under lease epoch `epoch`, created by the partition's
 * holder (not at start): every command still in the work-queue stream — not yet acknowledged —
 * delivered in stream order. Never redelivered on a timer while held (the holder sends
 * `working()`); a failing command is retried in place, so `max_deliver` is unlimited here.
 */
export const mailboxConsumerSpec = (
  p: number,
  epoch: number,
  runtime: { readonly ackWaitMillis: number; readonly maxAckPending: number }
): ConsumerSpec => ({
  stream: StreamNames.mailbox,
  durable_name: ConsumerNames.mailboxPartition(p, epoch),
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  ack_wait: nanos(runtime.ackWaitMillis),
  max_ack_pending: runtime.maxAckPending,
  max_deliver: -1,
  filter_subject: `mbox.*.${p}.>`
})

/** A durable EVENTS consumer (consumed with `consumeEvents`; the application's are in EventRoutes.ts). */
export const eventsConsumerSpec = (durable: string, spec: Pick<EventConsumerSpec, "filter" | "ordered">): ConsumerSpec => ({
  stream: StreamNames.events,
  durable_name: durable,
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.New,
  ack_wait: nanos(30_000),
  // unlimited here: EventConsumer counts deliveries against EVENTS_MAX_DELIVER and dead-letters
  // on the last one, so a dead letter that could not be written is retried, not lost
  max_deliver: -1,
  // ordered: one unacknowledged event across every node that reads this consumer, so a nak'd
  // event holds the later ones back instead of being overtaken (the server default is 1000)
  max_ack_pending: spec.ordered ? 1 : 1000,
  filter_subject: spec.filter
})

const call = <A>(op: string, f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: (cause) => new NatsError({ op, cause }) })

const isNotFound = (e: NatsError) => /not found/i.test(e.message)

/**
 * Creating a stream (or a KV bucket, which is one) can fail with "error creating store for stream"
 * (10077) when it races the removal of the account's last stream: NATS 2.9 then removes the
 * account's store directory and the create's `mkdir …/$G/streams` finds no parent. The server is
 * fine a moment later, so the create is tried again (seen on a shared server whose other streams were
 * all being deleted; a first deployment on an empty server can meet it too).
 */
const storeRace = Schedule.intersect(Schedule.exponential("50 millis"), Schedule.recurs(5)).pipe(
  Schedule.whileInput((e: NatsError) => /error creating store/i.test(e.message))
)

const ensureStream = (nats: NatsShape, spec: StreamSpec) => {
  const config = {
    ...spec,
    name: nats.name(spec.name),
    subjects: spec.subjects.map(nats.subject),
    ...(spec.republish === undefined ? {} : { republish: { ...spec.republish, src: nats.subject(spec.republish.src), dest: nats.subject(spec.republish.dest) } })
  }
  return call(`stream info ${config.name}`, () => nats.jsm.streams.info(config.name)).pipe(
    Effect.flatMap((info) => {
      // retention cannot change on a live stream; keep what is there and update the rest
      const { retention: _retention, ...update } = config
      if (info.config.retention !== spec.retention) return Effect.logWarning(`stream ${config.name} has a different retention; left as it is`)
      return call(`stream update ${config.name}`, () => nats.jsm.streams.update(config.name, update)).pipe(
        // NATS 2.9 cannot add republishing to a stream; INBOX only holds what sockets may still
        // resume from, so it is recreated (clients resuming across this get `complete: false`)
        Effect.catchIf(
          (e) => spec.name === StreamNames.inbox && /RePublish/i.test(e.message),
          () =>
            Effect.logWarning(`stream ${config.name} recreated to republish its frames`).pipe(
              Effect.zipRight(call(`stream delete ${config.name}`, () => nats.jsm.streams.delete(config.name))),
              Effect.zipRight(call(`stream add ${config.name}`, () => nats.jsm.streams.add(config)))
            )
        )
      )
    }),
    Effect.catchIf(isNotFound, () => call(`stream add ${config.name}`, () => nats.jsm.streams.add(config)).pipe(Effect.retry(storeRace))),
    Effect.asVoid
  )
}

export const ensureConsumer = (nats: NatsShape, spec: ConsumerSpec) => {
  const { stream, ...rest } = spec
  const config = rest.filter_subject === undefined ? rest : { ...rest, filter_subject: nats.subject(rest.filter_subject) }
  const streamName = nats.name(stream)
  return call(`consumer info ${spec.durable_name}`, () => nats.jsm.consumers.info(streamName, spec.durable_name)).pipe(
    Effect.flatMap(() => {
      const { durable_name, deliver_policy: _d, ...update } = config
      return call(`consumer update ${durable_name}`, () => nats.jsm.consumers.update(streamName, durable_name, update))
    }),
    Effect.catchIf(isNotFound, () => call(`consumer add ${spec.durable_name}`, () => nats.jsm.consumers.add(streamName, config))),
    Effect.asVoid
  )
}

const ensureBucket = (nats: NatsShape, name: string, ttlMillis: number) =>
  call(`kv ${name}`, () => new Kvm(nats.js).create(nats.name(name), { ttl: ttlMillis, history: 1 })).pipe(Effect.retry(storeRace), Effect.asVoid)

/** Creates or updates everything; safe to run on every start and on several nodes at once. */
export const ensureTopology = Effect.fn("Topology.ensure")(function*() {
  const nats = yield* Nats
  const config = yield* AppConfig
  yield* Effect.forEach(streamSpecs(config.actorPartitions, config.actorRuntime), (s) => ensureStream(nats, s), { discard: true })
  yield* Effect.forEach(consumerSpecs(config.media), (c) => ensureConsumer(nats, c), {
    concurrency: 8,
    discard: true
  })
  yield* ensureBucket(nats, BucketNames.shards, config.actorRuntime.leaseTtlMillis)
  yield* ensureBucket(nats, BucketNames.nodes, config.actorRuntime.leaseTtlMillis)
  yield* Effect.logInfo("jetstream topology ready")
})

/**
 * Removes every stream and KV bucket under this deployment's prefix (tests use it to clean up).
 * Refuses to run without a prefix: that would be the production layout.
 */
export const deleteTopology = Effect.fn("Topology.delete")(function*() {
  const nats = yield* Nats
  if (nats.prefix === "") return yield* Effect.dieMessage("deleteTopology needs a NATS prefix")
  const names = yield* call("stream list", async () => {
    const all: Array<string> = []
    for await (const name of nats.jsm.streams.names()) all.push(name)
    return all
  })
  const mine = names.filter((n) => n.startsWith(`${nats.prefix}_`) || n.startsWith(`KV_${nats.prefix}_`))
  yield* Effect.forEach(mine, (name) => call(`stream delete ${name}`, () => nats.jsm.streams.delete(name)).pipe(Effect.ignore), {
    discard: true
  })
})
