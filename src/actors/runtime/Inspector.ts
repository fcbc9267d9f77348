/**
 * The actor inspector, from any node: `overview` asks every node on `inspect.nodes` (see
 * `streams/NodeDirectory.ts`), merges their answers with JetStream's figures (streams, consumers,
 * each partition's pending and ack-pending) and the dead-letter counts, and says which nodes did
 * not answer in time; `actor` asks the owner of one key's partition for that actor's detail.
 *
 * Expected nodes are those with a live heartbeat (`nodes` bucket, the `actors` role) and those
 * that answered in the last minute (any role): a node that stops answering is named in `missing`
 * instead of silently vanishing. JetStream's figures and the dead-letter counts are read at most
 * once a second, however many admins poll.
 */
import { Kvm, type KV } from "@nats-io/kv"
import type { ConsumerInfo } from "@nats-io/jetstream"
import { createInbox } from "@nats-io/transport-node"
import { Context, Effect, Layer, Option, Runtime } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { DeadLettersRepo } from "../../db/DeadLetters.ts"
import { UsersRepo } from "../../db/Users.ts"
import { Forbidden } from "../../domain/ApiError.ts"
import type { ActorDetail, ActorsOverview, ActorSummary, InspectedNode, InspectedPartition } from "../../domain/Inspector.ts"
import { Nats } from "../../streams/Nats.ts"
import { inspectNodesSubject, type NodeAnswer, NodeDirectory, type NodeDirectoryShape } from "../../streams/NodeDirectory.ts"
import { Taps, type TapsShape } from "../../streams/Taps.ts"
import { BucketNames, ConsumerNames, StreamNames } from "../../streams/Topology.ts"
import { partitionOf } from "./Actor.ts"
import { inspectActorSubject } from "./ActorHost.ts"

/** What an `actors` node adds to its answer (ActorHost's `overviewPart`). */
interface ActorsPart {
  readonly actors: number
  readonly mailboxDepth: number
  readonly partitions: ReadonlyArray<{ partition: number; epoch: number; state: string; leaseExpiresAt: string; actors: number }>
  readonly kinds: ReadonlyArray<{ kind: string; live: number; mailboxDepth: number; handled: number; restarts: number }>
  readonly top: Record<"mailboxDepth" | "handled" | "restarts" | "lastActivity", ReadonlyArray<ActorSummary>>
}

export interface InspectorShape {
  /** 403 unless the viewer is an admin (ADMIN_USERNAMES). */
  readonly requireAdmin: (viewerId: string) => Effect.Effect<void, Forbidden>
  readonly overview: (limit: number) => Effect.Effect<ActorsOverview>
  readonly actor: (kind: string, key: string) => Effect.Effect<ActorDetail>
  /** Actor kinds this deployment knows (the detail route answers 404 for others). */
  readonly kinds: ReadonlyArray<string>
  /** An admin's live tail (see `streams/Taps.ts`): the gateway's `observe` frame. */
  readonly observe: TapsShape["observe"]
  /** Adds a part to this node's answer (the gateway's socket count). */
  readonly register: NodeDirectoryShape["register"]
}

export class Inspector extends Context.Tag("Inspector")<Inspector, InspectorShape>() {}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Nodes that answered within this long are expected to answer again. */
const REMEMBER_MILLIS = 60_000
/** JetStream's figures and the dead-letter counts are this fresh at worst. */
const FIGURES_MILLIS = 1_000
/** Consumers listed per stream at most (the busiest first). */
const CONSUMERS_PER_STREAM = 50

type Figures = Pick<ActorsOverview, "streams" | "deadLetters"> & { readonly mailbox: ReadonlyMap<string, ConsumerInfo> }

