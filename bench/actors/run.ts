/**
 * Actor runtime benchmark (issue 13, part 8), in one run:
 *
 *   1. Throughput. One host process (bench/actors/host.ts: `ActorHost.layer` on `CoreLive`,
 *      ACTOR_PARTITIONS=64, production lease settings) and this process sending with the real
 *      `Actors.send` (BENCH_CONCURRENCY publishes in flight, each waiting for its PubAck). Per
 *      round, BENCH_COMMANDS commands over BENCH_KEYS keys, four ways: keys that all map to
 *      partition 0 ("one partition") and keys spread over all 64, each to the `bnoop` kind
 *      (receive does nothing) and to the `bwrite` kind (receive does one fenced Redis write:
 *      FENCE_LUA + INCR). Commands/s = commands / (first send → last command handled, as the host
 *      timestamps it); the publish rate (first send → last PubAck) is reported separately.
 *   2. Raw JetStream baseline, same round: as many messages of the same size (same JSON, a msgID
 *      each, same concurrency) to a work-queue stream of the MAILBOX layout (subjects
 *      `rawbench.<kind>.<partition>.<key>`, MAILBOX's limits) consumed in another process by one
 *      durable pull consumer (the MAILBOX partition consumer's settings) with `consume()`
 *      (max_messages 64, a partition's pull size), each message `ack()`ed (BENCH_RAW_ACK=ackAck:
 *      acked and confirmed, as the runtime does). Ratio actor / raw (goal ≥ 50 %).
 *   3. Handover. A second host joins until the partitions split 32/32, then is killed: SIGKILL
 *      (the lease TTL, production default 15 s, must run out; goal < 20 s) or SIGTERM (it drains
 *      and releases; goal < 3 s). Measured from the signal until the survivor owns all 64
 *      partitions AND a probe command sent right after the signal to a key of every moved
 *      partition has been handled (the survivor's partition list is sampled every 100 ms).
 *
 * Medians over BENCH_ROUNDS. Prints a table, writes bench/actors/results.json, removes the
 * run's NATS streams, Redis keys and database.
 *
 * Env: BENCH_ROUNDS (3), BENCH_COMMANDS (20000), BENCH_KEYS (1000), BENCH_CONCURRENCY (512),
 * BENCH_PAYLOAD_BYTES (100), BENCH_RAW_ACK (ack | ackAck), BENCH_SKIP_HANDOVER=1,
 * ACTOR_LEASE_TTL_MS / ACTOR_LEASE_TICK_MS (passed to the hosts; production defaults when unset),
 * BENCH_DATABASE_URL, BENCH_SERVER_CPU_PROFILE=<dir> (a .cpuprofile of the throughput host). Run: `npm run bench:actors`.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes, randomUUID } from "node:crypto"
import { fileURLToPath } from "node:url"
import { AckPolicy, DeliverPolicy, DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream"
import { connect as connectNats, type NatsConnection } from "@nats-io/transport-node"
import { Effect, Layer, ManagedRuntime } from "effect"
import { Redis } from "ioredis"
import { type AnyKind, partitionOf } from "../../src/actors/runtime/Actor.ts"
import * as Actors from "../../src/actors/runtime/Actors.ts"
import { layer as ConfigLive } from "../../src/config/AppConfig.ts"
import * as Nats from "../../src/streams/Nats.ts"
import { fmtCores, fmtInt, fmtMs, machineInfo, printTable, type Row, writeJson } from "../accounts/report.ts"
import { REPO_ROOT, sleep } from "../accounts/server.ts"
import { benchDatabaseUrl, cpuProfileEnv, envInt } from "../support/env.ts"
import { cleanupPrefixes, natsUrl, prefixesOf, redisUrl, removeLeftovers, runBenchmark } from "../support/lifecycle.ts"
import { dropDatabase } from "../support/pgdb.ts"
import { processCpuSeconds } from "../support/proc.ts"
import { BenchNoop, BenchWrite } from "./kinds.ts"

// ---------------------------------------------------------------------------------------------
// Settings

const PARTITIONS = 64
const settings = {
  rounds: envInt("BENCH_ROUNDS", 3),
  commands: envInt("BENCH_COMMANDS", 20_000),
  keys: envInt("BENCH_KEYS", 1_000),
  concurrency: envInt("BENCH_CONCURRENCY", 512),
  payloadBytes: envInt("BENCH_PAYLOAD_BYTES", 100),
  warmupCommands: 2_000,
  partitions: PARTITIONS,
  rawAck: process.env["BENCH_RAW_ACK"] === "ackAck" ? "ackAck" : "ack",
  leaseTtlMillis: envInt("ACTOR_LEASE_TTL_MS", 15_000),
  leaseTickMillis: envInt("ACTOR_LEASE_TICK_MS", 2_000),
  skipHandover: process.env["BENCH_SKIP_HANDOVER"] === "1",
  timeoutMillis: 120_000,
  goals: { shareOfRaw: 0.5, killMs: 20_000, termMs: 3_000 }
} as const

// a database of its own, dropped at the end (never one given in BENCH_DATABASE_URL)
const OWN_DATABASE = process.env["BENCH_DATABASE_URL"] === undefined
const DATABASE_URL = benchDatabaseUrl(`aperture_bench_actors_${randomBytes(3).toString("hex")}`)
const RESULTS_PATH = fileURLToPath(new URL("./results.json", import.meta.url))
const HOST_SCRIPT = fileURLToPath(new URL("./host.ts", import.meta.url))
const prefixes = prefixesOf(`benchact${randomBytes(4).toString("hex")}`)
const RAW_STREAM = `${prefixes.nats}_RAWBENCH`
const RAW_CONSUMER = "raw"
const rawSubject = (kind: string, partition: number, key: string) => `${prefixes.nats}.rawbench.${kind}.${partition}.${key}`

const now = () => performance.timeOrigin + performance.now()

// the sender in this process reads the same configuration as the hosts
const hostEnv = (nodeId: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  LOG_LEVEL: process.env["BENCH_HOST_LOG_LEVEL"] ?? "warning",
  ROLES: "actors",
  NODE_ID: nodeId,
  DATABASE_URL,
  NATS_URL: natsUrl,
  REDIS_URL: redisUrl,
  NATS_PREFIX: prefixes.nats,
  REDIS_KEY_PREFIX: prefixes.redis,
  ACTOR_PARTITIONS: String(PARTITIONS),
  ACTOR_LEASE_TTL_MS: String(settings.leaseTtlMillis),
  ACTOR_LEASE_TICK_MS: String(settings.leaseTickMillis),
  ...extra
})

// ---------------------------------------------------------------------------------------------
// Host processes

interface Status {
  readonly t: number
  readonly owned: ReadonlyArray<number>
  readonly handled: number
  readonly lastAt: number
  /** Receives that failed so far (the runtime retries them in place), and their first reasons. */
  readonly failed: number
  readonly errors: ReadonlyArray<string>
  /** The host's worst event-loop delay since its previous line. */
  readonly lagMaxMs: number
}

