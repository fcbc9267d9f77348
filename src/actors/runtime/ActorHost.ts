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
import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream"
import type { Msg, Subscription } from "@nats-io/transport-node"
import {
  Cause,
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
import { Metrics } from "../../observability/Metrics.ts"
import { toDelivery, type Delivery } from "../../streams/Bus.ts"
import { Nats, NatsError } from "../../streams/Nats.ts"
import { ConsumerNames, mailboxConsumerSpec, StreamNames } from "../../streams/Topology.ts"
import { type AnyBehaviour, askSubject, BatchKey, type Envelope } from "./Actor.ts"
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
}

interface PartitionRun {
  readonly partition: number
  readonly epoch: number
  readonly cells: Map<string, Cell>
  /** Actor fibers, by cell id. */
  readonly fibers: FiberMap.FiberMap<string>
  /** Commands pulled and not yet acknowledged or dead-lettered. */
  readonly held: Set<JsMsg>
  readonly scope: Scope.CloseableScope
  consuming: ConsumerMessages | undefined
  subscription: Subscription | undefined
  draining: boolean
  /** Completed when the partition must stop at once (fenced from inside). */
  readonly fenced: Deferred.Deferred<void>
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

/** Batches a batch cell applies in one `receiveMany` call at most. */
const BATCH_GROUP = 32

/** Pause before the n-th retry of a failing command: 50 ms doubling, at most 2 s. */
export const retryDelay = (attempt: number) => Math.min(50 * 2 ** Math.max(0, attempt - 1), 2_000)

const isNotFound = (e: unknown) => /not found/i.test(e instanceof Error ? e.message : String(e))

export const make = (behaviours: ReadonlyArray<AnyBehaviour>) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const nats = yield* Nats
    const metrics = yield* Metrics
    const fences = yield* Fences
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
    const { ackWaitMillis, handlerTimeoutMillis } = config.actorRuntime
    const handlerTimeout = Duration.millis(handlerTimeoutMillis)
    const stream = nats.name(StreamNames.mailbox)
    /** Partition runs, by partition: each a fiber whose interruption stops everything of the partition. */
    const runs = new Map<number, PartitionRun>()
    const runFibers = yield* FiberMap.make<number>()

    const messages = metrics.counter("aperture_actor_messages_total", "Actor messages handled, by kind and outcome", ["kind", "outcome"])
    const restarts = metrics.counter("aperture_actor_restarts_total", "Actor restarts after a failed handler, by kind", ["kind"])
    const fencedWrites = metrics.counter("aperture_actor_fenced_total", "Partitions stopped because a store refused a write under an old epoch", [])
    const cellCount = () => {
      let n = 0
      for (const r of runs.values()) n += r.cells.size
      return n
    }
    metrics.gauge("aperture_actors_active", "Actors alive on this node", Effect.sync(cellCount))
    metrics.gauge("aperture_actor_mailbox_depth", "Messages waiting in this node's actor mailboxes", Effect.sync(() => {
      let depth = 0
      for (const r of runs.values()) for (const c of r.cells.values()) depth += c.pending
      return depth
    }))

    // set once Shards is built (it calls start/stop, which need `valid`)
    let valid: (partition: number, epoch: number) => boolean = () => false
    let lost: (partition: number, epoch: number, why: string) => Effect.Effect<void> = () => Effect.void

    const envelopeOf = (run: PartitionRun, cell: { kind: string; key: string }, d: Delivery<unknown> | undefined, attempt: number): Envelope => ({
      kind: cell.kind,
      key: cell.key,
      partition: run.partition,
      seq: d?.streamSequence ?? 0,
      deliveryCount: d?.deliveryCount ?? 1,
      epoch: run.epoch,
      attempt
    })

    const settle = (run: PartitionRun, msg: JsMsg) => Effect.sync(() => run.held.delete(msg))

