/**
 * Chaos for direct messages, with real processes: two actor hosts (`host.ts`, which hosts the real
 * conversation actor) on one PRIVATE nats-server, this run's own database and Redis prefix. This
 * process plays the clients: in each busy conversation two members send numbered messages one
 * after another, each waiting for the actor's answer and — when none comes in time, as during a
 * failover — sending again with the same `clientId`, as the app does. Meanwhile the node owning
 * the busy conversations is killed with SIGKILL (and restarted), or frozen with SIGSTOP past its
 * lease and thawed (a zombie that must not write).
 *
 * The checker reads PostgreSQL and every member's inbox afterwards and counts, per conversation:
 * lost (a message sent and answered, or a sequence, missing from the table or from an inbox),
 * duplicated (a message stored or delivered twice), reordered (a sender's messages out of their
 * order, an inbox's frames out of sequence order) and gaps in the sequence. All must be zero.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Layer, Logger, LogLevel, Option } from "effect"
import { afterAll } from "vitest"
import { partitionOf } from "../../src/actors/runtime/Actor.ts"
import * as Actors from "../../src/actors/runtime/Actors.ts"
import { InfraLive } from "../../src/App.ts"
import { AppConfig, type AppConfigShape } from "../../src/config/AppConfig.ts"
import { ConversationProtocol } from "../../src/domain/Conversations.ts"
import * as Inbox from "../../src/streams/Inbox.ts"
import { Nats } from "../../src/streams/Nats.ts"
import { TestConfig, uniqueId } from "../support/harness.ts"
import { privateNats } from "../support/servers.ts"
import { allOwned, type ChaosSettings, hostEnv, type HostProcess, hostProcess, sleep } from "./chaos.ts"

const settings: ChaosSettings = { partitions: 8, leaseTickMs: 500, leaseTtlMs: 4000, ackWaitMs: 3000, maxDeliver: 20, parkAfter: 4 }
const READY_MS = 90_000
const OWN_BOUND_MS = 30_000
const CONVERSATIONS = 4
const PER_SENDER = 40

interface Verdict {
  readonly fault: string
  readonly messages: number
  readonly lost: number
  readonly duplicated: number
  readonly reordered: number
  readonly gaps: number
  readonly inboxLost: number
  readonly inboxDuplicated: number
  readonly inboxReordered: number
  readonly resends: number
}
const verdicts: Array<Verdict> = []
afterAll(() => {
  if (verdicts.length > 0) console.table(verdicts)
  console.log(`dm-chaos.json ${JSON.stringify({ at: new Date().toISOString(), settings, verdicts })}`)
})

class Hosts extends Context.Tag("DmChaosHosts")<Hosts, ReadonlyArray<HostProcess>>() {}

const configFor = (natsUrl: string): Partial<AppConfigShape> => ({
  natsUrl,
  actorPartitions: settings.partitions,
  actors: { idleMillis: 5000, mailboxCapacity: 64, maxDeliver: settings.maxDeliver, leaseTickMillis: settings.leaseTickMs, askTimeoutMillis: 3000 },
  logLevel: "error"
})

const EnvLive = Layer.unwrapScoped(Effect.gen(function*() {
  const nats = yield* privateNats
  const base = Layer.mergeAll(Actors.layer, Inbox.layer).pipe(Layer.provideMerge(InfraLive), Layer.provideMerge(TestConfig(configFor(nats.url))))
  const hosts = Layer.scoped(Hosts, Effect.gen(function*() {
    const config = yield* AppConfig
    const hs = [
      yield* hostProcess("a", hostEnv(config, settings, `${config.nodeId}-a`, nats.url)),
      yield* hostProcess("b", hostEnv(config, settings, `${config.nodeId}-b`, nats.url))
    ]
    for (const h of hs) yield* h.start
    for (const h of hs) yield* h.waitReady(READY_MS)
    return hs
  }))
  return hosts.pipe(Layer.provideMerge(base))
})).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.None)))

/** Users and busy 1:1 conversations, written straight to PostgreSQL. */
const seed = (tag: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const threads: Array<{ id: string; members: [string, string] }> = []
    for (let i = 0; i < CONVERSATIONS; i++) {
      const ids: Array<string> = []
      for (const side of ["x", "y"]) {
        const [u] = yield* sql<{ id: string }>`
          INSERT INTO users (username, email, password_hash) VALUES (${`${tag}${side}${i}`}, ${`${tag}${side}${i}@example.com`}, 'x') RETURNING id::text`
        ids.push(u!.id)
      }
      const id = crypto.randomUUID()
      yield* sql`INSERT INTO conversations (id, kind, direct_key, created_by) VALUES (${id}, 'direct', ${[...ids].sort().join(":")}, ${ids[0]!})`
      for (const u of ids) {
        yield* sql`INSERT INTO conversation_members (conversation_id, user_id, role, status) VALUES (${id}, ${u}, 'admin', 'accepted')`
      }
      threads.push({ id, members: [ids[0]!, ids[1]!] })
    }
    return threads
  }).pipe(Effect.orDie)

