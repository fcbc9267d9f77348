/**
 * Partition leases in the `shards` KV bucket, nodes' heartbeats in `nodes` (both with a max-age of
 * ACTOR_LEASE_TTL_MS: an entry not rewritten within it is removed by the server).
 *
 * Three fibers, none waiting on another:
 *
 * - **renewal** — every tick: the heartbeat, then every held lease renewed by compare-and-set on
 *   its revision, all at once and each with its own timeout. A refused CAS means another node holds
 *   the lease: the partition is fenced at once. A timeout or error changes nothing: the watchdog
 *   decides. A lease being released is renewed until it is released.
 * - **watchdog** — every 100 ms: a lease whose last successful renewal was *sent* longer ago than
 *   the TTL minus a margin (on the monotonic clock) is given up and its partition fenced (its
 *   actors interrupted, its pull stopped), whatever else the node is doing. The server judges
 *   expiry from when it *stored* that renewal, later than it was sent: the node stops first.
 * - **balance** — every tick: the node's even share of the live nodes; extras released (each on its
 *   own fiber: drained, then deleted by revision), free partitions taken. Whether a partition is
 *   free is read from the server, not from a watch mirror — a mirror keeps entries the bucket's
 *   max-age removed (NATS 2.9 sends watchers nothing on expiry): absent, deleted or purged means
 *   free (`create`, which succeeds only if nobody wrote it meanwhile); present means held.
 *
 * Every decision is logged with the partition and epoch: acquired, renewed late, lost, taken over
 * (a partition last held by a node that is gone), released, fenced by the watchdog — and counted in
 * `aperture_actor_lease_events_total{event}`.
 * On shutdown every lease is drained and released, so the other nodes take over on their next tick.
 */
import { Kvm, type KV } from "@nats-io/kv"
import { Duration, Effect, Fiber, FiberMap, Option, Schedule, type Scope } from "effect"
import { Metrics } from "../../observability/Metrics.ts"
import { Nats, NatsError } from "../../streams/Nats.ts"
import { BucketNames } from "../../streams/Topology.ts"

export interface ShardsOptions {
  readonly nodeId: string
  readonly partitions: number
  readonly tickMillis: number
  readonly ttlMillis: number
  /**
   * Starts a partition just leased (raises its fence, resets its consumer, starts pulling) and
   * returns the epoch it runs under. A failure gives the lease back.
   */
  readonly start: (partition: number, revision: number) => Effect.Effect<number, unknown>
  /**
   * Stops a partition: `drain` lets what was pulled finish (a release), `fence` interrupts at once
   * (a lease lost or expired). Must be bounded in time.
   */
  readonly stop: (partition: number, how: "drain" | "fence") => Effect.Effect<void>
}

export interface LeaseView {
  readonly partition: number
  readonly epoch: number
  readonly revision: number
  readonly state: Lease["state"]
  readonly sinceRenewalMillis: number
}

export interface ShardsShape {
  readonly owned: Effect.Effect<ReadonlyArray<number>>
  readonly leases: Effect.Effect<ReadonlyArray<LeaseView>>
  readonly liveNodes: Effect.Effect<ReadonlyArray<string>>
  /** Whether `partition` is held under `epoch` and its deadline has not passed (checked before every command). */
  readonly valid: (partition: number, epoch: number) => boolean
  /** The partition's runtime stopped it (a store refused its epoch): give the lease up. */
  readonly lost: (partition: number, epoch: number, why: string) => Effect.Effect<void>
}

interface Lease {
  readonly partition: number
  revision: number
  epoch: number
  /** performance.now() when the last successful renewal (or the acquisition) was sent. */
  renewedAt: number
  state: "starting" | "active" | "releasing"
  /** A renewal is in flight. */
  renewing: boolean
}

const call = <A>(op: string, f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: (cause) => new NatsError({ op, cause }) })

const leaseKey = (p: number) => `partition.${p}`

/** The share of `partitions` for the node at `index` among `count` nodes. */
export const shareOf = (partitions: number, count: number, index: number) =>
  Math.floor(partitions / count) + (index < partitions % count ? 1 : 0)

/** How long before the TTL a node stops using a lease it could not renew. */
export const fenceMargin = (ttlMillis: number, tickMillis: number) => Math.max(tickMillis, Math.floor(ttlMillis / 4))

interface Holder {
  readonly node: string
  readonly incarnation: string
}

const parseHolder = (value: string): Holder | undefined => {
  try {
    const h = JSON.parse(value) as Partial<Holder>
    return typeof h.node === "string" && typeof h.incarnation === "string" ? { node: h.node, incarnation: h.incarnation } : undefined
  } catch {
    return undefined
  }
}