    const deadLetter = (run: PartitionRun, kind: string, key: string, d: Delivery<unknown>, msg: JsMsg, error: string, attempts = 1) =>
      Effect.gen(function*() {
        const record = { kind, key, partition: run.partition, subject: d.subject, seq: d.streamSequence, deliveries: attempts, error, payload: d.value }
        yield* Effect.tryPromise({
          try: () =>
            nats.js.publish(nats.subject(`dlq.mbox.${kind}`), encoder.encode(JSON.stringify(record)), { msgID: `dlq-${d.streamSequence}` }),
          catch: (cause) => new NatsError({ op: "dead-letter", cause })
        }).pipe(Effect.retry(Schedule.exponential("200 millis").pipe(Schedule.intersect(Schedule.recurs(5)))))
        yield* Effect.logError("actor command dead-lettered").pipe(Effect.annotateLogs({ actor: `${kind}:${key}`, seq: d.streamSequence, error }))
        messages.inc({ kind, outcome: "dead" })
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

    const bounded = <A>(what: string, effect: Effect.Effect<A, unknown>) =>
      effect.pipe(Effect.timeoutFail({ duration: handlerTimeout, onTimeout: () => new Error(`${what} took longer than ${handlerTimeoutMillis} ms`) }))

    /** Handles one command to success or dead letter, in place; fences the partition when told to. */
    const handleCommand = (run: PartitionRun, cell: Cell, item: Extract<Item, { _tag: "command" }>) =>
      Effect.gen(function*() {
        const d = item.delivery
        for (let attempt = 1;; attempt++) {
          if (!valid(run.partition, run.epoch)) return yield* fenceFromInside(run, "lease no longer valid")
          const envelope = envelopeOf(run, cell, d, attempt)
          const exit = yield* Effect.exit(
            cell.key === BatchKey
              ? bounded("batch", cell.behaviour.batch === undefined ? Effect.fail("kind takes no batches") : cell.behaviour.batch.receive(d.value, envelope))
              : Effect.gen(function*() {
                const state = Option.isSome(cell.state) ? cell.state.value : yield* bounded("hydrate", cell.behaviour.hydrate(cell.key, envelope))
                cell.state = Option.some(state)
                cell.state = Option.some(yield* bounded("receive", cell.behaviour.receive(state, d.value, envelope)))
              })
          )
          if (Exit.isSuccess(exit)) {
            cell.handled++
            messages.inc({ kind: cell.kind, outcome: "ok" })
            // not waited for: a lost ack brings the command back after a failover, where its
            // sequence (Fences.transaction) or an idempotent handler makes it a no-op
            item.msg.ack()
            return yield* settle(run, item.msg)
          }
          if (isFenced(Cause.squash(exit.cause))) {
            return yield* fenceFromInside(run, `a store refused epoch ${run.epoch}`)
          }
          if (Cause.isInterruptedOnly(exit.cause)) return yield* Effect.interrupt
          const reason = reasonOf(exit.cause)
          cell.state = Option.none()
          cell.restarts++
          restarts.inc({ kind: cell.kind })
          messages.inc({ kind: cell.kind, outcome: "failed" })
          yield* Effect.logWarning("actor command failed; retrying in place").pipe(
            Effect.annotateLogs({ actor: `${cell.kind}:${cell.key}`, seq: d.streamSequence, attempt, cause: reason })
          )
          if (attempt >= maxDeliver) return yield* deadLetter(run, cell.kind, cell.key, d, item.msg, reason, attempt)
          yield* Effect.sleep(Duration.millis(retryDelay(attempt)))
        }
      })

    /**
     * Batches that queued up behind each other, applied in one `receiveMany` call; when that fails
     * (or the kind has none), one by one through `handleCommand`.
     */
    const handleBatches = (run: PartitionRun, cell: Cell, items: ReadonlyArray<Extract<Item, { _tag: "command" }>>) =>
      Effect.gen(function*() {
        const many = cell.behaviour.batch?.receiveMany
        if (many !== undefined && items.length > 1) {
          if (!valid(run.partition, run.epoch)) return yield* fenceFromInside(run, "lease no longer valid")
          const exit = yield* Effect.exit(bounded("batch", many(items.map((i) => i.delivery.value), items.map((i) => envelopeOf(run, cell, i.delivery, 1)))))
          if (Exit.isSuccess(exit)) {
            cell.handled += items.length
            messages.inc({ kind: cell.kind, outcome: "ok" }, items.length)
            for (const item of items) {
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
        const exit = yield* Effect.exit(Effect.gen(function*() {
          if (answer === undefined) return yield* Effect.fail(`actor kind ${cell.kind} answers no queries`)
          const state = Option.isSome(cell.state)
            ? cell.state.value
            : yield* bounded("hydrate", cell.behaviour.hydrate(cell.key, envelopeOf(run, cell, undefined, 1)))
          cell.state = Option.some(state)
          return yield* bounded("answer", answer(state, item.query))
        }))
        item.respond(Exit.isSuccess(exit) ? { ok: exit.value } : { error: "the actor could not answer" })
        if (Exit.isFailure(exit)) cell.state = Option.none()
      })

    const spawn = (run: PartitionRun, b: AnyBehaviour, key: string) =>
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
          lastActivity: now
        }
        run.cells.set(cell.id, cell)
        // a batch cell takes every batch waiting (up to BATCH_GROUP) at once; only commands reach it
        const grouped = key === BatchKey && b.batch?.receiveMany !== undefined
        const next: Effect.Effect<ReadonlyArray<Item>> = grouped
          ? Effect.flatMap(Queue.take(queue), (first) =>
            Effect.map(Queue.takeUpTo(queue, BATCH_GROUP - 1), (rest) => [first, ...rest]))
          : Effect.map(Queue.take(queue), (item) => [item])
        // the loop ends when the cell is passivated (its queue shut down) or the partition stops
        yield* FiberMap.run(
          run.fibers,
          cell.id,
          next.pipe(
            Effect.flatMap((items) =>
              Effect.suspend(() => {
                const first = items[0]!
                if (items.length > 1) return handleBatches(run, cell, items as ReadonlyArray<Extract<Item, { _tag: "command" }>>)
                return first._tag === "command" ? handleCommand(run, cell, first) : handleAsk(run, cell, first)
              }).pipe(Effect.ensuring(Effect.sync(() => {
                cell.pending -= items.length
                cell.lastActivity = Date.now()
              })))
            ),
            Effect.forever
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
        for (const cell of run.cells.values()) if (cell.pending === 0 && shouldGo(cell)) going.push(cell)
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
          runFork(bounded("answer", cold).pipe(
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
          scope,
          consuming: undefined,
          subscription: undefined,
          draining: false,
          fenced: yield* Deferred.make<void>()
        }
        runs.set(partition, run)
        run.subscription = nats.connection.subscribe(nats.subject(askSubject(partition)), { callback: (_e, msg) => answerAsk(run, msg) })
        yield* FiberMap.run(runFibers, partition, Effect.gen(function*() {
          yield* Effect.forkIn(keepAlive(run), scope)
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
