/**
 * Hosts actors on this node (the `actors` role). For each MAILBOX partition this node leases (see
 * `Shards.ts`) it pulls the partition's durable consumer and routes each command to its actor:
 *
 * - an actor is spawned on its first message with a bounded mailbox (a full mailbox holds back the
 *   partition's pull: backpressure, not buffering), hydrates its state from PostgreSQL/Redis, and
 *   handles one message at a time; after `ACTOR_IDLE_MS` without work it is passivated;
 * - a handler failure or defect restarts the actor (state dropped, rehydrated after a backoff) and
 *   naks the command with a growing delay; on its last delivery it is dead-lettered to `ACTOR_DLQ`
 *   with the actor's key and terminated — never dropped silently;
 * - the command is acknowledged only after its handler succeeded (`ackAck`, confirmed);
 * - a partition that is released (rebalance, shutdown, lost lease) stops pulling, lets every
 *   command already pulled finish and be acknowledged, then passivates its actors — so the next
 *   owner resumes from the consumer's ack floor with nothing lost and nothing handled twice;
 * - `ask` requests for an owned partition arrive on core NATS and are answered in mailbox order.
 */
import type { JsMsg, Consumer } from "@nats-io/jetstream"
import type { Msg, Subscription } from "@nats-io/transport-node"
import { Cause, Context, Duration, Effect, ExecutionStrategy, Exit, Layer, Option, Queue, Runtime, Schedule, Schema, Scope } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { Metrics } from "../../observability/Metrics.ts"
import { toDelivery, type Delivery } from "../../streams/Bus.ts"
import { Nats, NatsError } from "../../streams/Nats.ts"
import { ConsumerNames, StreamNames } from "../../streams/Topology.ts"
import { type AnyBehaviour, askSubject, BatchKey, type Envelope } from "./Actor.ts"
import * as Shards from "./Shards.ts"

type Item =
  | { readonly _tag: "command"; readonly delivery: Delivery<unknown> }
  | { readonly _tag: "ask"; readonly query: unknown; readonly respond: (reply: { ok: unknown } | { error: string }) => void }

interface Cell {
  readonly id: string
  readonly kind: string
  readonly key: string
  readonly partition: number
  readonly behaviour: AnyBehaviour
  readonly queue: Queue.Queue<Item>
  /** Messages handed to this cell and not yet taken by it (includes offers waiting for room). */
  pending: number
  busy: boolean
  state: Option.Option<unknown>
  handled: number
  restarts: number
  failuresInRow: number
  spawnedAt: number
  lastActivity: number
}

interface PartitionRun {
  stopping: boolean
  /** Commands pulled from JetStream and not yet acknowledged, naked or terminated. */
  inflight: number
  readonly done: Promise<void>
  readonly subscription: Subscription
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
  readonly liveNodes: Effect.Effect<ReadonlyArray<string>>
  readonly actors: Effect.Effect<ReadonlyArray<ActorStats>>
  readonly actor: (kind: string, key: string) => Effect.Effect<Option.Option<ActorStats>>
}

export class ActorHost extends Context.Tag("ActorHost")<ActorHost, ActorHostShape>() {}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The first line of a failure, for logs and dead letters (stacks stay in the debug log). */
const reasonOf = (cause: Cause.Cause<unknown>) => Cause.pretty(cause).split("\n")[0] ?? "failure"

/** How long one pull of a partition stays open. */
const PULL_EXPIRES_MS = 5000

/** Redelivery delay after the n-th failed delivery: 250 ms doubling, at most 10 s. */
export const redeliveryDelay = (deliveryCount: number) => Math.min(250 * 2 ** Math.max(0, deliveryCount - 1), 10_000)
/** Pause before an actor that failed n times in a row handles anything else. */
export const restartDelay = (failuresInRow: number) => Math.min(50 * 2 ** Math.max(0, failuresInRow - 1), 2_000)

