/**
 * Hosts actors on this node (the `actors` role). For each MAILBOX partition this node leases (see
 * `Shards.ts`) it consumes the partition and routes each command to its actor, under the
 * partition's epoch (see `Fence.ts`):
 *
 * - **start**: the fence is raised (a newer epoch in PostgreSQL and Redis, so the previous
 *   holder's writes fail from here on), the previous holder's consumer is deleted — a paused or
 *   cut-off old holder can pull nothing more — and a consumer of this epoch is created: the
 *   work-queue stream still holds exactly the commands nobody acknowledged, delivered again in
 *   stream order. A command whose effects the old holder committed but could not acknowledge is
 *   recognised by its sequence (`Fences.transaction`) or re-applied idempotently.
 * - **per key, one at a time, in order**: each actor has its own mailbox (a Queue) and fiber; a
 *   slow or failing actor holds back only its own key. A failing command is retried in place with
 *   a growing backoff — the key takes no next command meanwhile — until it succeeds or, after
 *   ACTOR_MAX_DELIVER attempts, is dead-lettered to `ACTOR_DLQ`; its state is dropped and rehydrated
 *   between attempts. Batches (fan-out) are applied by one batch actor per kind, alongside the
 *   keys' own commands, which the kind declares commutative.
 * - **bounded**: hydrate, receive and batch each have a time limit; a partition holds at most
 *   ACTOR_MAX_ACK_PENDING unacknowledged commands (the consumer's max_ack_pending); every held
 *   command is kept alive with `working()` so JetStream never redelivers one still queued.
 * - **fenced**: before each command the lease is checked (held under this epoch, deadline not
 *   passed); a write refused by a store fence stops the partition at once.
 * - **release** (rebalance, shutdown): consuming stops, what was pulled finishes and is
 *   acknowledged (bounded by SHUTDOWN_GRACE_MS), then the actors are passivated.
 * - `ask` requests for an owned partition arrive on core NATS and are answered in mailbox order
 *   by a live actor, or without hydrating one when its kind can answer cold.
 */
import type { ConsumerMessages, JsMsg, MsgRequest, StoredMsg } from "@nats-io/jetstream"
import { headers as natsHeaders, type Msg, type Subscription } from "@nats-io/transport-node"
import {
  Cause,
  Chunk,
  Context,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  FiberMap,
  Layer,
  Option,
  Queue,
  Runtime,
  Schedule,
  Schema,
  Scope
} from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import type { ActorDetail, ActorSummary, HandledCommand } from "../../domain/Inspector.ts"
import { Metrics } from "../../observability/Metrics.ts"
import { Tracing } from "../../observability/Tracing.ts"
import { NodeDirectory } from "../../streams/NodeDirectory.ts"
import { Taps } from "../../streams/Taps.ts"
import { toDelivery, type Delivery } from "../../streams/Bus.ts"
import { Nats, NatsError } from "../../streams/Nats.ts"
import { ConsumerNames, mailboxConsumerSpec, StreamNames } from "../../streams/Topology.ts"
import { type AnyBehaviour, askSubject, BatchKey, type Envelope, mailboxSubject, partitionOf } from "./Actor.ts"
import { Fences, isFenced } from "./Fence.ts"
import * as Shards from "./Shards.ts"

type Item =
  | { readonly _tag: "command"; readonly delivery: Delivery<unknown>; readonly msg: JsMsg }
  | { readonly _tag: "ask"; readonly query: unknown; readonly respond: (reply: { ok: unknown } | { error: string }) => void }

interface Cell {
  readonly id: string
  readonly kind: string
  readonly key: string
  readonly behaviour: AnyBehaviour
  readonly queue: Queue.Queue<Item>
  /** Messages handed to this cell and not yet finished. */
  pending: number
  state: Option.Option<unknown>
  handled: number
  restarts: number
  spawnedAt: number
  lastActivity: number
  /** Set while the key is parked: its backlog waits in PARKED (see `parkedStep`). */
  parked: Parked | undefined
  /** The last ACTOR_RECENT_COMMANDS handled, oldest first (the inspector's detail page). */
  readonly recent: Array<Handled>
}

/** One handled command, as the inspector shows it. */
interface Handled {
  readonly seq: number
  readonly tag: string
  readonly outcome: HandledCommand["outcome"]
  readonly durationMs: number
  readonly attempt: number
  readonly at: number
  readonly error?: string
}

/**
 * A parked key: commands queued for it beyond ACTOR_PARK_AFTER moved to PARKED (acknowledged in
 * MAILBOX once stored there), so one slow or hot key cannot fill its partition's
 * max_ack_pending and hold back every other key. Its commands are then handled from PARKED in
 * order, each deleted once handled, and newer ones keep being parked behind them until the
 * backlog is gone.
 */
interface Parked {
  /** MAILBOX sequences parked are ≥ floor and ≤ max: a MAILBOX delivery in that range is a copy. */
  readonly floor: number
  max: number
  /** MAILBOX commands older than the parked ones (found at recovery), handled first. */
  readonly before: Set<number>
  /** The PARKED sequence the next parked command is read from. */
  readFrom: number
  parkedCount: number
}

/** A handler step in flight, for the partition's watchdog. */
interface Running {
  readonly fiber: Fiber.RuntimeFiber<unknown, unknown>
  readonly deadline: number
  timedOut: boolean
}

interface PartitionRun {
  readonly partition: number
  readonly epoch: number
  readonly cells: Map<string, Cell>
  /** Actor fibers, by cell id. */
  readonly fibers: FiberMap.FiberMap<string>
  /** Commands pulled and not yet acknowledged or dead-lettered. */
  readonly held: Set<JsMsg>
  /** Handler steps running now (see `bounded`). */
  readonly running: Set<Running>
  readonly scope: Scope.CloseableScope
  consuming: ConsumerMessages | undefined
  subscription: Subscription | undefined
  draining: boolean
  /** Completed when the partition must stop at once (fenced from inside). */
  readonly fenced: Deferred.Deferred<void>
  /**
   * PARKED's last sequence when this epoch began (after the previous holder's consumer was
   * deleted): a parked command of an older epoch stored later was parked by a holder that had
   * lost the partition, could not acknowledge it in MAILBOX, and is handled from there instead.
   */
  parkedUpTo: number
}

export interface ActorStats {
  readonly kind: string
  readonly key: string
  readonly partition: number
  readonly mailboxDepth: number
  readonly handled: number
  readonly restarts: number
  readonly spawnedAt: string
  readonly lastActivity: string
  readonly state: unknown
}