interface Host {
  readonly name: string
  readonly child: ChildProcess
  latest: Status | undefined
  /** Every status line seen since `mark()` (for "first line that showed …"). */
  history: Array<Status>
  stderr: string
  /** Its warning and error log lines, counted by level and message. */
  readonly logs: Map<string, number>
  exitedAt: number | undefined
  readonly exited: Promise<void>
}

const hosts = new Set<Host>()
/** Every host started, for their logs in the report. */
const allHosts: Array<Host> = []

const startHost = (name: string, extra: Record<string, string> = {}): Host => {
  const child = spawn(process.execPath, ["--import", "tsx", HOST_SCRIPT], { cwd: REPO_ROOT, env: hostEnv(name, extra), stdio: ["ignore", "pipe", "pipe"] })
  let buffered = ""
  const host: Host = {
    name,
    child,
    latest: undefined,
    history: [],
    stderr: "",
    logs: new Map(),
    exitedAt: undefined,
    exited: new Promise((resolve) => child.once("exit", () => {
      host.exitedAt = now()
      hosts.delete(host)
      resolve()
    }))
  }
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk
    let nl: number
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const text = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      if (!text.startsWith("BENCH ")) continue
      const status = JSON.parse(text.slice(6)) as Status
      host.latest = status
      host.history.push(status)
      if (host.history.length > 2_000) host.history.splice(0, 1_000)
    }
  })
  let errBuffered = ""
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    host.stderr = (host.stderr + chunk).slice(-16_384)
    errBuffered += chunk
    let nl: number
    while ((nl = errBuffered.indexOf("\n")) >= 0) {
      const text = errBuffered.slice(0, nl)
      errBuffered = errBuffered.slice(nl + 1)
      try {
        const entry = JSON.parse(text) as { logLevel?: string; message?: unknown }
        const what = `${entry.logLevel ?? "?"} ${Array.isArray(entry.message) ? entry.message.join(" ") : String(entry.message)}`
        host.logs.set(what, (host.logs.get(what) ?? 0) + 1)
      } catch {
        // not a log line (a stack, a warning from node)
      }
    }
  })
  hosts.add(host)
  allHosts.push(host)
  return host
}