export const make = (kinds: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const nats = yield* Nats
    const config = yield* AppConfig
    const users = yield* UsersRepo
    const deadLetters = yield* DeadLettersRepo
    // the layer's runtime, as the other core-NATS callbacks use: no second runtime at the edge
    const runPromise = Runtime.runPromise(yield* Effect.runtime<never>())
    const taps = yield* Taps
    const directory = yield* NodeDirectory
    const { inspectTimeoutMillis } = config.observe
    let nodesKv: KV | undefined
    const seen = new Map<string, number>()
    let figures: { at: number; value: Promise<Figures> } | undefined

    const requireAdmin: InspectorShape["requireAdmin"] = (viewerId) =>
      Effect.flatMap(users.byId(viewerId).pipe(Effect.orDie), (user) =>
        Option.isSome(user) && config.adminUsernames.includes(user.value.username.toLowerCase())
          ? Effect.void
          : Effect.fail(new Forbidden({ message: "admins only (ADMIN_USERNAMES)" })))

    /** Live heartbeats: node → milliseconds since the server stored it. */
    const heartbeats = async (): Promise<Map<string, number>> => {
      nodesKv ??= await new Kvm(nats.js).open(nats.name(BucketNames.nodes))
      const kv = nodesKv
      const keys: Array<string> = []
      for await (const k of await kv.keys()) keys.push(k)
      const now = Date.now()
      const out = new Map<string, number>()
      await Promise.all(keys.map(async (k) => {
        const e = await kv.get(k)
        if (e !== null && e.operation === "PUT") {
          const age = now - e.created.getTime()
          if (age < config.actorRuntime.leaseTtlMillis) out.set(k, Math.max(0, age))
        }
      }))
      return out
    }

    /**
     * Asks every node and collects the answers until each expected node has answered — the
     * heartbeats are read meanwhile, so the wait ends as soon as they are known and matched — or
     * INSPECT_TIMEOUT_MS passed.
     */
    const ask = (limit: number, remembered: ReadonlySet<string>, beats: Promise<ReadonlyMap<string, number>>) =>
      new Promise<{ answers: Array<{ answer: NodeAnswer; ms: number }>; expected: Set<string> }>((resolve) => {
        const answers: Array<{ answer: NodeAnswer; ms: number }> = []
        const answered = new Set<string>()
        const expected = new Set(remembered)
        let beatsKnown = false
        let done = false
        const started = performance.now()
        const inbox = createInbox(nats.subject("_INSPECT"))
        const finish = () => {
          if (done) return
          done = true
          clearTimeout(timer)
          sub.unsubscribe()
          resolve({ answers, expected })
        }
        const check = () => {
          if (beatsKnown && expected.size > 0 && [...expected].every((n) => answered.has(n))) finish()
        }
        const sub = nats.connection.subscribe(inbox, {
          callback: (_e, m) => {
            try {
              const answer = JSON.parse(decoder.decode(m.data)) as NodeAnswer
              answers.push({ answer, ms: performance.now() - started })
              answered.add(answer.node)
            } catch {
              return
            }
            check()
          }
        })
        const timer = setTimeout(finish, inspectTimeoutMillis)
        void beats.then((b) => {
          for (const n of b.keys()) expected.add(n)
          beatsKnown = true
          check()
        })
        try {
          nats.connection.publish(nats.subject(inspectNodesSubject), encoder.encode(JSON.stringify({ limit })), { reply: inbox })
        } catch {
          finish()
        }
      })

    const readFigures = async (): Promise<Figures> => {
      const ours = Object.values(StreamNames).map((n) => nats.name(n))
      const streams = await Promise.all(ours.map(async (name) => {
        try {
          const info = await nats.jsm.streams.info(name)
          const consumers: Array<ConsumerInfo> = []
          for await (const c of nats.jsm.consumers.list(name)) consumers.push(c)
          return { name, info, consumers }
        } catch {
          return undefined
        }
      }))
      const mailbox = new Map<string, ConsumerInfo>()
      const out: Array<ActorsOverview["streams"][number]> = []
      for (const s of streams) {
        if (s === undefined) continue
        if (s.name === nats.name(StreamNames.mailbox)) for (const c of s.consumers) mailbox.set(c.name, c)
        const busiest = [...s.consumers].sort((a, b) => (b.num_pending + b.num_ack_pending) - (a.num_pending + a.num_ack_pending)).slice(0, CONSUMERS_PER_STREAM)
        out.push({
          stream: s.name,
          messages: s.info.state.messages,
          bytes: s.info.state.bytes,
          consumers: busiest.map((c) => ({ name: c.name, pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered }))
        })
      }
      const dead = await runPromise(deadLetters.counts.pipe(Effect.orElseSucceed(() => [])))
      return { streams: out, deadLetters: dead, mailbox }
    }
    const currentFigures = () => {
      const now = Date.now()
      if (figures === undefined || now - figures.at > FIGURES_MILLIS) {
        const value = readFigures()
        figures = { at: now, value }
        value.catch(() => {
          if (figures?.value === value) figures = undefined
        })
      }
      return figures.value
    }

    const overview: InspectorShape["overview"] = (limit) =>
      Effect.promise(async () => {
        const now = Date.now()
        for (const [n, at] of seen) if (now - at > REMEMBER_MILLIS) seen.delete(n)
        const beatsRead = heartbeats().catch(() => new Map<string, number>())
        const [{ answers, expected }, beats, figs] = await Promise.all([
          ask(limit, new Set(seen.keys()), beatsRead),
          beatsRead,
          currentFigures().catch((): Figures => ({ streams: [], deadLetters: [], mailbox: new Map() }))
        ])
        const nodes: Array<InspectedNode> = []
        const partitions = new Map<number, InspectedPartition>()
        const kindTotals = new Map<string, { kind: string; live: number; mailboxDepth: number; handled: number; restarts: number }>()
        const tops: Record<keyof ActorsPart["top"], Array<ActorSummary>> = { mailboxDepth: [], handled: [], restarts: [], lastActivity: [] }
        const answered = new Set<string>()
        for (const { answer, ms } of answers) {
          if (answered.has(answer.node)) continue
          answered.add(answer.node)
          seen.set(answer.node, now)
          const part = answer.parts["actors"] as ActorsPart | null | undefined
          const sockets = answer.parts["sockets"]
          nodes.push({
            node: answer.node,
            roles: answer.roles,
            version: answer.version,
            startedAt: answer.startedAt,
            heartbeatAgeMs: beats.get(answer.node) ?? null,
            answeredInMs: Math.round(ms * 10) / 10,
            partitions: part?.partitions.length ?? 0,
            actors: part?.actors ?? 0,
            mailboxDepth: part?.mailboxDepth ?? 0,
            sockets: typeof sockets === "number" ? sockets : 0
          })
          if (part === null || part === undefined) continue
          for (const p of part.partitions) {
            const c = figs.mailbox.get(ConsumerNames.mailboxPartition(p.partition, p.epoch))
            const known = partitions.get(p.partition)
            // two claimants (a lease moving right now): the newer epoch is the owner
            if (known !== undefined && (known.epoch ?? 0) > p.epoch) continue
            partitions.set(p.partition, {
              partition: p.partition,
              owner: answer.node,
              epoch: p.epoch,
              state: p.state,
              leaseExpiresAt: p.leaseExpiresAt,
              actors: p.actors,
              pending: c?.num_pending ?? null,
              ackPending: c?.num_ack_pending ?? null,
              redelivered: c?.num_redelivered ?? null
            })
          }
          for (const k of part.kinds) {
            const t = kindTotals.get(k.kind) ?? { kind: k.kind, live: 0, mailboxDepth: 0, handled: 0, restarts: 0 }
            t.live += k.live
            t.mailboxDepth += k.mailboxDepth
            t.handled += k.handled
            t.restarts += k.restarts
            kindTotals.set(k.kind, t)
          }
          for (const key of Object.keys(tops) as Array<keyof ActorsPart["top"]>) tops[key].push(...(part.top[key] ?? []))
        }
        const score: Record<keyof ActorsPart["top"], (a: ActorSummary) => number> = {
          mailboxDepth: (a) => a.mailboxDepth,
          handled: (a) => a.handled,
          restarts: (a) => a.restarts,
          lastActivity: (a) => Date.parse(a.lastActivity)
        }
        const best = (k: keyof ActorsPart["top"]) => tops[k].sort((a, b) => score[k](b) - score[k](a)).slice(0, limit)
        const top: ActorsOverview["top"] = { mailboxDepth: best("mailboxDepth"), handled: best("handled"), restarts: best("restarts"), lastActivity: best("lastActivity") }
        const all: Array<InspectedPartition> = []
        for (let p = 0; p < config.actorPartitions; p++) {
          const c = figs.mailbox.get(ConsumerNames.mailboxPartition(p)) // never used by epoch-named consumers; kept for older ones
          all.push(partitions.get(p) ?? {
            partition: p,
            owner: null,
            epoch: null,
            state: null,
            leaseExpiresAt: null,
            actors: 0,
            pending: c?.num_pending ?? null,
            ackPending: c?.num_ack_pending ?? null,
            redelivered: c?.num_redelivered ?? null
          })
        }
        nodes.sort((a, b) => a.node.localeCompare(b.node))
        return {
          at: new Date(now).toISOString(),
          askedBy: config.nodeId,
          nodes,
          missing: [...expected].filter((n) => !answered.has(n)).sort(),
          partitions: all,
          kinds: [...kindTotals.values()].sort((a, b) => a.kind.localeCompare(b.kind)),
          top,
          streams: figs.streams,
          deadLetters: figs.deadLetters
        }
      })

    const actor: InspectorShape["actor"] = (kind, key) =>
      Effect.promise(async (): Promise<ActorDetail> => {
        const partition = partitionOf(key, config.actorPartitions)
        let detail: Omit<ActorDetail, "consumer"> | undefined
        try {
          const reply = await nats.connection.request(nats.subject(inspectActorSubject), encoder.encode(JSON.stringify({ kind, key })), {
            timeout: inspectTimeoutMillis
          })
          detail = JSON.parse(decoder.decode(reply.data)) as Omit<ActorDetail, "consumer">
        } catch {
          detail = undefined
        }
        const base: Omit<ActorDetail, "consumer"> = detail ?? {
          kind,
          key,
          partition,
          owner: null,
          epoch: null,
          alive: false,
          mailboxDepth: 0,
          handled: 0,
          restarts: 0,
          parked: false,
          spawnedAt: null,
          lastActivity: null,
          state: null,
          recent: []
        }
        const consumerName = base.epoch === null ? undefined : ConsumerNames.mailboxPartition(partition, base.epoch)
        const consumer = consumerName === undefined
          ? undefined
          : await nats.jsm.consumers.info(nats.name(StreamNames.mailbox), consumerName).catch(() => undefined)
        return {
          ...base,
          consumer: consumer === undefined
            ? null
            : { name: consumer.name, pending: consumer.num_pending, ackPending: consumer.num_ack_pending, redelivered: consumer.num_redelivered }
        }
      })

    return Inspector.of({ requireAdmin, overview, actor, kinds, observe: taps.observe, register: directory.register })
  })

/** The inspector, knowing the actor kinds this deployment runs. */
export const layer = (kinds: ReadonlyArray<string>) => Layer.effect(Inspector, make(kinds))