/** Heartbeats of the live nodes, from a watch (used only to split partitions, never for safety). */
const watchNodes = (kv: KV) =>
  Effect.gen(function*() {
    const seen = new Map<string, number>()
    const iterator = yield* Effect.acquireRelease(call("watch nodes", () => kv.watch()), (it) => Effect.sync(() => it.stop()))
    void (async () => {
      try {
        for await (const e of iterator) {
          if (e.operation === "PUT") seen.set(e.key, e.created.getTime())
          else seen.delete(e.key)
        }
      } catch {
        // ends with the connection
      }
    })()
    return seen
  })

/** The lease decisions counted in `aperture_actor_lease_events_total{event}`. */
export const LEASE_EVENTS = ["acquired", "taken_over", "renewed_late", "released", "lost", "fenced_by_watchdog"] as const
export type LeaseEvent = typeof LEASE_EVENTS[number]

export const make = (options: ShardsOptions): Effect.Effect<ShardsShape, NatsError, Nats | Metrics | Scope.Scope> =>
  Effect.gen(function*() {
    const nats = yield* Nats
    const leaseEvents = (yield* Metrics).counter(
      "aperture_actor_lease_events_total",
      "Partition lease decisions of this node: acquired, taken_over (from a holder expired by the server's clock), renewed_late, released, lost (renewal refused or a store refused the epoch), fenced_by_watchdog (not renewed in time)",
      ["event"]
    )
    // every event's series exists from the start (at 0), and counting one allocates nothing
    const counted = Object.fromEntries(LEASE_EVENTS.map((event) => {
      leaseEvents.inc({ event }, 0)
      return [event, leaseEvents.labels({ event })]
    })) as Record<LeaseEvent, ReturnType<typeof leaseEvents.labels>>
    const kvm = new Kvm(nats.js)
    const shards = yield* call("kv shards", () => kvm.open(nats.name(BucketNames.shards)))
    const nodes = yield* call("kv nodes", () => kvm.open(nats.name(BucketNames.nodes)))
    const heartbeats = yield* watchNodes(nodes)
    const me: Holder = { node: options.nodeId, incarnation: crypto.randomUUID() }
    const myValue = JSON.stringify(me)
    const { partitions, tickMillis, ttlMillis } = options
    const margin = fenceMargin(ttlMillis, tickMillis)
    const callTimeout = Duration.millis(Math.max(250, Math.min(tickMillis, margin / 2)))
    const leases = new Map<number, Lease>()
    // one fiber per partition being started, released or fenced: never two at once for a partition
    const transitions = yield* FiberMap.make<number>()
    let stopping = false

    // a release's delete may take longer than a renewal: the partition is stopped and the delete is
    // by revision, so a late one is harmless, and one given up leaves the lease to expire (the TTL)
    const releaseTimeout = Duration.max(callTimeout, Duration.millis(Math.min(margin, 2000)))
    const bounded = <A>(op: string, f: () => Promise<A>, timeout = callTimeout) =>
      call(op, f).pipe(Effect.timeoutFail({ duration: timeout, onTimeout: () => new NatsError({ op, cause: new Error("timed out") }) }))

    const liveNodes = () => {
      const now = Date.now()
      const live = new Set([me.node])
      for (const [id, at] of heartbeats) if (now - at < ttlMillis) live.add(id)
      return [...live].sort()
    }

    const log = (message: string, lease: { partition: number; epoch: number; revision?: number }, extra: Record<string, unknown> = {}) =>
      Effect.logInfo(message).pipe(Effect.annotateLogs({ partition: lease.partition, epoch: lease.epoch, ...(lease.revision === undefined ? {} : { revision: lease.revision }), ...extra }))

    /** Stops a partition at once (lease lost or expired); the lease is not deleted: it is not ours. */
    const fence = (lease: Lease, why: string, event: "lost" | "fenced_by_watchdog") =>
      Effect.gen(function*() {
        if (leases.get(lease.partition) !== lease) return
        leases.delete(lease.partition)
        counted[event].inc()
        yield* Effect.logWarning(`lease ${why}; partition fenced`).pipe(Effect.annotateLogs({ partition: lease.partition, epoch: lease.epoch }))
        yield* FiberMap.run(transitions, lease.partition, options.stop(lease.partition, "fence"))
      })

    /** Drains a partition and deletes its lease by revision (renewed meanwhile by the renewal fiber). */
    const release = (lease: Lease) =>
      Effect.gen(function*() {
        lease.state = "releasing"
        yield* options.stop(lease.partition, "drain")
        if (leases.get(lease.partition) !== lease) return
        leases.delete(lease.partition)
        yield* bounded(`release ${lease.partition}`, () => shards.delete(leaseKey(lease.partition), { previousSeq: lease.revision }), releaseTimeout).pipe(
          Effect.retry(Schedule.recurs(2)),
          Effect.matchEffect({
            onFailure: (e) => Effect.logWarning(`lease ${lease.partition} not released cleanly; it will expire`, e),
            onSuccess: () => Effect.zipRight(Effect.sync(() => counted.released.inc()), log("lease released", lease))
          })
        )
      })

    /**
     * Takes partition `p` if it is free: absent, deleted or purged (`create`), or held by a lease
     * older than the TTL by the server's own clock (`serverNow`, the server timestamp of this
     * node's latest heartbeat) — taken over by CAS on the revision read, so a holder that renewed
     * meanwhile keeps it. NATS 2.9 removes max-aged entries late (seen 15 s for a 4 s TTL), so the
     * removal alone would delay every takeover by as much.
     */
    const acquire = (p: number, serverNow: number | undefined) =>
      Effect.gen(function*() {
        const current = yield* bounded(`lease ${p}`, () => shards.get(leaseKey(p)))
        const held = current !== null && current.operation === "PUT"
        if (held && (serverNow === undefined || serverNow - current.created.getTime() <= ttlMillis)) return false
        const sentAt = performance.now()
        const revision = yield* (held
          ? bounded(`take over ${p}`, () => shards.update(leaseKey(p), myValue, current.revision))
          : bounded(`acquire ${p}`, () => shards.create(leaseKey(p), myValue))).pipe(Effect.option)
        if (Option.isNone(revision)) return false
        const lease: Lease = { partition: p, revision: revision.value, epoch: 0, renewedAt: sentAt, state: "starting", renewing: false }
        leases.set(p, lease)
        const previous = current === null || !held ? undefined : parseHolder(current.string())
        const started = yield* Effect.exit(options.start(p, revision.value))
        if (started._tag === "Failure") {
          yield* Effect.logWarning(`partition ${p} could not start; lease given back`, started.cause)
          yield* options.stop(p, "fence")
          if (leases.get(p) === lease) {
            leases.delete(p)
            yield* bounded(`release ${p}`, () => shards.delete(leaseKey(p), { previousSeq: lease.revision })).pipe(Effect.ignore)
          }
          return false
        }
        if (leases.get(p) !== lease) return false
        lease.epoch = started.value
        lease.state = "active"
        counted[previous !== undefined ? "taken_over" : "acquired"].inc()
        yield* log(previous !== undefined ? "lease taken over (expired by the server's clock)" : "lease acquired", lease, {
          ...(previous === undefined ? {} : { from: previous.node })
        })
        return true
      })

    /**
     * One CAS renewal. Its answer is applied whenever it arrives — a renewal the server made but
     * whose answer came after the loop stopped waiting must still move the revision, or the next
     * CAS would be refused and the lease given up for nothing — and a lease is never renewed twice
     * at once (the second CAS would be refused by the first).
     */
    const renewOne = (lease: Lease) =>
      Effect.suspend(() => {
        if (lease.renewing) return Effect.void
        lease.renewing = true
        const sentAt = performance.now()
        const expected = lease.revision
        const answer = shards.update(leaseKey(lease.partition), myValue, expected).then(
          (revision) => {
            lease.renewing = false
            if (leases.get(lease.partition) !== lease || lease.revision !== expected) return "stale" as const
            const sinceLast = sentAt - lease.renewedAt
            lease.revision = revision
            lease.renewedAt = sentAt
            return sinceLast > 2 * tickMillis ? Math.round(sinceLast) : "ok" as const
          },
          (error: unknown) => {
            lease.renewing = false
            return error instanceof Error && /wrong last sequence/i.test(error.message) ? "refused" as const : "error" as const
          }
        )
        return Effect.promise(() => answer).pipe(
          Effect.timeoutOption(callTimeout),
          Effect.flatMap((r) =>
            Option.isNone(r) ? Effect.void
            : r.value === "refused" ? fence(lease, "lost (renewal refused: another node holds it)", "lost")
            : typeof r.value === "number"
            ? Effect.zipRight(Effect.sync(() => counted.renewed_late.inc()), log("lease renewed late", lease, { sinceLastMillis: r.value }))
            : Effect.void
          ),
          Effect.catchAll(() => Effect.void)
        )
      })

    const renewal = Effect.all([
      bounded("heartbeat", () => nodes.put(me.node, JSON.stringify({ at: Date.now(), incarnation: me.incarnation }))).pipe(Effect.ignore),
      Effect.suspend(() => Effect.forEach([...leases.values()], renewOne, { concurrency: "unbounded", discard: true }))
    ], { concurrency: "unbounded", discard: true })

    const watchdog = Effect.gen(function*() {
      const now = performance.now()
      for (const lease of [...leases.values()]) {
        if (now - lease.renewedAt > ttlMillis - margin) yield* fence(lease, `not renewed for ${Math.round(now - lease.renewedAt)} ms (expired locally)`, "fenced_by_watchdog")
      }
    })

    const balance = Effect.gen(function*() {
      if (stopping) return
      const live = liveNodes()
      const index = live.indexOf(me.node)
      const target = shareOf(partitions, live.length, index)
      const held = [...leases.values()].filter((l) => l.state !== "releasing")
      // give back extras, highest partitions first, each on its own fiber
      const extras = held.filter((l) => l.state === "active").sort((a, b) => b.partition - a.partition).slice(0, Math.max(0, held.length - target))
      for (const lease of extras) yield* FiberMap.run(transitions, lease.partition, release(lease))
      const want = target - held.length
      if (want <= 0) return
      yield* Effect.logDebug("below share").pipe(Effect.annotateLogs({ live: live.join(","), target, held: held.length }))
      // look at the others' partitions from an offset, so nodes do not all race for the same ones,
      // eight at a time until the share is reached (the first ones looked at may all be held)
      const start = Math.floor((index * partitions) / live.length)
      const candidates: Array<number> = []
      for (let i = 0; i < partitions; i++) {
        const p = (start + i) % partitions
        if (!leases.has(p) && !(yield* FiberMap.has(transitions, p))) candidates.push(p)
      }
      // the server's clock: when it stored this node's latest heartbeat (a tick old at most)
      const heartbeat = yield* bounded("clock", () => nodes.get(me.node)).pipe(Effect.option)
      const serverNow = Option.isSome(heartbeat) && heartbeat.value !== null && heartbeat.value.operation === "PUT"
        ? heartbeat.value.created.getTime()
        : undefined
      let taken = 0
      for (let i = 0; i < candidates.length && taken < want;) {
        const chunk = candidates.slice(i, i + Math.min(8, want - taken))
        i += chunk.length
        const got = yield* Effect.forEach(chunk, (p) =>
          acquire(p, serverNow).pipe(Effect.catchAll((e) => Effect.as(Effect.logDebug(`partition ${p} not acquired`, e), false))), { concurrency: "unbounded" })
        taken += got.filter(Boolean).length
      }
    })

    const loop = (name: string, body: Effect.Effect<void, unknown>, every: number) =>
      body.pipe(
        Effect.catchAllCause((cause) => Effect.logWarning(`shards ${name} failed`, cause)),
        Effect.repeat(Schedule.spaced(Duration.millis(every))),
        Effect.forkDaemon
      )

    const fibers = [
      yield* loop("renewal", renewal, tickMillis),
      yield* loop("watchdog", watchdog, 100),
      yield* loop("balance", balance, tickMillis)
    ]

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        stopping = true
        yield* Fiber.interrupt(fibers[2]!)
        yield* FiberMap.clear(transitions)
        // the renewal fiber keeps the leases alive while they drain
        yield* Effect.forEach([...leases.values()], release, { concurrency: "unbounded", discard: true })
        yield* Fiber.interruptAll(fibers)
        yield* bounded("leave", () => nodes.delete(me.node)).pipe(Effect.ignore)
      })
    )

    return {
      owned: Effect.sync(() => [...leases.values()].filter((l) => l.state !== "starting").map((l) => l.partition).sort((a, b) => a - b)),
      leases: Effect.sync(() => {
        const now = performance.now()
        return [...leases.values()].map((l) => ({ partition: l.partition, epoch: l.epoch, revision: l.revision, state: l.state, sinceRenewalMillis: Math.round(now - l.renewedAt) }))
      }),
      liveNodes: Effect.sync(liveNodes),
      valid: (partition, epoch) => {
        const lease = leases.get(partition)
        // while starting, the epoch is not known here yet: the run being started is the only one
        return lease !== undefined && (lease.state === "starting" || lease.epoch === epoch) &&
          performance.now() - lease.renewedAt <= ttlMillis - margin
      },
      lost: (partition, epoch, why) =>
        Effect.suspend(() => {
          const lease = leases.get(partition)
          return lease !== undefined && (lease.state === "starting" || lease.epoch === epoch) ? fence(lease, why, "lost") : Effect.void
        })
    }
  })