const waitFor = async (host: Host, what: string, done: (s: Status) => boolean, timeoutMillis: number = settings.timeoutMillis): Promise<Status> => {
  const deadline = Date.now() + timeoutMillis
  for (;;) {
    if (host.latest !== undefined && done(host.latest)) return host.latest
    if (host.exitedAt !== undefined) throw new Error(`host ${host.name} exited while waiting for ${what}\n--- stderr ---\n${host.stderr}`)
    if (Date.now() > deadline) {
      throw new Error(`host ${host.name}: no ${what} after ${timeoutMillis} ms (last status ${JSON.stringify(host.latest)})\n--- stderr ---\n${host.stderr.slice(-4000)}`)
    }
    await sleep(5)
  }
}

const stopHost = async (host: Host) => {
  if (host.exitedAt !== undefined) return
  host.child.kill("SIGTERM")
  const timer = setTimeout(() => host.child.kill("SIGKILL"), 20_000)
  await host.exited
  clearTimeout(timer)
}

// ---------------------------------------------------------------------------------------------
// Keys and commands

/** `count` distinct keys whose partition is accepted by `wanted`. */
const keysWhere = (prefix: string, count: number, wanted: (p: number) => boolean) => {
  const keys: Array<string> = []
  for (let i = 0; keys.length < count; i++) {
    const key = `${prefix}${i}`
    if (wanted(partitionOf(key, PARTITIONS))) keys.push(key)
  }
  return keys
}

const padding = (() => {
  const base = JSON.stringify({ id: "r0-c00000", pad: "" }).length
  return "x".repeat(Math.max(0, settings.payloadBytes - base))
})()

interface Command {
  readonly key: string
  readonly command: { readonly id: string; readonly pad: string }
}

const commandsFor = (tag: string, keys: ReadonlyArray<string>, n: number): ReadonlyArray<Command> =>
  Array.from({ length: n }, (_, i) => ({ key: keys[i % keys.length]!, command: { id: `${tag}-c${String(i).padStart(5, "0")}`, pad: padding } }))