/** One send as the API does it: the command with a reply subject, `true` once answered. */
const sendOnce = (conversationId: string, senderId: string, clientId: string) =>
  Effect.gen(function*() {
    const nats = yield* Nats
    const actors = yield* Actors.Actors
    const subject = nats.subject(`dmreply.${crypto.randomUUID()}`)
    const subscription = nats.connection.subscribe(subject, { max: 1 })
    const answer = (async () => {
      for await (const m of subscription) return m.json<{ ok?: { seq: number } }>()
      return undefined
    })()
    const sent = yield* actors.send(ConversationProtocol, conversationId, {
      _tag: "Send",
      senderId,
      clientId,
      text: clientId,
      at: new Date().toISOString(),
      replyTo: subject
    }).pipe(Effect.either)
    if (sent._tag === "Left") {
      subscription.unsubscribe()
      return false
    }
    const reply = yield* Effect.promise(() => answer).pipe(Effect.timeout("2 seconds"), Effect.option)
    subscription.unsubscribe()
    return Option.isSome(reply) && reply.value?.ok !== undefined
  })

/** Each sender's messages in order, resending (same clientId) until answered; the resends made. */
const runLoad = (threads: ReadonlyArray<{ id: string; members: [string, string] }>) =>
  Effect.gen(function*() {
    let resends = 0
    yield* Effect.forEach(threads.flatMap((t) => t.members.map((m) => ({ t, m }))), ({ m, t }) =>
      Effect.gen(function*() {
        for (let i = 0; i < PER_SENDER; i++) {
          for (let attempt = 0; !(yield* sendOnce(t.id, m, `${m}-${i}`)); attempt++) {
            resends++
            if (attempt > 200) return yield* Effect.dieMessage(`message ${m}-${i} never answered`)
          }
          yield* sleep(40)
        }
      }), { concurrency: "unbounded", discard: true })
    return resends
  })

/** PostgreSQL and the inboxes, counted. */
const check = (fault: string, threads: ReadonlyArray<{ id: string; members: [string, string] }>, resends: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const inbox = yield* Inbox.Inbox
    let lost = 0
    let duplicated = 0
    let reordered = 0
    let gaps = 0
    let inboxLost = 0
    let inboxDuplicated = 0
    let inboxReordered = 0
    let messages = 0
    for (const t of threads) {
      const rows = yield* sql<{ seq: string; senderId: string; text: string }>`
        SELECT seq, sender_id::text, text FROM messages WHERE conversation_id = ${t.id} ORDER BY seq`.pipe(Effect.orDie)
      messages += rows.length
      rows.forEach((r, i) => {
        if (Number(r.seq) !== i + 1) gaps++
      })
      const texts = new Map<string, number>()
      for (const r of rows) texts.set(r.text, (texts.get(r.text) ?? 0) + 1)
      for (const n of texts.values()) if (n > 1) duplicated += n - 1
      for (const m of t.members) {
        for (let i = 0; i < PER_SENDER; i++) if (!texts.has(`${m}-${i}`)) lost++
        const mine = rows.filter((r) => r.senderId === m).map((r) => Number(r.text.split("-").pop()))
        for (let k = 1; k < mine.length; k++) if (mine[k]! < mine[k - 1]!) reordered++
        // the member's inbox: every sequence of the thread once, in order
        const seen: Array<number> = []
        let after = 0
        for (;;) {
          const next = yield* inbox.next(m, after).pipe(Effect.orDie)
          if (next === null) break
          after = next.seq
          const frame = JSON.parse(next.json) as { type: string; payload: { conversationId: string; message: { seq: number } } }
          if (frame.type === "message" && frame.payload.conversationId === t.id) seen.push(frame.payload.message.seq)
        }
        const counts = new Map<number, number>()
        for (const s of seen) counts.set(s, (counts.get(s) ?? 0) + 1)
        for (const n of counts.values()) if (n > 1) inboxDuplicated += n - 1
        for (let s = 1; s <= rows.length; s++) if (!counts.has(s)) inboxLost++
        for (let k = 1; k < seen.length; k++) if (seen[k]! < seen[k - 1]!) inboxReordered++
      }
    }
    const verdict: Verdict = { fault, messages, lost, duplicated, reordered, gaps, inboxLost, inboxDuplicated, inboxReordered, resends }
    verdicts.push(verdict)
    console.log(`dm-chaos ${JSON.stringify(verdict)}`)
    return verdict
  })