export const make = (behaviours: ReadonlyArray<AnyBehaviour>) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const nats = yield* Nats
    const metrics = yield* Metrics
    // actors live in a child scope closed after the leases are released (finalizers run in reverse
    // order), so a draining partition's actors can still finish what was pulled
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
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
    const cells = new Map<string, Cell>()
    const partitions = new Map<number, PartitionRun>()
    const { idleMillis, mailboxCapacity, maxDeliver } = config.actors

    const messages = metrics.counter("aperture_actor_messages_total", "Actor messages handled, by kind and outcome", ["kind", "outcome"])
    const restarts = metrics.counter("aperture_actor_restarts_total", "Actor restarts after a failed handler, by kind", ["kind"])
    metrics.gauge("aperture_actors_active", "Actors alive on this node", Effect.sync(() => cells.size))
    metrics.gauge("aperture_actor_mailbox_depth", "Messages waiting in this node's actor mailboxes", Effect.sync(() => {
      let depth = 0
      for (const c of cells.values()) depth += c.pending
      return depth
    }))
    metrics.gauge("aperture_actor_partitions_owned", "MAILBOX partitions leased by this node", Effect.sync(() => partitions.size))

    const envelopeOf = (cell: { kind: string; key: string; partition: number }, d: Delivery<unknown> | undefined): Envelope => ({
      kind: cell.kind,
      key: cell.key,
      partition: cell.partition,
      seq: d?.streamSequence ?? 0,
      deliveryCount: d?.deliveryCount ?? 1,
      epoch: 0,
      attempt: 1
    })

    const settle = (partition: number) =>
      Effect.sync(() => {
        const run = partitions.get(partition)
        if (run !== undefined) run.inflight--
      })

    const deadLetter = (kind: string, key: string, partition: number, d: Delivery<unknown>, error: string) =>
      Effect.gen(function*() {
        const record = { kind, key, partition, subject: d.subject, seq: d.streamSequence, deliveries: d.deliveryCount, error, payload: d.value }
        yield* Effect.tryPromise({
          try: () =>
            nats.js.publish(nats.subject(`dlq.mbox.${kind}`), encoder.encode(JSON.stringify(record)), { msgID: `dlq-${d.streamSequence}` }),
          catch: (cause) => new NatsError({ op: "dead-letter", cause })
        })
        yield* Effect.logError("actor command dead-lettered").pipe(Effect.annotateLogs({ actor: `${kind}:${key}`, seq: d.streamSequence, error }))
        messages.inc({ kind, outcome: "dead" })
        yield* d.term(`dead-lettered: ${error}`)
      })

    /** After a failed delivery: retry later, or dead-letter on the last allowed delivery. */
    const failed = (kind: string, key: string, partition: number, d: Delivery<unknown>, error: string) =>
      d.deliveryCount >= maxDeliver
        ? deadLetter(kind, key, partition, d, error).pipe(
          // the DLQ itself unreachable: leave the command to be redelivered rather than lose it
          Effect.catchAll((e) => Effect.logError("dead-letter failed; command left for redelivery", e).pipe(Effect.zipRight(d.nak(redeliveryDelay(d.deliveryCount)))))
        )
        : Effect.zipRight(
          Effect.sync(() => messages.inc({ kind, outcome: "failed" })),
          d.nak(redeliveryDelay(d.deliveryCount))
        )

    const hydrated = (cell: Cell) =>
      Option.isSome(cell.state) ? Effect.succeed(cell.state.value) : cell.behaviour.hydrate(cell.key, envelopeOf(cell, undefined))

    const restart = (cell: Cell, cause: unknown) =>
      Effect.gen(function*() {
        cell.state = Option.none()
        cell.restarts++
        cell.failuresInRow++
        restarts.inc({ kind: cell.kind })
        yield* Effect.logWarning("actor restarted after a failure").pipe(
          Effect.annotateLogs({ actor: `${cell.kind}:${cell.key}`, restarts: cell.restarts, cause: String(cause) })
        )
      })

    const handle = (cell: Cell, item: Item) =>
      Effect.gen(function*() {
        cell.busy = true
        if (item._tag === "ask") {
          const answer = cell.behaviour.answer
          const exit = yield* Effect.exit(Effect.gen(function*() {
            if (answer === undefined) return yield* Effect.fail(`actor kind ${cell.kind} answers no queries`)
            const state = yield* hydrated(cell)
            cell.state = Option.some(state)
            return yield* answer(state, item.query)
          }))
          item.respond(Exit.isSuccess(exit) ? { ok: exit.value } : { error: "the actor could not answer" })
          if (Exit.isFailure(exit)) yield* restart(cell, reasonOf(exit.cause))
        } else {
          const d = item.delivery
          const exit = yield* Effect.exit(Effect.gen(function*() {
            const state = yield* hydrated(cell)
            cell.state = Option.some(state)
            cell.state = Option.some(yield* cell.behaviour.receive(state, d.value, envelopeOf(cell, d)))
          }))
          if (Exit.isSuccess(exit)) {
            cell.handled++
            cell.failuresInRow = 0
            messages.inc({ kind: cell.kind, outcome: "ok" })
            yield* d.ack
          } else {
            yield* restart(cell, reasonOf(exit.cause))
            yield* failed(cell.kind, cell.key, cell.partition, d, reasonOf(exit.cause))
          }
          yield* settle(cell.partition)
        }
        cell.lastActivity = Date.now()
        cell.busy = false
        if (cell.failuresInRow > 0) yield* Effect.sleep(Duration.millis(restartDelay(cell.failuresInRow)))
      })

    const spawn = (b: AnyBehaviour, key: string, partition: number) =>
      Effect.gen(function*() {
        const queue = yield* Queue.bounded<Item>(mailboxCapacity)
        const now = Date.now()
        const cell: Cell = {
          id: `${b.kind.name}:${key}`,
          kind: b.kind.name,
          key,
          partition,
          behaviour: b,
          queue,
          pending: 0,
          busy: false,
          state: Option.none(),
          handled: 0,
          restarts: 0,
          failuresInRow: 0,
          spawnedAt: now,
          lastActivity: now
        }
        cells.set(cell.id, cell)
        // the loop ends when the cell is passivated (its queue shut down)
        yield* Queue.take(queue).pipe(
          Effect.tap(() => Effect.sync(() => cell.pending--)),
          Effect.flatMap((item) => handle(cell, item)),
          Effect.forever,
          Effect.forkIn(scope)
        )
        return cell
      })

    /** Hands an item to its actor, spawning it; suspends while the mailbox is full. */
    const deliver = (b: AnyBehaviour, key: string, partition: number, item: Item) =>
      Effect.gen(function*() {
        const id = `${b.kind.name}:${key}`
        const cell = cells.get(id) ?? (yield* spawn(b, key, partition))
        cell.pending++
        yield* Queue.offer(cell.queue, item)
      })

    /** Passivates idle actors (or all of a stopped partition's): synchronous check, so no item is lost. */
    const passivate = (shouldGo: (c: Cell) => boolean) =>
      Effect.gen(function*() {
        const going: Array<Cell> = []
        for (const cell of cells.values()) {
          if (cell.pending === 0 && !cell.busy && shouldGo(cell)) going.push(cell)
        }
        for (const cell of going) cells.delete(cell.id)
        yield* Effect.forEach(going, (c) => Queue.shutdown(c.queue), { discard: true })
      })

    yield* passivate((c) => Date.now() - c.lastActivity >= idleMillis).pipe(
      Effect.repeat(Schedule.spaced(Duration.millis(Math.max(50, Math.min(idleMillis / 4, 5000))))),
      Effect.forkIn(scope)
    )

    const route = (partition: number, run: PartitionRun, msg: JsMsg) =>
      Effect.gen(function*() {
        const parts = msg.subject.split(".")
        const kindName = parts[parts.length - 3] ?? ""
        const key = parts[parts.length - 1] ?? ""
        const b = byKind.get(kindName)
        const isBatch = key === BatchKey
        const decode = b === undefined ? undefined : isBatch ? decoders.get(kindName)?.batch : decoders.get(kindName)?.command
        const decoded = decode === undefined ? Option.none() : decode(msg.string())
        run.inflight++
        const d = toDelivery(msg, Option.getOrUndefined(decoded))
        if (b === undefined || Option.isNone(decoded)) {
          const why = b === undefined ? `no behaviour for actor kind ${kindName}` : "command does not decode"
          yield* deadLetter(kindName, key, partition, d, why).pipe(Effect.catchAll(() => d.nak(5000)))
          return yield* settle(partition)
        }
        if (isBatch) {
          const receiveBatch = b.batch?.receive
          const exit = yield* Effect.exit(
            receiveBatch === undefined ? Effect.fail("kind takes no batches") : receiveBatch(d.value, envelopeOf({ kind: kindName, key, partition }, d))
          )
          if (Exit.isSuccess(exit)) {
            messages.inc({ kind: kindName, outcome: "ok" })
            yield* d.ack
          } else {
            yield* Effect.logWarning("actor batch failed").pipe(Effect.annotateLogs({ kind: kindName, partition, cause: reasonOf(exit.cause) }))
            yield* failed(kindName, key, partition, d, reasonOf(exit.cause))
          }
          return yield* settle(partition)
        }
        yield* deliver(b, key, partition, { _tag: "command", delivery: d })
      })

    /** Pulls one partition until it is stopped; every pulled command is routed before the next pull. */
    const pull = (partition: number, run: PartitionRun, consumer: Consumer) =>
      Effect.gen(function*() {
        while (!run.stopping) {
          const batch = yield* Effect.tryPromise({
            // each fetch lives 5 s: a command arriving as a 1 s fetch expired waited ~1 s for the next
            // (fan-out p99 1.2 s); a stopping partition waits at most this long for its last fetch
            try: () => consumer.fetch({ max_messages: mailboxCapacity, expires: PULL_EXPIRES_MS }),
            catch: (cause) => new NatsError({ op: `fetch mbox-${partition}`, cause })
          })
          const iterator = batch[Symbol.asyncIterator]()
          while (true) {
            const next = yield* Effect.tryPromise({
              try: () => iterator.next(),
              catch: (cause) => new NatsError({ op: `fetch mbox-${partition}`, cause })
            })
            if (next.done === true) break
            yield* route(partition, run, next.value)
          }
        }
      }).pipe(
        // a fetch ends with "heartbeats missed" when the event loop was late for a second (a busy
        // machine): pull again at once rather than leave the partition idle
        Effect.catchAll((e) => Effect.logDebug(`partition ${partition} pull ended early; pulling again`, e).pipe(Effect.zipRight(Effect.sleep("20 millis")))),
        Effect.repeat({ while: () => !run.stopping })
      )

    const answerAsk = (msg: Msg) => {
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
        const partition = Number(msg.subject.split(".").pop())
        runFork(deliver(b, key, partition, { _tag: "ask", query: decoded.value, respond }))
      } catch {
        respond({ error: "malformed ask" })
      }
    }

    const start = (partition: number) =>
      Effect.gen(function*() {
        const consumer = yield* Effect.tryPromise({
          try: () => nats.js.consumers.get(nats.name(StreamNames.mailbox), ConsumerNames.mailboxPartition(partition)),
          catch: (cause) => new NatsError({ op: `consumer mbox-${partition}`, cause })
        })
        const subscription = nats.connection.subscribe(nats.subject(askSubject(partition)), { callback: (_e, msg) => answerAsk(msg) })
        let resolve: () => void = () => undefined
        const run: PartitionRun = { stopping: false, inflight: 0, done: new Promise((r) => (resolve = r)), subscription }
        partitions.set(partition, run)
        runFork(pull(partition, run, consumer).pipe(Effect.ensuring(Effect.sync(() => resolve()))))
        yield* Effect.logDebug(`partition ${partition} started`)
      }).pipe(Effect.catchAll((e) => Effect.logWarning(`partition ${partition} could not start`, e)))

    const stop = (partition: number) =>
      Effect.gen(function*() {
        const run = partitions.get(partition)
        if (run === undefined) return
        run.stopping = true
        run.subscription.unsubscribe()
        yield* Effect.promise(() => run.done)
        // let what was pulled finish and be acknowledged before the lease goes to another node
        yield* Effect.sync(() => run.inflight).pipe(
          Effect.repeat({ while: (n) => n > 0, schedule: Schedule.spaced("10 millis") }),
          Effect.timeout(Duration.millis(config.shutdownGraceMillis)),
          Effect.catchAll(() => Effect.logWarning(`partition ${partition} stopped with commands in flight; they will be redelivered`))
        )
        partitions.delete(partition)
        yield* passivate((c) => c.partition === partition)
        yield* Effect.logDebug(`partition ${partition} stopped`)
      })

    const shards = yield* Shards.make({
      nodeId: config.nodeId,
      partitions: config.actorPartitions,
      tickMillis: config.actors.leaseTickMillis,
      acquired: start,
      released: stop
    })

    const statsOf = (c: Cell): ActorStats => ({
      kind: c.kind,
      key: c.key,
      partition: c.partition,
      mailboxDepth: c.pending,
      handled: c.handled,
      restarts: c.restarts,
      spawnedAt: new Date(c.spawnedAt).toISOString(),
      lastActivity: new Date(c.lastActivity).toISOString(),
      state: Option.isSome(c.state) && c.behaviour.describe !== undefined ? c.behaviour.describe(c.state.value) : null
    })

    return ActorHost.of({
      nodeId: config.nodeId,
      ownedPartitions: shards.owned,
      liveNodes: shards.liveNodes,
      actors: Effect.sync(() => [...cells.values()].map(statsOf)),
      actor: (kind, key) => Effect.sync(() => Option.map(Option.fromNullable(cells.get(`${kind}:${key}`)), statsOf))
    })
  })

/** Hosts the given behaviours on this node; the scope's end releases every lease. */
export const layer = (behaviours: ReadonlyArray<AnyBehaviour>) => Layer.scoped(ActorHost, make(behaviours))