/** Runs `f` over `items` with at most `concurrency` in flight. */
const pool = async <A>(items: ReadonlyArray<A>, concurrency: number, f: (a: A) => Promise<unknown>) => {
  let next = 0
  const worker = async () => {
    while (next < items.length) await f(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface Throughput {
  readonly commands: number
  /** First send → last PubAck. */
  readonly publishMs: number
  /** First send → last command handled. */
  readonly handledMs: number
  readonly publishPerSec: number
  readonly handledPerSec: number
  /** Cores the consuming host used meanwhile (null without /proc). */
  readonly hostCores: number | null
  readonly senderCores: number
  /** Receives that failed meanwhile (retried in place). */
  readonly failed: number
  /** The host's worst event-loop delay meanwhile, and the longest gap between its status lines. */
  readonly lagMaxMs: number
  readonly maxGapMs: number
}

/** The worst event-loop delay and status-line gap `host` reported between `from` and `to`. */
const loopOf = (host: Host, from: number, to: number) => {
  const lines = host.history.filter((s) => s.t >= from && s.t <= to + 100)
  let maxGapMs = 0
  for (let i = 1; i < lines.length; i++) maxGapMs = Math.max(maxGapMs, lines[i]!.t - lines[i - 1]!.t)
  return { lagMaxMs: Math.max(0, ...lines.map((s) => s.lagMaxMs ?? 0)), maxGapMs }
}

const cpuOf = (pid: number | undefined) => (pid === undefined ? null : processCpuSeconds(pid))

/** Sends with `send`, waits until `host` has handled them all (exactly: one more would be a duplicate). */
const measure = async (host: Host, commands: ReadonlyArray<Command>, send: (c: Command) => Promise<unknown>): Promise<Throughput> => {
  const before = await waitFor(host, "a status", () => true)
  const base = before.handled
  const target = base + commands.length
  const hostCpu0 = cpuOf(host.child.pid)
  const senderCpu0 = process.cpuUsage()
  const t0 = now()
  await pool(commands, settings.concurrency, send)
  const published = now()
  const done = await waitFor(host, `${commands.length} commands handled`, (s) => s.handled >= target)
  const hostCpu1 = cpuOf(host.child.pid)
  const senderCpu = process.cpuUsage(senderCpu0)
  const wallSeconds = (done.lastAt - t0) / 1000
  // a duplicate would show up as more than `target` once everything settled
  await sleep(200)
  if (host.latest!.handled !== target) throw new Error(`host ${host.name} handled ${host.latest!.handled - base} commands for ${commands.length} sent`)
  return {
    commands: commands.length,
    publishMs: published - t0,
    handledMs: done.lastAt - t0,
    publishPerSec: commands.length / ((published - t0) / 1000),
    handledPerSec: commands.length / wallSeconds,
    hostCores: hostCpu0 === null || hostCpu1 === null ? null : (hostCpu1 - hostCpu0) / wallSeconds,
    senderCores: (senderCpu.user + senderCpu.system) / 1e6 / wallSeconds,
    failed: host.latest!.failed - before.failed,
    ...loopOf(host, t0, done.t)
  }
}

const describe = (t: Throughput) =>
  `${fmtInt(t.handledPerSec).padStart(7)} commands/s (${fmtMs(t.handledMs)} ms; publish ${fmtInt(t.publishPerSec)}/s in ${fmtMs(t.publishMs)} ms; ` +
  `CPU host ${fmtCores(t.hostCores)} sender ${fmtCores(t.senderCores)}; host loop delay max ${fmtMs(t.lagMaxMs)} ms, status gap max ${fmtMs(t.maxGapMs)} ms)` +
  (t.failed > 0 ? `; ${t.failed} receives failed and were retried` : "")

interface ThroughputRound {
  readonly round: number
  readonly noopOne: Throughput
  readonly noopAll: Throughput
  readonly writeOne: Throughput
  readonly writeAll: Throughput
  readonly raw: Throughput
}

interface Handover {
  readonly signal: "SIGKILL" | "SIGTERM"
  readonly moved: number
  /** Signal → the survivor's first status line listing all partitions. */
  readonly ownedAllMs: number
  /** Signal → the last probe (one per moved partition) handled. */
  readonly probesMs: number
  /** The larger of the two: the handover. */
  readonly handoverMs: number
  /** Signal → the victim process gone. */
  readonly victimExitMs: number
}

// ---------------------------------------------------------------------------------------------
// The run

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

let databaseCreated = false

const main = async () => {
  const startedAt = new Date()
  console.log(
    `Actor runtime benchmark: ${settings.rounds} rounds × ${fmtInt(settings.commands)} commands over ${fmtInt(settings.keys)} keys, ` +
      `${settings.concurrency} publishes in flight, ${settings.payloadBytes}-byte commands, ${PARTITIONS} partitions, ` +
      `lease TTL ${settings.leaseTtlMillis} ms / tick ${settings.leaseTickMillis} ms (prefix ${prefixes.nats})`
  )
  // this process sends with the real Actors.send, configured like the hosts
  Object.assign(process.env, hostEnv("bench-sender"))
  const sender = ManagedRuntime.make(Actors.layer.pipe(Layer.provideMerge(Nats.layer), Layer.provide(ConfigLive)))
  const redis = new Redis(redisUrl, { keyPrefix: prefixes.redis, maxRetriesPerRequest: 1 })
  let nc: NatsConnection | undefined
  try {
    // the first host migrates the database and declares the topology
    databaseCreated = true
    const a = startHost("bench-a", { ...cpuProfileEnv() })
    await waitFor(a, `all ${PARTITIONS} partitions`, (s) => s.owned.length === PARTITIONS)
    console.log(`host bench-a owns all ${PARTITIONS} partitions`)
    const actors = await sender.runPromise(Actors.Actors)
    // a PubAck that times out (NATS starved on 2 cores) is retried under the same message id, as a
    // client should: JetStream stores the command once either way
    const sendVia = (kind: AnyKind) => (c: Command) =>
      sender.runPromise(actors.send(kind, c.key, c.command, { msgId: c.command.id }).pipe(
        Effect.retry({ times: 5, while: (e) => e._tag === "NatsError" })
      ))

    // the raw baseline's stream: MAILBOX's layout and limits under another subject
    nc = await connectNats({ servers: natsUrl, timeout: 3000 })
    const jsm = await jetstreamManager(nc)
    const mailbox = await jsm.streams.info(`${prefixes.nats}_MAILBOX`)
    await jsm.streams.add({
      name: RAW_STREAM,
      subjects: [`${prefixes.nats}.rawbench.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      duplicate_window: mailbox.config.duplicate_window,
      max_msg_size: mailbox.config.max_msg_size,
      max_msgs: mailbox.config.max_msgs
    })
    const partitionConsumer = await jsm.consumers.info(`${prefixes.nats}_MAILBOX`, (await firstConsumer(jsm, `${prefixes.nats}_MAILBOX`)))
    await jsm.consumers.add(RAW_STREAM, {
      durable_name: RAW_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: partitionConsumer.config.ack_wait ?? 30_000_000_000,
      max_ack_pending: partitionConsumer.config.max_ack_pending ?? 1024,
      max_deliver: -1,
      filter_subject: `${prefixes.nats}.rawbench.>`
    })
    const js = jetstream(nc)
    const encoder = new TextEncoder()
    const rawSend = (c: Command) =>
      js.publish(rawSubject("bnoop", partitionOf(c.key, PARTITIONS), c.key), encoder.encode(JSON.stringify(c.command)), { msgID: randomUUID() })
    const raw = startHost("bench-raw", { BENCH_HOST_MODE: "raw", BENCH_RAW_STREAM: RAW_STREAM, BENCH_RAW_CONSUMER: RAW_CONSUMER, BENCH_RAW_ACK: settings.rawAck })
    await waitFor(raw, "the raw consumer", () => true)

    const onePartition = keysWhere("one", settings.keys, (p) => p === 0)
    const spread = keysWhere("all", settings.keys, () => true)
    const spreadPartitions = new Set(spread.map((k) => partitionOf(k, PARTITIONS))).size
    console.log(`keys: ${fmtInt(onePartition.length)} in partition 0; ${fmtInt(spread.length)} spread over ${spreadPartitions} partitions`)

    // warm-up: JIT, connections, every partition's pull
    for (const [kind, keys] of [[BenchNoop, spread], [BenchWrite, spread], [BenchNoop, onePartition]] as const) {
      await measure(a, commandsFor(`w-${kind.name}-${keys[0]}`, keys, settings.warmupCommands), sendVia(kind))
    }
    await measure(raw, commandsFor("w-raw", spread, settings.warmupCommands), rawSend)
    console.log("warmed up")

    const rounds: Array<ThroughputRound> = []
    for (let round = 1; round <= settings.rounds; round++) {
      const run = async (label: string, host: Host, tag: string, keys: ReadonlyArray<string>, send: (c: Command) => Promise<unknown>) => {
        await sleep(300)
        const t = await measure(host, commandsFor(`r${round}-${tag}`, keys, settings.commands), send)
        console.log(`${new Date().toISOString().slice(11, 19)} [round ${round}/${settings.rounds}] ${label.padEnd(30)} ${describe(t)}`)
        return t
      }
      const noopOne = await run("no-op actor, one partition", a, "n1", onePartition, sendVia(BenchNoop))
      const noopAll = await run(`no-op actor, ${PARTITIONS} partitions`, a, "n64", spread, sendVia(BenchNoop))
      const writeOne = await run("Redis-write actor, one partition", a, "w1", onePartition, sendVia(BenchWrite))
      const writeAll = await run(`Redis-write actor, ${PARTITIONS} partitions`, a, "w64", spread, sendVia(BenchWrite))
      const rawT = await run("raw JetStream, one consumer", raw, "raw", spread, rawSend)
      rounds.push({ round, noopOne, noopAll, writeOne, writeAll, raw: rawT })
    }
    await stopHost(raw)

    // every fenced write landed exactly once: the counters add up to what bwrite was sent
    const writeKeys = [...onePartition, ...spread]
    const counts = await redis.mget(...writeKeys.map((k) => `bench:count:${k}`))
    const written = counts.reduce((n, c) => n + Number(c ?? 0), 0)
    const writeSent = settings.warmupCommands + settings.rounds * 2 * settings.commands
    const failed = a.latest!.failed
    // a write applied whose reply failed (a command timeout) is applied again by its retry: the
    // counters may exceed the commands by at most the failed receives, never fall short
    if (written < writeSent || written - writeSent > failed) {
      throw new Error(`Redis counters add up to ${written}, ${writeSent} bwrite commands were sent, ${failed} receives failed`)
    }
    const writes = { sent: writeSent, written, failed, errors: a.latest!.errors }
    console.log(`Redis counters: ${fmtInt(written)} fenced writes for ${fmtInt(writeSent)} bwrite commands; ${failed} receives failed and were retried` +
      (failed > 0 ? ` (${a.latest!.errors.join("; ")})` : ""))

    const handovers: Array<Handover> = []
    if (!settings.skipHandover) {
      const probeKeys = new Map<number, string>()
      for (let p = 0; p < PARTITIONS; p++) probeKeys.set(p, keysWhere(`probe${p}x`, 1, (q) => q === p)[0]!)
      let victims = 0
      for (const signal of ["SIGTERM", "SIGKILL"] as const) {
        for (let round = 1; round <= settings.rounds; round++) {
          const h = await handover(a, `bench-b${++victims}`, signal, probeKeys, redis, (key, id) =>
            sender.runPromise(actors.send(BenchNoop, key, { id, pad: padding, probe: true })))
          handovers.push(h)
          console.log(
            `${new Date().toISOString().slice(11, 19)} [${signal} ${round}/${settings.rounds}] ${h.moved} partitions moved: ` +
              `handover ${fmtMs(h.handoverMs)} ms (survivor owns all after ${fmtMs(h.ownedAllMs)} ms, last probe handled after ` +
              `${fmtMs(h.probesMs)} ms, victim gone after ${fmtMs(h.victimExitMs)} ms)`
          )
        }
      }
    }
    await stopHost(a)
    summarise(rounds, handovers, writes, startedAt)
  } finally {
    for (const h of [...hosts]) await stopHost(h)
    redis.disconnect()
    await nc?.close().catch(() => undefined)
    await sender.dispose().catch(() => undefined)
    await cleanup()
  }
}

const firstConsumer = async (jsm: Awaited<ReturnType<typeof jetstreamManager>>, stream: string): Promise<string> => {
  for await (const c of jsm.consumers.list(stream)) return c.name
  throw new Error(`no consumer on ${stream}`)
}

/**
 * Starts `victimName` next to `survivor`, waits until the partitions split, signals the victim,
 * sends a probe to a key of every partition it held, and waits until the survivor owns all of
 * them and every probe has been handled.
 */
const handover = async (
  survivor: Host,
  victimName: string,
  signal: "SIGKILL" | "SIGTERM",
  probeKeys: ReadonlyMap<number, string>,
  redis: Redis,
  sendProbe: (key: string, id: string) => Promise<unknown>
): Promise<Handover> => {
  const victim = startHost(victimName)
  const half = PARTITIONS / 2
  await waitFor(victim, `its ${half} partitions`, (s) => s.owned.length === half)
  await waitFor(survivor, `${half} partitions after ${victimName} joined`, (s) => s.owned.length === half)
  // both lists settled: every partition held by one of the two
  await sleep(Math.max(500, settings.leaseTickMillis))
  const moved = [...victim.latest!.owned]
  const held = new Set([...moved, ...survivor.latest!.owned])
  if (held.size !== PARTITIONS || victim.latest!.owned.length !== half) {
    throw new Error(`partitions not split: ${victimName} ${JSON.stringify(victim.latest!.owned)}, survivor ${JSON.stringify(survivor.latest!.owned)}`)
  }
  const probeIds = moved.map((p) => `${victimName}-${signal}-p${p}`)
  survivor.history = []
  const t0 = now()
  victim.child.kill(signal)
  await Promise.all(moved.map((p, i) => sendProbe(probeKeys.get(p)!, probeIds[i]!)))
  const timeout = settings.leaseTtlMillis + 60_000
  const all = await waitFor(survivor, `all ${PARTITIONS} partitions after ${signal}`, (s) => s.owned.length === PARTITIONS, timeout)
  const ownedAt = survivor.history.find((s) => s.owned.length === PARTITIONS)?.t ?? all.t
  const deadline = Date.now() + timeout
  let handledAt: Array<number | null> = []
  for (;;) {
    handledAt = (await redis.mget(...probeIds.map((id) => `bench:probe:${id}`))).map((v) => (v === null ? null : Number(v)))
    if (handledAt.every((v) => v !== null)) break
    if (Date.now() > deadline) throw new Error(`${handledAt.filter((v) => v === null).length} probes not handled after ${signal}`)
    await sleep(10)
  }
  await victim.exited
  const probesAt = Math.max(...(handledAt as Array<number>))
  return {
    signal,
    moved: moved.length,
    ownedAllMs: ownedAt - t0,
    probesMs: probesAt - t0,
    handoverMs: Math.max(ownedAt, probesAt) - t0,
    victimExitMs: victim.exitedAt! - t0
  }
}

// ---------------------------------------------------------------------------------------------
// Report

interface Writes {
  readonly sent: number
  readonly written: number
  readonly failed: number
  readonly errors: ReadonlyArray<string>
}

const summarise = (rounds: ReadonlyArray<ThroughputRound>, handovers: ReadonlyArray<Handover>, writes: Writes, startedAt: Date) => {
  const med = (f: (r: ThroughputRound) => number) => median(rounds.map(f))
  const rate = (pick: (r: ThroughputRound) => Throughput) => ({
    handled: med((r) => pick(r).handledPerSec),
    publish: med((r) => pick(r).publishPerSec),
    hostCores: med((r) => pick(r).hostCores ?? NaN),
    senderCores: med((r) => pick(r).senderCores),
    lagMaxMs: Math.max(...rounds.map((r) => pick(r).lagMaxMs))
  })
  const raw = rate((r) => r.raw)
  const scenarios = [
    ["no-op actor, one partition", rate((r) => r.noopOne)],
    [`no-op actor, ${PARTITIONS} partitions`, rate((r) => r.noopAll)],
    ["Redis-write actor, one partition", rate((r) => r.writeOne)],
    [`Redis-write actor, ${PARTITIONS} partitions`, rate((r) => r.writeAll)]
  ] as const
  const { goals } = settings
  const rows: Array<Row> = []
  for (const [label, s] of scenarios) {
    rows.push({ metric: `commands/s, ${label}`, value: `${fmtInt(s.handled)} /s`, goal: "—" })
    rows.push({ metric: "  … publish rate (Actors.send, PubAcked)", value: `${fmtInt(s.publish)} /s`, goal: "—" })
    rows.push({ metric: "  … CPU: host / sender", value: `${fmtCores(s.hostCores)} / ${fmtCores(s.senderCores)} cores`, goal: "—" })
    rows.push({ metric: "  … host event-loop delay, worst of all rounds", value: `${fmtMs(s.lagMaxMs)} ms`, goal: "—" })
  }
  rows.push({ metric: `raw JetStream, one pull consumer (${settings.rawAck} each)`, value: `${fmtInt(raw.handled)} /s`, goal: "—" })
  rows.push({ metric: "  … publish rate (js.publish, PubAcked)", value: `${fmtInt(raw.publish)} /s`, goal: "—" })
  rows.push({ metric: "  … CPU: consumer / sender", value: `${fmtCores(raw.hostCores)} / ${fmtCores(raw.senderCores)} cores`, goal: "—" })
  rows.push({ metric: "fenced Redis writes / bwrite commands sent", value: `${fmtInt(writes.written)} / ${fmtInt(writes.sent)}`, goal: "—" })
  rows.push({ metric: "  … receives failed, retried in place", value: fmtInt(writes.failed), goal: "—" })
  for (const [label, s] of scenarios) {
    const share = s.handled / raw.handled
    rows.push({ metric: `${label} / raw`, value: `${(share * 100).toFixed(1)} %`, goal: `≥ ${goals.shareOfRaw * 100} %`, met: share >= goals.shareOfRaw })
  }
  const summary = (signal: Handover["signal"]) => {
    const hs = handovers.filter((h) => h.signal === signal)
    return {
      rounds: hs.length,
      handoverMs: median(hs.map((h) => h.handoverMs)),
      worstMs: Math.max(...hs.map((h) => h.handoverMs)),
      ownedAllMs: median(hs.map((h) => h.ownedAllMs)),
      probesMs: median(hs.map((h) => h.probesMs)),
      victimExitMs: median(hs.map((h) => h.victimExitMs))
    }
  }
  const kill = summary("SIGKILL")
  const term = summary("SIGTERM")
  if (handovers.length > 0) {
    const ttl = `lease TTL ${settings.leaseTtlMillis / 1000} s, tick ${settings.leaseTickMillis / 1000} s`
    rows.push({ metric: `handover after kill -9 (${ttl}): median`, value: `${fmtMs(kill.handoverMs)} ms`, goal: `< ${goals.killMs / 1000} s`, met: kill.handoverMs < goals.killMs })
    rows.push({ metric: "  … worst round", value: `${fmtMs(kill.worstMs)} ms`, goal: `< ${goals.killMs / 1000} s`, met: kill.worstMs < goals.killMs })
    rows.push({ metric: "  … survivor owns all / probes handled", value: `${fmtMs(kill.ownedAllMs)} / ${fmtMs(kill.probesMs)} ms`, goal: "—" })
    rows.push({ metric: `handover after SIGTERM (${ttl}): median`, value: `${fmtMs(term.handoverMs)} ms`, goal: `< ${goals.termMs / 1000} s`, met: term.handoverMs < goals.termMs })
    rows.push({ metric: "  … worst round", value: `${fmtMs(term.worstMs)} ms`, goal: `< ${goals.termMs / 1000} s`, met: term.worstMs < goals.termMs })
    rows.push({ metric: "  … survivor owns all / probes handled", value: `${fmtMs(term.ownedAllMs)} / ${fmtMs(term.probesMs)} ms`, goal: "—" })
    rows.push({ metric: "  … victim exited (drained, released)", value: `${fmtMs(term.victimExitMs)} ms`, goal: "—" })
  }
  printTable(rows)
  console.log(
    `(medians over ${rounds.length} rounds of ${fmtInt(settings.commands)} commands; commands/s from the first send to the last command handled` +
      (handovers.length > 0 ? `; ${PARTITIONS / 2} partitions move in each handover, the survivor's sampled every 100 ms)` : ")")
  )
  writeJson(RESULTS_PATH, {
    date: startedAt.toISOString(),
    machine: machineInfo(),
    settings,
    table: rows,
    medians: {
      raw,
      ...Object.fromEntries(scenarios.map(([label, s]) => [label, { ...s, shareOfRaw: s.handled / raw.handled }])),
      ...(handovers.length > 0 ? { kill, term } : {})
    },
    writes,
    rounds,
    handovers,
    hostLogs: Object.fromEntries([...allHosts].map((h) => [h.name, Object.fromEntries(h.logs)]))
  })
  for (const h of allHosts) {
    if (h.logs.size > 0) console.log(`${h.name} logged: ${[...h.logs].map(([m, n]) => `${n} × ${m}`).join("; ")}`)
  }
}

const cleanup = () =>
  removeLeftovers([
    { what: `NATS streams and Redis keys of prefix ${prefixes.nats}`, remove: () => cleanupPrefixes(prefixes) },
    ...(databaseCreated && OWN_DATABASE ? [{ what: `database of ${DATABASE_URL}`, remove: () => dropDatabase(DATABASE_URL) }] : [])
  ])

runBenchmark(main, {
  stopMessage: "stopping the hosts",
  cleanup: async () => {
    for (const h of [...hosts]) h.child.kill("SIGKILL")
    await cleanup()
  },
  cleanupMillis: 10_000,
  children: () => [...hosts].map((h) => h.child)
})