export interface ActorHostShape {
  readonly nodeId: string
  readonly ownedPartitions: Effect.Effect<ReadonlyArray<number>>
  readonly leases: Effect.Effect<ReadonlyArray<Shards.LeaseView>>
  readonly liveNodes: Effect.Effect<ReadonlyArray<string>>
  readonly actors: Effect.Effect<ReadonlyArray<ActorStats>>
  readonly actor: (kind: string, key: string) => Effect.Effect<Option.Option<ActorStats>>
}

export class ActorHost extends Context.Tag("ActorHost")<ActorHost, ActorHostShape>() {}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The first line of a failure, for logs and dead letters (stacks stay in the debug log). */
const reasonOf = (cause: Cause.Cause<unknown>) => Cause.pretty(cause).split("\n")[0] ?? "failure"

/** Headers of a parked command: its MAILBOX sequence, and the epoch it was parked under. */
/** Asked for one actor's detail; only the owner of the key's partition answers. */
export const inspectActorSubject = "inspect.actor"

const SEQ_HEADER = "Aperture-Seq"
const EPOCH_HEADER = "Aperture-Epoch"

/** Batches a batch cell applies in one `receiveMany` call at most. */
const BATCH_GROUP = 32

/** Pause before the n-th retry of a failing command: 50 ms doubling, at most 2 s. */
export const retryDelay = (attempt: number) => Math.min(50 * 2 ** Math.max(0, attempt - 1), 2_000)

/** A consumer or stored message that is not there (JetStream says "not found" / "no message found"). */
const isNotFound = (e: unknown) => /not found|no message found/i.test(e instanceof Error ? e.message : String(e))

