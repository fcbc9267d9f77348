/**
 * Partition leases in the `shards` KV bucket, nodes' heartbeats in `nodes`.
 *
 * Every tick a node (1) writes its heartbeat, (2) renews each lease it holds by compare-and-set on
 * the entry's revision — a failed renewal means the lease was lost and the partition is stopped at
 * once, (3) computes its even share of the live nodes (sorted by id, so every node computes the
 * same split), releases extras (drained first, then deleted by revision) and (4) takes free
 * partitions: absent, deleted, or not renewed within the TTL (taken over by CAS on the stale
 * revision). Both buckets are watched, so a tick reads nothing; entries removed by the buckets'
 * max-age send no event, which is why staleness is judged from each entry's server timestamp.
 * On shutdown every lease is drained and released, so the other nodes take over on their next tick.
 */
import { Kvm, type KV, type KvEntry } from "@nats-io/kv"
import { Effect, Fiber, Ref, Schedule, type Scope } from "effect"
import { Nats, NatsError } from "../../streams/Nats.ts"
import { BucketNames, LeaseTtlMillis } from "../../streams/Topology.ts"

export interface ShardsOptions {
  readonly nodeId: string
  readonly partitions: number
  readonly tickMillis: number
  /** Starts consuming a partition just leased. */
  readonly acquired: (partition: number) => Effect.Effect<void>
  /** Stops a partition and waits for its in-flight commands (lease lost, rebalanced or shutting down). */
  readonly released: (partition: number) => Effect.Effect<void>
}

export interface ShardsShape {
  readonly owned: Effect.Effect<ReadonlyArray<number>>
  readonly liveNodes: Effect.Effect<ReadonlyArray<string>>
}

interface Seen {
  readonly value: string
  readonly revision: number
  readonly created: number
  readonly deleted: boolean
}

const call = <A>(op: string, f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: (cause) => new NatsError({ op, cause }) })

const leaseKey = (p: number) => `partition.${p}`

/** Mirrors a bucket into a map from a watch, read by a detached loop. */
const mirror = (kv: KV, name: string) =>
  Effect.gen(function*() {
    const seen = new Map<string, Seen>()
    const iterator = yield* Effect.acquireRelease(
      call(`watch ${name}`, () => kv.watch()),
      (it) => Effect.sync(() => it.stop())
    )
    const record = (e: KvEntry) =>
      seen.set(e.key, { value: e.string(), revision: e.revision, created: e.created.getTime(), deleted: e.operation !== "PUT" })
    void (async () => {
      try {
        for await (const entry of iterator) record(entry)
      } catch {
        // the iterator ends with the connection; the node's ticks fail and it stops owning anything
      }
    })()
    return { seen, record }
  })

/** The share of `partitions` for the node at `index` among `count` nodes. */
export const shareOf = (partitions: number, count: number, index: number) =>
  Math.floor(partitions / count) + (index < partitions % count ? 1 : 0)

export const make = (options: ShardsOptions): Effect.Effect<ShardsShape, NatsError, Nats | Scope.Scope> =>
  Effect.gen(function*() {
    const nats = yield* Nats
    const kvm = new Kvm(nats.js)
    const shards = yield* call("kv shards", () => kvm.open(nats.name(BucketNames.shards)))
    const nodes = yield* call("kv nodes", () => kvm.open(nats.name(BucketNames.nodes)))
    const leases = yield* mirror(shards, "shards")
    const heartbeats = yield* mirror(nodes, "nodes")
    /** partition → revision of our lease */
    const owned = new Map<number, number>()
    const stopping = yield* Ref.make(false)
    const me = options.nodeId

    const fresh = (s: Seen | undefined, now: number) => s !== undefined && !s.deleted && now - s.created < LeaseTtlMillis

    const liveNodes = (now: number) => {
      const live = new Set([me])
      for (const [id, s] of heartbeats.seen) if (fresh(s, now)) live.add(id)
      return [...live].sort()
    }

    const release = (p: number, deleteLease: boolean) =>
      Effect.gen(function*() {
        const revision = owned.get(p)
        owned.delete(p)
        yield* options.released(p)
        if (deleteLease && revision !== undefined) {
          // by revision, so a lease someone else took meanwhile is left alone; a renewal cut short
          // (the tick interrupted at shutdown) may have moved our revision: look it up once more
          const ours = call(`lease ${p}`, () => shards.get(leaseKey(p))).pipe(
            Effect.flatMap((e) =>
              e !== null && e.operation === "PUT" && e.string() === me
                ? call(`release ${p}`, () => shards.delete(leaseKey(p), { previousSeq: e.revision }))
                : Effect.void
            )
          )
          yield* call(`release ${p}`, () => shards.delete(leaseKey(p), { previousSeq: revision })).pipe(
            Effect.orElse(() => ours),
            Effect.catchAll((e) => Effect.logWarning(`lease ${p} not released cleanly; it will expire`, e))
          )
        }
      })

    const tick = Effect.gen(function*() {
      if (yield* Ref.get(stopping)) return
      const now = Date.now()
      yield* call("heartbeat", () => nodes.put(me, JSON.stringify({ at: now })))

      // renew what we hold; a lost CAS means someone else holds it now
      for (const [p, revision] of [...owned]) {
        const renewed = yield* call(`renew ${p}`, () => shards.update(leaseKey(p), me, revision)).pipe(Effect.option)
        if (renewed._tag === "Some") owned.set(p, renewed.value)
        else {
          yield* Effect.logWarning(`lease on partition ${p} lost`)
          yield* release(p, false)
        }
      }

      const live = liveNodes(now)
      const target = shareOf(options.partitions, live.length, live.indexOf(me))
      // give back extras, highest partitions first
      const extras = [...owned.keys()].sort((a, b) => b - a).slice(0, Math.max(0, owned.size - target))
      yield* Effect.forEach(extras, (p) => release(p, true), { concurrency: "unbounded", discard: true })

      // take free partitions, starting from an offset so nodes do not all race for the same ones
      const start = Math.floor((live.indexOf(me) * options.partitions) / live.length)
      for (let i = 0; i < options.partitions && owned.size < target; i++) {
        const p = (start + i) % options.partitions
        if (owned.has(p)) continue
        const current = leases.seen.get(leaseKey(p))
        if (fresh(current, now)) continue
        const acquire = current === undefined || current.deleted
          ? call(`acquire ${p}`, () => shards.create(leaseKey(p), me))
          : call(`take over ${p}`, () => shards.update(leaseKey(p), me, current.revision))
        const revision = yield* Effect.option(acquire)
        if (revision._tag === "None") continue
        owned.set(p, revision.value)
        yield* options.acquired(p)
      }
    })

    const ticking = yield* tick.pipe(
      Effect.catchAll((e) => Effect.logWarning("shard tick failed", e)),
      Effect.repeat(Schedule.spaced(options.tickMillis)),
      Effect.forkDaemon
    )

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* Ref.set(stopping, true)
        yield* Fiber.interrupt(ticking)
        yield* Effect.forEach([...owned.keys()], (p) => release(p, true), { discard: true, concurrency: "unbounded" })
        yield* call("leave", () => nodes.delete(me)).pipe(Effect.ignore)
      })
    )

    return {
      owned: Effect.sync(() => [...owned.keys()].sort((a, b) => a - b)),
      liveNodes: Effect.sync(() => liveNodes(Date.now()))
    }
  })