const assertClean = (v: Verdict) =>
  assert.deepStrictEqual(
    [v.messages, v.lost, v.duplicated, v.reordered, v.gaps, v.inboxLost, v.inboxDuplicated, v.inboxReordered],
    [CONVERSATIONS * 2 * PER_SENDER, 0, 0, 0, 0, 0, 0, 0],
    JSON.stringify(v)
  )

/** The host owning the first busy conversation's partition, once every partition is owned. */
const ownerOf = (hosts: ReadonlyArray<HostProcess>, conversationId: string) =>
  Effect.gen(function*() {
    yield* allOwned(hosts, settings.partitions, Date.now(), OWN_BOUND_MS)
    const p = partitionOf(conversationId, settings.partitions)
    const owner = hosts.find((h) => h.running && !h.frozen && h.owned.includes(p))
    if (owner === undefined) return yield* Effect.dieMessage(`nobody owns partition ${p}`)
    return owner
  })

const healthy = Effect.gen(function*() {
  const hosts = yield* Hosts
  for (const h of hosts) {
    if (h.frozen) yield* h.signal("SIGCONT")
    if (!h.running) yield* h.start
  }
  for (const h of hosts) yield* h.waitReady(READY_MS)
  yield* allOwned(hosts, settings.partitions, Date.now(), OWN_BOUND_MS)
})

const scenario = (fault: string, inject: (victim: HostProcess) => Effect.Effect<void>) =>
  Effect.gen(function*() {
    const hosts = yield* Hosts
    yield* healthy
    const threads = yield* seed(uniqueId("").replace(/[^a-z0-9]/g, "").slice(0, 12))
    const victim = yield* ownerOf(hosts, threads[0]!.id)
    const load = yield* Effect.fork(runLoad(threads))
    yield* sleep(1500) // the load is flowing
    yield* inject(victim)
    const resends = yield* load.await.pipe(Effect.flatMap((exit) => exit))
    // what a frozen or dying node still had in flight is settled by now: count
    yield* sleep(1000)
    return yield* check(fault, threads, resends)
  })

describe("direct messages under faults", () => {
  layer(EnvLive, { timeout: "600 seconds", excludeTestServices: true })((it) => {
    it.scoped("kill -9 of the node owning a busy conversation: no message lost, duplicated or reordered, in PostgreSQL and in every inbox", () =>
      Effect.gen(function*() {
        const verdict = yield* scenario("kill -9", (victim) =>
          Effect.gen(function*() {
            yield* victim.kill("SIGKILL")
            yield* sleep(settings.leaseTtlMs + 2000)
            yield* victim.start
            yield* victim.waitReady(READY_MS)
          }).pipe(Effect.orDie))
        assertClean(verdict)
      }))

    it.scoped("SIGSTOP of the owner past its lease, then SIGCONT (a zombie): no loss, duplicate or reorder", () =>
      Effect.gen(function*() {
        const verdict = yield* scenario("SIGSTOP past the lease", (victim) =>
          Effect.gen(function*() {
            yield* victim.signal("SIGSTOP")
            yield* sleep(settings.leaseTtlMs + settings.leaseTickMs + 1500)
            yield* victim.signal("SIGCONT")
          }).pipe(Effect.orDie))
        assertClean(verdict)
      }))
  })
})