export const make = (behaviours: ReadonlyArray<AnyBehaviour>) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const nats = yield* Nats
    const metrics = yield* Metrics
    const fences = yield* Fences
    const taps = yield* Taps
    const tracing = yield* Tracing
    const directory = yield* NodeDirectory
    const runtime = yield* Effect.runtime<never>()
    const runFork = Runtime.runFork(runtime)
    const byKind = new Map(behaviours.map((b) => [b.kind.name, b]))
    // compiled once per kind: building a parser per message cost more than applying a batch
    const decoderOf = (schema: Schema.Schema<unknown, unknown> | undefined) =>
      schema === undefined ? undefined : Schema.decodeUnknownOption(Schema.parseJson(schema))
    const decoders = new Map(behaviours.map((b) => [b.kind.name, {
      command: decoderOf(b.kind.command as Schema.Schema<unknown, unknown>),
      batch: decoderOf(b.kind.batch as Schema.Schema<unknown, unknown> | undefined)
    }]))
    const { idleMillis, maxDeliver, mailboxCapacity } = config.actors
    const { ackWaitMillis, handlerTimeoutMillis, parkAfter } = config.actorRuntime
    const stream = nats.name(StreamNames.mailbox)
    /** Partition runs, by partition: each a fiber whose interruption stops everything of the partition. */
    const runs = new Map<number, PartitionRun>()
    const runFibers = yield* FiberMap.make<number>()

    const messages = metrics.counter("aperture_actor_messages_total", "Actor messages handled, by kind and outcome", ["kind", "outcome"])
    const restarts = metrics.counter("aperture_actor_restarts_total", "Actor restarts after a failed handler, by kind", ["kind"])
    const parkedCommands = metrics.counter("aperture_actor_parked_total", "Commands moved to PARKED by keys that parked themselves, by kind", ["kind"])
    const fencedWrites = metrics.counter("aperture_actor_fenced_total", "Partitions stopped because a store refused a write under an old epoch", [])
    const cellCount = () => {
      let n = 0
      for (const r of runs.values()) n += r.cells.size
      return n
    }
    metrics.gauge("aperture_actors_active", "Actors alive on this node", Effect.sync(cellCount))
    metrics.gauge("aperture_actor_parked_keys", "Actor keys of this node that are parked", Effect.sync(() => {
      let n = 0
      for (const r of runs.values()) for (const c of r.cells.values()) if (c.parked !== undefined) n++
      return n
    }))
    metrics.gauge("aperture_actor_mailbox_depth", "Messages waiting in this node's actor mailboxes", Effect.sync(() => {
      let depth = 0
      for (const r of runs.values()) for (const c of r.cells.values()) depth += c.pending
      return depth
    }))

    // set once Shards is built (it calls start/stop, which need `valid`)
    let valid: (partition: number, epoch: number) => boolean = () => false
    let lost: (partition: number, epoch: number, why: string) => Effect.Effect<void> = () => Effect.void

    const envelopeOf = (run: PartitionRun, cell: { kind: string; key: string }, seq: number, deliveryCount: number, attempt: number): Envelope => ({
      kind: cell.kind,
      key: cell.key,
      partition: run.partition,
      seq,
      deliveryCount,
      epoch: run.epoch,
      attempt
    })

    const recentMax = config.observe.recentCommands
    const tagOf = (value: unknown) =>
      typeof value === "object" && value !== null && typeof (value as { _tag?: unknown })._tag === "string" ? (value as { _tag: string })._tag : "command"
    /**
     * Remembers one handled command (or ask) of a cell and, while someone observes it, taps it.
     * Costs one small object per command when nobody observes.
     */
    const record = (run: PartitionRun, cell: Cell, value: unknown, seq: number, outcome: Handled["outcome"], startedAt: number, attempt: number, error?: string) => {
      const durationMs = Math.round((performance.now() - startedAt) * 1000) / 1000
      const at = Date.now()
      const tag = tagOf(value)
      cell.recent.push(error === undefined ? { seq, tag, outcome, durationMs, attempt, at } : { seq, tag, outcome, durationMs, attempt, at, error })
      if (cell.recent.length > recentMax) cell.recent.shift()
      if (!taps.anyone()) return
      const batchKeys = cell.key === BatchKey && cell.behaviour.batchKeys !== undefined ? () => cell.behaviour.batchKeys!(value) : undefined
      if (!taps.wantsActor(cell.kind, cell.key, batchKeys)) return
      taps.publish({
        source: "actor",
        kind: cell.kind,
        key: cell.key,
        tag,
        outcome,
        durationMs,
        node: config.nodeId,
        partition: run.partition,
        epoch: run.epoch,
        seq,
        at,
        ...(batchKeys === undefined ? {} : { keys: taps.tapKeys(batchKeys()) })
      })
    }

    const settle = (run: PartitionRun, msg: JsMsg) => Effect.sync(() => run.held.delete(msg))

    /** Writes the dead letter of a command (MAILBOX sequence `seq`) to ACTOR_DLQ, with a log line and a count. */
    const deadLetterRecord = (run: PartitionRun, kind: string, key: string, subject: string, seq: number, payload: unknown, error: string, attempts: number) =>
      Effect.gen(function*() {
        const record = { kind, key, partition: run.partition, subject, seq, deliveries: attempts, error, payload }
        yield* Effect.tryPromise({
          try: () => nats.js.publish(nats.subject(`dlq.mbox.${kind}`), encoder.encode(JSON.stringify(record)), { msgID: `dlq-${seq}` }),
          catch: (cause) => new NatsError({ op: "dead-letter", cause })
        }).pipe(Effect.retry(Schedule.exponential("200 millis").pipe(Schedule.intersect(Schedule.recurs(5)))))
        yield* Effect.logError("actor command dead-lettered").pipe(Effect.annotateLogs({ actor: `${kind}:${key}`, seq, error }))
        messages.inc({ kind, outcome: "dead" })
        // the partition's durable without its epoch: one series per partition, not one per takeover
        metrics.deadLetter(StreamNames.mailbox, ConsumerNames.mailboxPartition(run.partition))
      })

    const deadLetter = (run: PartitionRun, kind: string, key: string, d: Delivery<unknown>, msg: JsMsg, error: string, attempts = 1) =>
      Effect.gen(function*() {
        yield* deadLetterRecord(run, kind, key, d.subject, d.streamSequence, d.value, error, attempts)
        yield* d.term(`dead-lettered: ${error}`)
        yield* settle(run, msg)
      })

    /** Stops a partition from inside (a store refused a write, or the lease is no longer valid). */
    const fenceFromInside = (run: PartitionRun, why: string) =>
      Effect.gen(function*() {
        if (yield* Deferred.succeed(run.fenced, undefined)) {
          fencedWrites.inc({})
          yield* Effect.logWarning(`partition stopped: ${why}`).pipe(Effect.annotateLogs({ partition: run.partition, epoch: run.epoch }))
        }
        return yield* Effect.interrupt
      })

    /**
     * Runs a handler step in a child fiber its partition's watchdog interrupts past
     * ACTOR_HANDLER_TIMEOUT_MS; then it fails like any other failing step. (`Effect.timeoutFail`
     * races a sleeping fiber and a timer per call: a third of the runtime's cost per command.)
     */
    const bounded = <A>(run: PartitionRun, what: string, effect: Effect.Effect<A, unknown>): Effect.Effect<A, unknown> =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(effect)
        const step: Running = { fiber, deadline: Date.now() + handlerTimeoutMillis, timedOut: false }
        run.running.add(step)
        const exit = yield* Fiber.await(fiber).pipe(Effect.ensuring(Effect.sync(() => run.running.delete(step))))
        if (step.timedOut) return yield* Effect.fail(new Error(`${what} took longer than ${handlerTimeoutMillis} ms`))
        return yield* exit
      })

    /** Interrupts the handler steps of a partition that are past their deadline. */
    const watchdog = (run: PartitionRun) =>
      Effect.gen(function*() {
        const now = Date.now()
        for (const step of run.running) {
          if (!step.timedOut && now > step.deadline) {
            step.timedOut = true
            yield* Fiber.interruptFork(step.fiber)
          }
        }
      }).pipe(Effect.repeat(Schedule.spaced(Duration.millis(Math.max(50, Math.min(1000, Math.floor(handlerTimeoutMillis / 4)))))))

    /**
     * Applies one command in place until it succeeds ("ok") or has failed ACTOR_MAX_DELIVER times
     * (the reason, to dead-letter it); fences the partition when a store refuses the epoch.
     */
    const applyInPlace = (run: PartitionRun, cell: Cell, value: unknown, seq: number, deliveryCount: number) =>
      Effect.gen(function*() {
        for (let attempt = 1;; attempt++) {
          if (!valid(run.partition, run.epoch)) return yield* fenceFromInside(run, "lease no longer valid")
          const envelope = envelopeOf(run, cell, seq, deliveryCount, attempt)
          const startedAt = performance.now()
          const exit = yield* Effect.exit(
            cell.key === BatchKey
              ? bounded(run, "batch", cell.behaviour.batch === undefined ? Effect.fail("kind takes no batches") : cell.behaviour.batch.receive(value, envelope))
              : Effect.gen(function*() {
                const state = Option.isSome(cell.state) ? cell.state.value : yield* bounded(run, "hydrate", cell.behaviour.hydrate(cell.key, envelope))
                cell.state = Option.some(state)
                cell.state = Option.some(yield* bounded(run, "receive", cell.behaviour.receive(state, value, envelope)))
              })
          )
          if (Exit.isSuccess(exit)) {
            cell.handled++
            messages.inc({ kind: cell.kind, outcome: "ok" })
            record(run, cell, value, seq, "ok", startedAt, attempt)
            return { _tag: "ok" } as const
          }
          if (isFenced(Cause.squash(exit.cause))) {
            return yield* fenceFromInside(run, `a store refused epoch ${run.epoch}`)
          }
          if (Cause.isInterruptedOnly(exit.cause)) return yield* Effect.interrupt
          const reason = reasonOf(exit.cause)
          record(run, cell, value, seq, attempt >= maxDeliver ? "dead" : "failed", startedAt, attempt, reason)
          cell.state = Option.none()
          cell.restarts++
          restarts.inc({ kind: cell.kind })
          messages.inc({ kind: cell.kind, outcome: "failed" })
          yield* Effect.logWarning("actor command failed; retrying in place").pipe(
            Effect.annotateLogs({ actor: `${cell.kind}:${cell.key}`, seq, attempt, cause: reason })
          )
          if (attempt >= maxDeliver) return { _tag: "dead", reason, attempts: attempt } as const
          yield* Effect.sleep(Duration.millis(retryDelay(attempt)))
        }
      })

    /** Handles one command to success or dead letter, in place; fences the partition when told to. */
    const traceOf = (item: Extract<Item, { _tag: "command" }>) => tracing.fromHeaders((name) => item.msg.headers?.get(name))
    /** With tracing on: commands handled in an `actor <kind>` span continuing the (first) sender's trace. */
    const inActorSpan = <A, E, R>(run: PartitionRun, cell: Cell, items: ReadonlyArray<Extract<Item, { _tag: "command" }>>, effect: Effect.Effect<A, E, R>) => {
      if (!tracing.enabled) return effect
      const traces = items.map(traceOf).filter((t) => t !== undefined)
      const first = items[0]!.delivery
      return tracing.continueFrom(effect, `actor ${cell.kind}`, traces[0], {
        links: traces.slice(1),
        attributes: {
          "actor.kind": cell.kind,
          "actor.key": cell.key,
          "actor.partition": run.partition,
          "actor.epoch": run.epoch,
          "actor.command": tagOf(first.value),
          "actor.batch_size": items.length,
          "jetstream.sequence": first.streamSequence,
          "jetstream.delivery_count": first.deliveryCount
        }
      })
    }

    const handleCommand = (run: PartitionRun, cell: Cell, item: Extract<Item, { _tag: "command" }>) =>
      inActorSpan(run, cell, [item], Effect.gen(function*() {
        const d = item.delivery
        const outcome = yield* applyInPlace(run, cell, d.value, d.streamSequence, d.deliveryCount)
        if (outcome._tag === "dead") return yield* deadLetter(run, cell.kind, cell.key, d, item.msg, outcome.reason, outcome.attempts)
        // not waited for: a lost ack brings the command back after a failover, where its
        // sequence (Fences.transaction) or an idempotent handler makes it a no-op
        item.msg.ack()
        return yield* settle(run, item.msg)
      }))

    /**
     * Batches that queued up behind each other, applied in one `receiveMany` call; when that fails
     * (or the kind has none), one by one through `handleCommand`.
     */
    const handleBatches = (run: PartitionRun, cell: Cell, items: ReadonlyArray<Extract<Item, { _tag: "command" }>>) =>
      Effect.gen(function*() {
        const many = cell.behaviour.batch?.receiveMany
        if (many !== undefined && items.length > 1) {
          if (!valid(run.partition, run.epoch)) return yield* fenceFromInside(run, "lease no longer valid")
          const startedAt = performance.now()
          const exit = yield* Effect.exit(inActorSpan(run, cell, items, bounded(run, "batch", many(items.map((i) => i.delivery.value), items.map((i) => envelopeOf(run, cell, i.delivery.streamSequence, i.delivery.deliveryCount, 1))))))
          if (Exit.isSuccess(exit)) {
            cell.handled += items.length
            messages.inc({ kind: cell.kind, outcome: "ok" }, items.length)
            for (const item of items) {
              record(run, cell, item.delivery.value, item.delivery.streamSequence, "ok", startedAt, 1)
              item.msg.ack()
              run.held.delete(item.msg)
            }
            return
          }
          if (isFenced(Cause.squash(exit.cause))) return yield* fenceFromInside(run, `a store refused epoch ${run.epoch}`)
          if (Cause.isInterruptedOnly(exit.cause)) return yield* Effect.interrupt
          yield* Effect.logWarning(`${items.length} batches failed together; applying them one by one`).pipe(
            Effect.annotateLogs({ actor: `${cell.kind}:${cell.key}`, cause: reasonOf(exit.cause) })
          )
        }
        for (const item of items) yield* handleCommand(run, cell, item)
      })

    const handleAsk = (run: PartitionRun, cell: Cell, item: Extract<Item, { _tag: "ask" }>) =>
      Effect.gen(function*() {
        const answer = cell.behaviour.answer
        const startedAt = performance.now()
        const exit = yield* Effect.exit(Effect.gen(function*() {
          if (answer === undefined) return yield* Effect.fail(`actor kind ${cell.kind} answers no queries`)
          const state = Option.isSome(cell.state)
            ? cell.state.value
            : yield* bounded(run, "hydrate", cell.behaviour.hydrate(cell.key, envelopeOf(run, cell, 0, 1, 1)))
          cell.state = Option.some(state)
          return yield* bounded(run, "answer", answer(state, item.query))
        }))
        item.respond(Exit.isSuccess(exit) ? { ok: exit.value } : { error: "the actor could not answer" })
        record(run, cell, item.query, 0, Exit.isSuccess(exit) ? "answered" : "failed", startedAt, 1, Exit.isSuccess(exit) ? undefined : reasonOf(exit.cause))
        if (Exit.isFailure(exit)) cell.state = Option.none()
      })

    const parkedSubject = (run: PartitionRun, cell: { kind: string; key: string }) => nats.subject(`park.${cell.kind}.${run.partition}.${cell.key}`)
    const parkedStream = nats.name(StreamNames.parked)
    // `next_by_subj` is answered by the message-get API of NATS 2.9 too; the client's type leaves it out
    const getStored = (stream: string, query: { readonly seq: number } | { readonly last_by_subj: string } | { readonly next_by_subj: string; readonly seq: number }) =>
      Effect.tryPromise({ try: () => nats.jsm.streams.getMessage(stream, query as MsgRequest), catch: (cause) => cause }).pipe(
        Effect.map((m) => Option.fromNullable(m)),
        Effect.catchIf(isNotFound, () => Effect.succeed(Option.none<StoredMsg>()))
      )
    const originOf = (m: StoredMsg) => Number(m.header.get(SEQ_HEADER))
    const epochOf = (m: StoredMsg) => Number(m.header.get(EPOCH_HEADER))

    /** Moves commands to PARKED in order; each is acknowledged in MAILBOX once stored there. */
    const park = (run: PartitionRun, cell: Cell, p: Parked, items: ReadonlyArray<Extract<Item, { _tag: "command" }>>) =>
      Effect.gen(function*() {
        let rest = items
        for (let attempt = 1; rest.length > 0; attempt++) {
          if (!valid(run.partition, run.epoch)) return yield* fenceFromInside(run, "lease no longer valid")
          const subject = parkedSubject(run, cell)
          const stored = yield* Effect.promise(() =>
            Promise.all(rest.map((item) => {
              const h = natsHeaders()
              h.set(SEQ_HEADER, String(item.delivery.streamSequence))
              h.set(EPOCH_HEADER, String(run.epoch))
              // one synchronous loop: stored in this order; a retry stores nothing twice
              return nats.js.publish(subject, item.msg.data, { msgID: `park-${run.partition}-${item.delivery.streamSequence}`, headers: h })
                .then(() => true, () => false)
            }))
          )
          let ok = 0
          while (ok < stored.length && stored[ok] === true) ok++
          for (const item of rest.slice(0, ok)) {
            record(run, cell, item.delivery.value, item.delivery.streamSequence, "parked", performance.now(), 1)
            item.msg.ack()
            run.held.delete(item.msg)
            p.max = item.delivery.streamSequence
          }
          p.parkedCount += ok
          parkedCommands.inc({ kind: cell.kind }, ok)
          rest = rest.slice(ok)
          if (rest.length > 0) {
            yield* Effect.logWarning("cannot park commands; retrying").pipe(Effect.annotateLogs({ actor: cell.id, waiting: rest.length }))
            yield* Effect.sleep(Duration.millis(retryDelay(attempt)))
          }
        }
      })

    /** Handles what queued for a parked key: its older commands now, the rest parked; asks answered. */
    const classify = (run: PartitionRun, cell: Cell, p: Parked, items: ReadonlyArray<Item>) =>
      Effect.gen(function*() {
        let toPark: Array<Extract<Item, { _tag: "command" }>> = []
        for (const item of items) {
          if (item._tag === "ask") yield* handleAsk(run, cell, item)
          else if (item.delivery.streamSequence < p.floor) {
            // older than every parked command (found at recovery): handled first, directly
            yield* park(run, cell, p, toPark)
            toPark = []
            yield* handleCommand(run, cell, item)
            p.before.delete(item.delivery.streamSequence)
          } else toPark.push(item)
        }
        yield* park(run, cell, p, toPark)
      }).pipe(Effect.ensuring(Effect.sync(() => {
        cell.pending -= items.length
        cell.lastActivity = Date.now()
      })))

    /** One parked command: handled in place (or dead-lettered), then deleted from PARKED. */
    const handleParked = (run: PartitionRun, cell: Cell, p: Parked, m: StoredMsg) =>
      Effect.gen(function*() {
        const origin = originOf(m)
        // parked by a holder that had lost the partition: MAILBOX still holds it, handled from there
        const stale = epochOf(m) < run.epoch && m.seq > run.parkedUpTo
        if (!stale) {
          const decode = decoders.get(cell.kind)?.command
          const decoded = decode === undefined ? Option.none() : decode(decoder.decode(m.data))
          if (Option.isNone(decoded)) {
            yield* deadLetterRecord(run, cell.kind, cell.key, m.subject, origin, decoder.decode(m.data), "command does not decode", 1)
          } else {
            const outcome = yield* applyInPlace(run, cell, decoded.value, origin, 1)
            if (outcome._tag === "dead") {
              yield* deadLetterRecord(run, cell.kind, cell.key, m.subject, origin, decoded.value, outcome.reason, outcome.attempts)
            }
          }
        }
        yield* Effect.tryPromise({ try: () => nats.jsm.streams.deleteMessage(parkedStream, m.seq, false), catch: (cause) => cause }).pipe(
          Effect.catchIf(isNotFound, () => Effect.succeed(true)),
          Effect.retry(Schedule.exponential("50 millis").pipe(Schedule.union(Schedule.spaced("2 seconds")))),
          Effect.orDie
        )
        p.readFrom = m.seq + 1
        cell.lastActivity = Date.now()
      })

    /**
     * A parked key's loop: park what queued meanwhile; wait for the commands older than the
     * parked ones; else handle the next parked command; none left: the key is unparked, and what
     * queued since is handled directly (all of it newer than what was parked).
     */
    const parkedStep = (run: PartitionRun, cell: Cell, p: Parked): Effect.Effect<void, unknown> =>
      Effect.gen(function*() {
        yield* classify(run, cell, p, Chunk.toReadonlyArray(yield* Queue.takeAll(cell.queue)))
        if (p.before.size > 0) {
          const item = yield* Queue.take(cell.queue).pipe(Effect.timeout("1 second"), Effect.option)
          if (Option.isSome(item)) return yield* classify(run, cell, p, [item.value])
          // acknowledged meanwhile by an earlier holder (or handled): no longer waited for
          for (const seq of [...p.before]) {
            const present = yield* getStored(stream, { seq }).pipe(Effect.map(Option.isSome), Effect.orElseSucceed(() => true))
            if (!present) p.before.delete(seq)
          }
          return
        }
        const next = yield* getStored(parkedStream, { next_by_subj: parkedSubject(run, cell), seq: p.readFrom }).pipe(
          Effect.tapError((e) => Effect.logWarning("cannot read a parked command; retrying", e)),
          Effect.retry(Schedule.exponential("50 millis").pipe(Schedule.union(Schedule.spaced("2 seconds")))),
          Effect.orDie
        )
        if (Option.isNone(next)) {
          cell.parked = undefined
          return yield* Effect.logInfo("actor key unparked").pipe(
            Effect.annotateLogs({ actor: cell.id, partition: run.partition, epoch: run.epoch, parked: p.parkedCount })
          )
        }
        yield* handleParked(run, cell, p, next.value)
      })

    /**
     * At the start of an epoch, the keys an earlier holder parked: each gets its actor, parked,
     * knowing which MAILBOX sequences were parked and which older commands come first.
     */
    const recoverParked = (run: PartitionRun) =>
      Effect.gen(function*() {
        const info = yield* Effect.tryPromise({
          try: () => nats.jsm.streams.info(parkedStream, { subjects_filter: nats.subject(`park.*.${run.partition}.*`) }),
          catch: (cause) => cause
        })
        run.parkedUpTo = info.state.last_seq
        for (const subject of Object.keys(info.state.subjects ?? {})) {
          const parts = subject.split(".")
          const key = parts[parts.length - 1]!
          const b = byKind.get(parts[parts.length - 3]!)
          if (b === undefined) {
            yield* Effect.logWarning("parked commands of an unknown actor kind left in PARKED").pipe(Effect.annotateLogs({ subject }))
            continue
          }
          const first = yield* getStored(parkedStream, { next_by_subj: subject, seq: 0 })
          if (Option.isNone(first) || first.value.seq > run.parkedUpTo) continue
          const newest = yield* getStored(parkedStream, { last_by_subj: subject })
          let last = first.value
          if (Option.isSome(newest) && newest.value.seq <= run.parkedUpTo) last = newest.value
          else {
            // the newest was parked after this epoch began, by a holder that had lost the partition
            for (;;) {
              const after: Option.Option<StoredMsg> = yield* getStored(parkedStream, { next_by_subj: subject, seq: last.seq + 1 })
              if (Option.isNone(after) || after.value.seq > run.parkedUpTo) break
              last = after.value
            }
          }
          const floor = originOf(first.value)
          const before = new Set<number>()
          const mailboxSubjectOf = nats.subject(mailboxSubject(b.kind.name, run.partition, key))
          for (let from = 0;;) {
            const m = yield* getStored(stream, { next_by_subj: mailboxSubjectOf, seq: from })
            if (Option.isNone(m) || m.value.seq >= floor) break
            before.add(m.value.seq)
            from = m.value.seq + 1
          }
          const max = originOf(last)
          const cell = yield* spawn(run, b, key, { floor, max, before, readFrom: first.value.seq, parkedCount: 0 })
          yield* Effect.logInfo("actor key parked (found parked at start)").pipe(
            Effect.annotateLogs({ actor: cell.id, partition: run.partition, epoch: run.epoch, floor, max, before: before.size })
          )
        }
      })

    const spawn = (run: PartitionRun, b: AnyBehaviour, key: string, parked?: Parked) =>
      Effect.gen(function*() {
        const queue = yield* Queue.unbounded<Item>()
        const now = Date.now()
        const cell: Cell = {
          id: `${b.kind.name}:${key}`,
          kind: b.kind.name,
          key,
          behaviour: b,
          queue,
          pending: 0,
          state: Option.none(),
          handled: 0,
          restarts: 0,
          spawnedAt: now,
          lastActivity: now,
          recent: [],
          // set before its loop starts: a recovered parked key must not take a command directly
          parked
        }
        run.cells.set(cell.id, cell)
        // a batch cell takes every batch waiting (up to BATCH_GROUP) at once; only commands reach it
        const grouped = key === BatchKey && b.batch?.receiveMany !== undefined
        const next: Effect.Effect<ReadonlyArray<Item>> = grouped
          ? Effect.flatMap(Queue.take(queue), (first) =>
            Effect.map(Queue.takeUpTo(queue, BATCH_GROUP - 1), (rest) => [first, ...rest]))
          : Effect.map(Queue.take(queue), (item) => [item])
        const handle = (items: ReadonlyArray<Item>) =>
          Effect.suspend(() => {
            const first = items[0]!
            if (items.length > 1) return handleBatches(run, cell, items as ReadonlyArray<Extract<Item, { _tag: "command" }>>)
            return first._tag === "command" ? handleCommand(run, cell, first) : handleAsk(run, cell, first)
          }).pipe(Effect.ensuring(Effect.sync(() => {
            cell.pending -= items.length
            cell.lastActivity = Date.now()
          })))
        const step: Effect.Effect<void, unknown> = Effect.suspend(() => {
          if (cell.parked !== undefined) return parkedStep(run, cell, cell.parked)
          if (key !== BatchKey && cell.pending >= parkAfter) {
            cell.parked = { floor: 0, max: 0, before: new Set(), readFrom: 0, parkedCount: 0 }
            return Effect.logInfo("actor key parked").pipe(
              Effect.annotateLogs({ actor: cell.id, partition: run.partition, epoch: run.epoch, queued: cell.pending })
            )
          }
          return Effect.flatMap(next, handle)
        })
        // the loop ends when the cell is passivated (its queue shut down) or the partition stops;
        // a command that could not be settled (NATS refusing even its dead letter) stops the
        // partition, so that its next holder gets it again
        yield* FiberMap.run(
          run.fibers,
          cell.id,
          Effect.forever(step).pipe(
            Effect.catchAllCause((cause) =>
              Cause.isInterruptedOnly(cause)
                ? Effect.interrupt
                : Effect.logError("actor command could not be settled", cause).pipe(
                  Effect.zipRight(fenceFromInside(run, `${cell.id} could not settle a command`))
                )
            )
          )
        )
        return cell
      })

    /** Hands an item to its actor, spawning it. Never suspends: the partition's max_ack_pending bounds it. */
    const deliver = (run: PartitionRun, b: AnyBehaviour, key: string, item: Item) =>
      Effect.gen(function*() {
        const id = `${b.kind.name}:${key}`
        const cell = run.cells.get(id) ?? (yield* spawn(run, b, key))
        cell.pending++
        yield* Queue.offer(cell.queue, item)
      })

    /** Passivates idle actors of a partition: synchronous check, so no item is lost. */
    const passivate = (run: PartitionRun, shouldGo: (c: Cell) => boolean) =>
      Effect.gen(function*() {
        const going: Array<Cell> = []
        for (const cell of run.cells.values()) if (cell.pending === 0 && cell.parked === undefined && shouldGo(cell)) going.push(cell)
        for (const cell of going) run.cells.delete(cell.id)
        yield* Effect.forEach(going, (c) => Queue.shutdown(c.queue), { discard: true })
      })

    const route = (run: PartitionRun, msg: JsMsg) =>
      Effect.gen(function*() {
        const parts = msg.subject.split(".")
        const kindName = parts[parts.length - 3] ?? ""
        const key = parts[parts.length - 1] ?? ""
        const b = byKind.get(kindName)
        const decode = b === undefined ? undefined : key === BatchKey ? decoders.get(kindName)?.batch : decoders.get(kindName)?.command
        const decoded = decode === undefined ? Option.none() : decode(msg.string())
        const parked = run.cells.get(`${kindName}:${key}`)?.parked
        if (parked !== undefined && msg.seq >= parked.floor && msg.seq <= parked.max) {
          // parked already (stored in PARKED, its acknowledgement here lost): a copy
          msg.ack()
          return
        }
        run.held.add(msg)
        const d = toDelivery(msg, Option.getOrUndefined(decoded))
        if (b === undefined || Option.isNone(decoded)) {
          const why = b === undefined ? `no behaviour for actor kind ${kindName}` : "command does not decode"
          return yield* deadLetter(run, kindName, key, d, msg, why).pipe(Effect.catchAll(() => Effect.void))
        }
        yield* deliver(run, b, key, { _tag: "command", delivery: d, msg })
      })

    const answerAsk = (run: PartitionRun, msg: Msg) => {
      const respond = (reply: { ok: unknown } | { error: string }) => {
        try {
          msg.respond(encoder.encode(JSON.stringify(reply)))
        } catch {
          // the asker went away
        }
      }
      try {
        const { key, kind, query } = JSON.parse(decoder.decode(msg.data)) as { kind: string; key: string; query: unknown }
        const b = byKind.get(kind)
        const decoded = b?.kind.query === undefined ? Option.none() : Schema.decodeUnknownOption(b.kind.query as Schema.Schema<unknown, unknown>)(query)
        if (b === undefined || Option.isNone(decoded)) return respond({ error: `no such query for ${kind}` })
        const live = run.cells.get(`${kind}:${key}`)
        if (live === undefined && b.answerCold !== undefined) {
          // a read-only query for an actor that is not alive: answered without hydrating it
          const cold = b.answerCold(key, decoded.value)
          runFork(bounded(run, "answer", cold).pipe(
            Effect.match({ onFailure: () => respond({ error: "the actor could not answer" }), onSuccess: (ok) => respond({ ok }) })
          ))
          return
        }
        runFork(deliver(run, b, key, { _tag: "ask", query: decoded.value, respond }))
      } catch {
        respond({ error: "malformed ask" })
      }
    }

    /** Deletes the consumers earlier holders of `partition` left, then creates this epoch's. */
    const consumerFor = (partition: number, epoch: number) =>
      Effect.gen(function*() {
        const jsm = nats.jsm
        const mine = ConsumerNames.mailboxPartition(partition, epoch)
        const drop = (name: string) =>
          Effect.tryPromise({ try: () => jsm.consumers.delete(stream, name), catch: (cause) => cause }).pipe(
            Effect.catchIf(isNotFound, () => Effect.succeed(false))
          )
        const create = Effect.tryPromise({
          try: () => {
            const { stream: _s, ...spec } = mailboxConsumerSpec(partition, epoch, config.actorRuntime)
            return jsm.consumers.add(stream, { ...spec, filter_subject: nats.subject(spec.filter_subject!) })
          },
          catch: (cause) => cause
        })
        // usually the previous epoch's; else (a start that failed, an older version) found by listing
        if (epoch > 1) yield* drop(ConsumerNames.mailboxPartition(partition, epoch - 1))
        yield* create.pipe(
          Effect.catchAll(() =>
            Effect.gen(function*() {
              const names: Array<string> = []
              const lister = jsm.consumers.list(stream)
              yield* Effect.tryPromise({
                try: async () => {
                  for await (const c of lister) names.push(c.name)
                },
                catch: (cause) => cause
              })
              const base = ConsumerNames.mailboxPartition(partition)
              const theirs = names.filter((n) => n !== mine && (n === base || n.startsWith(`${base}-`)))
              yield* Effect.forEach(theirs, drop, { discard: true })
              yield* create
            })
          )
        )
        return yield* Effect.tryPromise({ try: () => nats.js.consumers.get(stream, mine), catch: (cause) => cause })
      })

    /** Consumes until the partition stops; every command is routed as it arrives. */
    const consume = (run: PartitionRun) =>
      Effect.gen(function*() {
        const consumer = yield* Effect.tryPromise({ try: () => nats.js.consumers.get(stream, ConsumerNames.mailboxPartition(run.partition, run.epoch)), catch: (cause) => cause })
        const iterator = yield* Effect.tryPromise({
          // consume keeps a pull open and refills it at half: a command never waits for a pull to expire
          try: () => consumer.consume({ max_messages: Math.max(mailboxCapacity, 16), expires: 5000 }),
          catch: (cause) => cause
        })
        run.consuming = iterator
        const it = iterator[Symbol.asyncIterator]()
        for (;;) {
          const next = yield* Effect.tryPromise({ try: () => it.next(), catch: (cause) => cause })
          if (next.done === true || run.draining) break
          if (!valid(run.partition, run.epoch)) return yield* fenceFromInside(run, "lease no longer valid")
          yield* route(run, next.value)
        }
      }).pipe(
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause)
            ? Effect.interrupt
            : Effect.logDebug(`partition ${run.partition} consume ended; consuming again`, cause).pipe(Effect.zipRight(Effect.sleep("100 millis")))
        ),
        Effect.repeat({ while: () => !run.draining && valid(run.partition, run.epoch) })
      )

    /** Keeps every held command alive: JetStream never redelivers one still queued or running. */
    const keepAlive = (run: PartitionRun) =>
      Effect.sync(() => {
        for (const msg of run.held) msg.working()
      }).pipe(Effect.repeat(Schedule.spaced(Duration.millis(Math.max(200, Math.floor(ackWaitMillis / 3))))))

    const start = (partition: number, _revision: number) =>
      Effect.gen(function*() {
        const begun = Date.now()
        const epoch = yield* fences.raise(partition, config.nodeId)
        const raised = Date.now()
        yield* consumerFor(partition, epoch)
        yield* Effect.logDebug("partition starting").pipe(
          Effect.annotateLogs({ partition, epoch, raiseMillis: raised - begun, consumerMillis: Date.now() - raised })
        )
        const scope = yield* Scope.make()
        const run: PartitionRun = {
          partition,
          epoch,
          cells: new Map(),
          fibers: yield* FiberMap.make<string>().pipe(Scope.extend(scope)),
          held: new Set(),
          running: new Set(),
          scope,
          consuming: undefined,
          subscription: undefined,
          draining: false,
          fenced: yield* Deferred.make<void>(),
          parkedUpTo: 0
        }
        // before consuming: a delivery of a parked key must find it parked
        yield* recoverParked(run).pipe(Effect.onError(() => Scope.close(scope, Exit.void)))
        runs.set(partition, run)
        run.subscription = nats.connection.subscribe(nats.subject(askSubject(partition)), { callback: (_e, msg) => answerAsk(run, msg) })
        yield* FiberMap.run(runFibers, partition, Effect.gen(function*() {
          yield* Effect.forkIn(keepAlive(run), scope)
          yield* Effect.forkIn(watchdog(run), scope)
          yield* Effect.forkIn(
            passivate(run, (c) => Date.now() - c.lastActivity >= idleMillis).pipe(
              Effect.repeat(Schedule.spaced(Duration.millis(Math.max(50, Math.min(idleMillis / 4, 5000)))))
            ),
            scope
          )
          const consuming = yield* Effect.forkIn(consume(run), scope)
          // fenced from inside: stop everything of the partition now
          yield* Deferred.await(run.fenced)
          yield* Fiber.interrupt(consuming)
          yield* Scope.close(scope, Exit.void)
          // forked: the lease's fence stops this very fiber
          yield* Effect.forkDaemon(lost(partition, epoch, "stopped by its runtime (fenced)"))
        }).pipe(Effect.ensuring(Effect.suspend(() => teardown(run)))))
        yield* Effect.logDebug(`partition ${partition} started`).pipe(Effect.annotateLogs({ epoch }))
        return epoch
      })

    const teardown = (run: PartitionRun) =>
      Effect.gen(function*() {
        run.subscription?.unsubscribe()
        run.consuming?.stop()
        yield* Scope.close(run.scope, Exit.void)
        if (runs.get(run.partition) === run) runs.delete(run.partition)
      })

    const stop = (partition: number, how: "drain" | "fence") =>
      Effect.gen(function*() {
        const run = runs.get(partition)
        if (run === undefined) return
        if (how === "drain") {
          run.draining = true
          run.subscription?.unsubscribe()
          run.consuming?.stop()
          // let what was pulled finish and be acknowledged before the lease goes to another node
          yield* Effect.sync(() => run.held.size).pipe(
            Effect.repeat({ while: (n) => n > 0 && valid(run.partition, run.epoch), schedule: Schedule.spaced("10 millis") }),
            Effect.timeout(Duration.millis(config.shutdownGraceMillis)),
            Effect.catchAll(() => Effect.logWarning(`partition ${partition} stopped with commands in flight; they will be delivered again`))
          )
        }
        yield* FiberMap.remove(runFibers, partition)
        yield* teardown(run)
        yield* Effect.logDebug(`partition ${partition} stopped (${how})`)
      }).pipe(Effect.timeout(Duration.millis(config.shutdownGraceMillis + 5000)), Effect.ignore)

    const shards = yield* Shards.make({
      nodeId: config.nodeId,
      partitions: config.actorPartitions,
      tickMillis: config.actors.leaseTickMillis,
      ttlMillis: config.actorRuntime.leaseTtlMillis,
      start,
      stop
    })
    valid = shards.valid
    lost = shards.lost
    metrics.gauge("aperture_actor_partitions_owned", "MAILBOX partitions leased by this node", Effect.map(shards.owned, (o) => o.length))

    const statsOf = (run: PartitionRun, c: Cell): ActorStats => ({
      kind: c.kind,
      key: c.key,
      partition: run.partition,
      mailboxDepth: c.pending,
      handled: c.handled,
      restarts: c.restarts,
      spawnedAt: new Date(c.spawnedAt).toISOString(),
      lastActivity: new Date(c.lastActivity).toISOString(),
      state: Option.isSome(c.state) && c.behaviour.describe !== undefined ? c.behaviour.describe(c.state.value) : null
    })

    const summaryOf = (run: PartitionRun, c: Cell): ActorSummary => ({
      kind: c.kind,
      key: c.key,
      node: config.nodeId,
      partition: run.partition,
      epoch: run.epoch,
      mailboxDepth: c.pending,
      handled: c.handled,
      restarts: c.restarts,
      parked: c.parked !== undefined,
      spawnedAt: new Date(c.spawnedAt).toISOString(),
      lastActivity: new Date(c.lastActivity).toISOString()
    })

    /** The `limit` highest cells by `score`, highest first, in one pass (no sort of every actor). */
    const topBy = (limit: number, score: (c: Cell) => number) => {
      const best: Array<{ run: PartitionRun; cell: Cell; score: number }> = []
      for (const run of runs.values()) {
        for (const cell of run.cells.values()) {
          const v = score(cell)
          if (best.length >= limit && v <= best[best.length - 1]!.score) continue
          let i = best.length
          while (i > 0 && best[i - 1]!.score < v) i--
          best.splice(i, 0, { run, cell, score: v })
          if (best.length > limit) best.pop()
        }
      }
      return best.map((b) => summaryOf(b.run, b.cell))
    }

    /** This node's part of `GET /admin/actors`: its leases, its actors per kind, its hottest actors. */
    const overviewPart = ({ limit }: { readonly limit: number }) =>
      Effect.gen(function*() {
        const leases = yield* shards.leases
        const now = Date.now()
        const kinds = new Map<string, { kind: string; live: number; mailboxDepth: number; handled: number; restarts: number }>()
        let actors = 0
        let mailboxDepth = 0
        for (const run of runs.values()) {
          for (const c of run.cells.values()) {
            actors++
            mailboxDepth += c.pending
            const k = kinds.get(c.kind) ?? { kind: c.kind, live: 0, mailboxDepth: 0, handled: 0, restarts: 0 }
            k.live++
            k.mailboxDepth += c.pending
            k.handled += c.handled
            k.restarts += c.restarts
            kinds.set(c.kind, k)
          }
        }
        return {
          actors,
          mailboxDepth,
          partitions: leases.map((l) => ({
            partition: l.partition,
            epoch: runs.get(l.partition)?.epoch ?? l.epoch,
            state: l.state,
            leaseExpiresAt: new Date(now + Math.max(0, config.actorRuntime.leaseTtlMillis - l.sinceRenewalMillis)).toISOString(),
            actors: runs.get(l.partition)?.cells.size ?? 0
          })),
          kinds: [...kinds.values()],
          top: {
            mailboxDepth: topBy(limit, (c) => c.pending),
            handled: topBy(limit, (c) => c.handled),
            restarts: topBy(limit, (c) => c.restarts),
            lastActivity: topBy(limit, (c) => c.lastActivity)
          }
        }
      })
    const unregister = directory.register(config.nodeId, "actors", overviewPart)
    yield* Effect.addFinalizer(() => Effect.sync(unregister))

    /** `inspect.actor`: answered only by the node that owns the key's partition. */
    const detailOf = (kind: string, key: string): Omit<ActorDetail, "consumer"> | undefined => {
      const partition = partitionOf(key, config.actorPartitions)
      const run = runs.get(partition)
      if (run === undefined) return undefined
      const c = run.cells.get(`${kind}:${key}`)
      return {
        kind,
        key,
        partition,
        owner: config.nodeId,
        epoch: run.epoch,
        alive: c !== undefined,
        mailboxDepth: c?.pending ?? 0,
        handled: c?.handled ?? 0,
        restarts: c?.restarts ?? 0,
        parked: c?.parked !== undefined,
        spawnedAt: c === undefined ? null : new Date(c.spawnedAt).toISOString(),
        lastActivity: c === undefined ? null : new Date(c.lastActivity).toISOString(),
        state: c !== undefined && Option.isSome(c.state) && c.behaviour.describe !== undefined ? c.behaviour.describe(c.state.value) : null,
        recent: (c?.recent ?? []).map((h) => ({ ...h, at: new Date(h.at).toISOString() }))
      }
    }
    const detailSub = nats.connection.subscribe(nats.subject(inspectActorSubject), {
      callback: (_e, msg) => {
        try {
          const { key, kind } = JSON.parse(decoder.decode(msg.data)) as { kind: unknown; key: unknown }
          if (typeof kind !== "string" || typeof key !== "string") return
          const detail = detailOf(kind, key)
          if (detail !== undefined) msg.respond(encoder.encode(JSON.stringify(detail)))
        } catch {
          // malformed, or the asker went away
        }
      }
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => detailSub.unsubscribe()))

    return ActorHost.of({
      nodeId: config.nodeId,
      ownedPartitions: shards.owned,
      leases: shards.leases,
      liveNodes: shards.liveNodes,
      actors: Effect.sync(() => [...runs.values()].flatMap((r) => [...r.cells.values()].map((c) => statsOf(r, c)))),
      actor: (kind, key) =>
        Effect.sync(() => {
          for (const r of runs.values()) {
            const c = r.cells.get(`${kind}:${key}`)
            if (c !== undefined) return Option.some(statsOf(r, c))
          }
          return Option.none()
        })
    })
  })

/** Hosts the given behaviours on this node; the scope's end releases every lease. */
export const layer = (behaviours: ReadonlyArray<AnyBehaviour>) => Layer.scoped(ActorHost, make(behaviours))
