/**
 * WebSocket gateway benchmark: for each transport (uWS, then the standard node transport) the full
 * Aperture server runs as a child process and this measures
 *
 *   1. memory: the server's RSS (VmRSS from /proc, read right after two forced full GCs — see
 *      server-preload.mjs) idle, then with 10,000 idle authenticated sockets of 10,000 users, and
 *      the difference per socket;
 *   2. latency: 1,000 events/s published straight to JetStream (`<prefix>.inbox.<userId>`, the
 *      stored frame `{type:"bench", ts, payload:{sentAt}}`) round-robin over 2,000 of those users,
 *      timed from just before `js.publish` to receipt at the client (one machine, one clock), with
 *      all 10,000 sockets still open; p50 / p99 over the measured window (after a warm-up);
 *   3. maximum sustained deliveries/s: a closed loop publishes to the same 2,000 users as fast as
 *      the server keeps up, holding at most BENCH_WS_WINDOW frames published but not yet received
 *      (so the backlog, and with it the latency, stays bounded); the receive rate over the
 *      measured window is the figure;
 *   4. the uWS / standard ratio of each figure.
 * Two diagnostics without goals follow: the latency at BENCH_WS_LOW_RATE (below saturation), and
 * the closed loop over only BENCH_WS_FEW_TARGETS users (NATS 2.9 finds a socket's next frame by
 * scanning the stream from its cursor, so fewer users sharing the stream's traffic means shorter
 * scans). Each phase line also reports the cores used by the server, the nats-server, the client
 * workers, this process (the publisher) and everything else, and how long the server's main
 * thread waited for a core: the machine has two.
 *
 * Users (`wsb000001`…) are written into `aperture_bench_ws` directly with SQL once (a marker in the
 * database's comment lets later runs reuse them); each run makes one session per user (cookie
 * auth, as the web app), and deletes them at the end together with the run's NATS streams and
 * Redis keys. The sockets are opened by BENCH_WS_WORKERS forked workers (client.ts) so the load
 * generator is not one event loop, from several 127.0.0.x source addresses.
 *
 * Env: BENCH_WS_TRANSPORTS (default "uws,node"), BENCH_WS_SOCKETS (10000), BENCH_WS_TARGETS (2000),
 * BENCH_WS_RATE (1000), BENCH_WS_LOW_RATE (500), BENCH_WS_FEW_TARGETS (200), BENCH_DURATION seconds
 * per measured phase (10), BENCH_WS_WINDOW (4000),
 * BENCH_WS_WORKERS (2), BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/aperture_bench_ws),
 * BENCH_SERVER_ROOT (run the server from another checkout), BENCH_SERVER_CPU_PROFILE=<dir> (write
 * a .cpuprofile of each server; summarise with bench/support/profile-top.ts).
 * Run: `npm run bench:ws`.
 */
import { execFileSync, fork, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, readFileSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { jetstream, type JetStreamClient } from "@nats-io/jetstream"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import { fmtInt, fmtMs, machineInfo, writeJson } from "../accounts/report.ts"
import { assertAlive, REPO_ROOT, type Server, ServerError, sleep, startServer, stopServer } from "../accounts/server.ts"
import { deleteNatsPrefix, deleteRedisPrefix } from "../http/cleanup.ts"
import { baseServerEnv, benchDatabaseUrl, CPU_PROFILE_HOOK, cpuProfileDir, envInt, NO_RATE_LIMITS, SERVER_ROOT, serverSource } from "../support/env.ts"
import { natsUrl, prefixesOf, redisUrl, removeLeftovers, runBenchmark } from "../support/lifecycle.ts"
import { databaseName, reuseOrRebuild, type SeedInfo } from "../support/pgdb.ts"
import { CLOCK_TICKS_PER_SECOND, machineJiffies, processCpuSeconds } from "../support/proc.ts"
import type { Command, Event, SocketSpec } from "./client.ts"
import * as Seed from "./seed.ts"

// ---------------------------------------------------------------------------------------------
// Settings

type Transport = "uws" | "node"

const transports = (process.env["BENCH_WS_TRANSPORTS"] || "uws,node").split(",").map((t) => t.trim()) as Array<Transport>
for (const t of transports) if (t !== "uws" && t !== "node") throw new Error(`BENCH_WS_TRANSPORTS: unknown transport "${t}"`)

const settings = {
  sockets: envInt("BENCH_WS_SOCKETS", 10_000),
  targets: envInt("BENCH_WS_TARGETS", 2_000),
  rate: envInt("BENCH_WS_RATE", 1_000),
  /** Diagnostic, no goal: the same latency below saturation. */
  lowRate: envInt("BENCH_WS_LOW_RATE", 500),
  /**
   * Diagnostic, no goal: the closed loop over this few users. A socket reads its next frame with
   * `next_by_subj` from its cursor, which NATS 2.9's file store finds by scanning the stream from
   * there: the fewer users share the stream's traffic, the shorter that scan.
   */
  fewTargets: envInt("BENCH_WS_FEW_TARGETS", 200),
  durationSeconds: envInt("BENCH_DURATION", 10),
  warmupSeconds: 2,
  maxWindow: envInt("BENCH_WS_WINDOW", 4_000),
  /** Publishes awaiting their PubAck at most, so the publisher never floods NATS. */
  maxPendingAcks: 1_000,
  workers: envInt("BENCH_WS_WORKERS", 2),
  /** 127.0.0.1 … 127.0.0.N as source addresses: far fewer sockets per address than ephemeral ports. */
  sourceAddresses: 8,
  /** Upgrades in flight per worker while opening. */
  openConcurrency: 64,
  progressMs: 50,
  /** After the last publish of a phase, how long late frames may still arrive. */
  drainMillis: 5_000,
  goals: { rssMB: 500, p99Ms: 50 },
  otherCpuWarning: 0.3
} as const
if (settings.targets > settings.sockets) throw new Error("BENCH_WS_TARGETS must not exceed BENCH_WS_SOCKETS")

const DATABASE_URL = benchDatabaseUrl("aperture_bench_ws")
const RESULTS_PATH = fileURLToPath(new URL("./results.json", import.meta.url))
const CLIENT_PATH = fileURLToPath(new URL("./client.ts", import.meta.url))
const PRELOAD_PATH = fileURLToPath(new URL("./server-preload.mjs", import.meta.url))

const runId = randomBytes(4).toString("hex")
const prefixes = (t: Transport) => prefixesOf(`benchws${runId}${t}`)

const serverEnv = (t: Transport, memoryFile: string): Record<string, string> => {
  const preload = [`--import ${PRELOAD_PATH}`]
  if (cpuProfileDir() !== undefined) preload.push(`--import ${CPU_PROFILE_HOOK}`)
  return {
    ...baseServerEnv(t, DATABASE_URL, prefixes(t)),
    ...NO_RATE_LIMITS,
    BENCH_WS_MEMORY_FILE: memoryFile,
    NODE_OPTIONS: [process.env["NODE_OPTIONS"] ?? "", ...preload].join(" ").trim()
  }
}

const now = () => performance.timeOrigin + performance.now()
const at = () => new Date().toISOString().slice(11, 19)
const log = (line: string) => console.log(`${at()} ${line}`)

// ---------------------------------------------------------------------------------------------
// Process lifecycle

const workers = new Set<ChildProcess>()
const cleanups = new Set<Transport>()

const cleanupPrefixes = async (t: Transport) => {
  const p = prefixes(t)
  await removeLeftovers([
    { what: `NATS streams of ${p.nats}`, remove: () => deleteNatsPrefix(natsUrl, p.nats) },
    { what: `Redis keys of ${p.redis}`, remove: () => deleteRedisPrefix(redisUrl, p.redis) }
  ])
  cleanups.delete(t)
}

/** After a signal: the prefixes of the transports still running, then this run's sessions. */
const cleanupOnSignal = async () => {
  await Promise.race([Promise.allSettled([...cleanups].map(cleanupPrefixes)), sleep(3_000)])
  await Promise.race([Seed.deleteSessions(DATABASE_URL).catch(() => 0), sleep(2_000)])
}

/** Every socket is a descriptor on both ends: the server holds them all, each worker its share. */
const checkFileLimit = () => {
  const soft = Number(execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim())
  const need = settings.sockets + 1_024
  if (Number.isFinite(soft) && soft < need) {
    throw new Error(`ulimit -n is ${soft}; the server needs ${need} descriptors for ${fmtInt(settings.sockets)} sockets. ` +
      `Raise it (ulimit -n ${need}) or lower BENCH_WS_SOCKETS.`)
  }
  return soft
}

// ---------------------------------------------------------------------------------------------
// CPU: cores used by the server, the client workers, this process (the publisher) and the rest

const cpuSeconds = (pid: number | undefined): number => (pid === undefined ? 0 : processCpuSeconds(pid) ?? 0)
const machineBusySeconds = () => (machineJiffies()?.busy ?? 0) / CLOCK_TICKS_PER_SECOND

interface CpuUse {
  readonly server: number
  /**
   * Time the server's main thread was runnable but waiting for a core (/proc/<pid>/schedstat), as
   * a share of wall time: high means the machine, not the server, set the pace.
   */
  readonly serverWaiting: number
  readonly clients: number
  readonly publisher: number
  /** The nats-server process (0 when it could not be found). */
  readonly nats: number
  /** PostgreSQL, Redis — and anything else running on the machine (NATS too when not found). */
  readonly other: number
}

const runQueueSeconds = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e9
  } catch {
    return 0
  }
}

/** The nats-server serving NATS_URL's port, when it runs here (best effort: for the CPU split only). */
const natsServerPid = (() => {
  let cached: number | undefined | null = null
  return (): number | undefined => {
    if (cached !== null) return cached
    cached = undefined
    try {
      const port = new URL(natsUrl).port || "4222"
      const out = execFileSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      const m = /"nats-server",pid=(\d+)/.exec(out)
      if (m !== null) cached = Number(m[1])
    } catch {
      // no ss, or not allowed to see the owner: NATS stays part of "other"
    }
    return cached
  }
})()

const cpuMeter = (server: Server) => {
  const pids = () => ({ server: server.child.pid, clients: [...workers].map((w) => w.pid), nats: natsServerPid() })
  const read = () => {
    const p = pids()
    return {
      t: performance.now(),
      server: cpuSeconds(p.server),
      serverWaiting: runQueueSeconds(p.server),
      clients: p.clients.reduce<number>((s, pid) => s + cpuSeconds(pid), 0),
      publisher: cpuSeconds(process.pid),
      nats: cpuSeconds(p.nats),
      machine: machineBusySeconds()
    }
  }
  const start = read()
  return (): CpuUse => {
    const end = read()
    const secs = (end.t - start.t) / 1000
    const server = (end.server - start.server) / secs
    const clients = (end.clients - start.clients) / secs
    const publisher = (end.publisher - start.publisher) / secs
    const machine = (end.machine - start.machine) / secs
    const serverWaiting = (end.serverWaiting - start.serverWaiting) / secs
    const nats = (end.nats - start.nats) / secs
    return { server, serverWaiting, clients, publisher, nats, other: Math.max(0, machine - server - clients - publisher - nats) }
  }
}

const fmtCpu = (c: CpuUse) =>
  `CPU server ${c.server.toFixed(2)} (waiting for a core ${(c.serverWaiting * 100).toFixed(0)}% of the time) clients ${c.clients.toFixed(2)} publisher ${c.publisher.toFixed(2)} ` +
  `nats-server ${c.nats.toFixed(2)} other (PostgreSQL, Redis, rest) ${c.other.toFixed(2)}`

// ---------------------------------------------------------------------------------------------
// Memory

const vmRssBytes = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  if (m === null) throw new Error(`no VmRSS in /proc/${pid}/status`)
  return Number(m[1]) * 1024
}

interface Memory {
  readonly rssBytes: number
  readonly heapUsedBytes: number
  readonly heapTotalBytes: number
  readonly externalBytes: number
  readonly arrayBuffersBytes: number
}

/** Two full GCs in the server (SIGUSR2, see server-preload.mjs), a moment to settle, then VmRSS. */
const settledMemory = async (server: Server, memoryFile: string): Promise<Memory> => {
  const pid = server.child.pid!
  const asked = Date.now()
  server.child.kill("SIGUSR2")
  for (let i = 0; i < 100; i++) {
    if (existsSync(memoryFile)) {
      const usage = JSON.parse(readFileSync(memoryFile, "utf8")) as { at: number } & NodeJS.MemoryUsage
      if (usage.at >= asked) {
        await sleep(1_000)
        return {
          rssBytes: vmRssBytes(pid),
          heapUsedBytes: usage.heapUsed,
          heapTotalBytes: usage.heapTotal,
          externalBytes: usage.external,
          arrayBuffersBytes: usage.arrayBuffers
        }
      }
    }
    await sleep(100)
  }
  throw new ServerError(server, "the server did not answer SIGUSR2 with its memory usage (is server-preload.mjs loaded?)")
}

// ---------------------------------------------------------------------------------------------
// Client workers

interface Worker {
  readonly child: ChildProcess
  received: number
  readonly next: <K extends Event["ev"]>(ev: K) => Promise<Extract<Event, { ev: K }>>
  readonly send: (c: Command) => void
}

const startWorker = (): Worker => {
  const child = fork(CLIENT_PATH, [], {
    cwd: REPO_ROOT,
    execArgv: ["--import", "tsx"],
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  workers.add(child)
  const waiting = new Map<string, Array<(e: Event) => void>>()
  const worker: Worker = {
    child,
    received: 0,
    next: (ev) =>
      new Promise((resolve, reject) => {
        const list = waiting.get(ev) ?? []
        list.push(resolve as (e: Event) => void)
        waiting.set(ev, list)
        child.once("exit", (code) => reject(new Error(`a client worker exited (${code}) while run.ts waited for "${ev}"`)))
      }),
    send: (c) => child.send(c)
  }
  child.on("message", (e: Event) => {
    if (e.ev === "progress") worker.received = e.received
    const list = waiting.get(e.ev)
    const resolve = list?.shift()
    if (resolve !== undefined) resolve(e)
  })
  child.once("exit", () => workers.delete(child))
  return worker
}

const stopWorkers = async (ws: ReadonlyArray<Worker>) => {
  await Promise.all(ws.map(async (w) => {
    if (w.child.exitCode !== null) return
    const closed = w.next("closed").catch(() => undefined)
    w.send({ cmd: "close" })
    await Promise.race([closed, sleep(5_000)])
    w.child.kill("SIGTERM")
  }))
}

// ---------------------------------------------------------------------------------------------
// Publishing and the measured phases

const percentile = (sorted: Float64Array, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

interface Receipts {
  readonly sentAt: Float64Array
  readonly receivedAt: Float64Array
  readonly duplicates: number
  readonly closes: Record<string, number>
  readonly open: number
}

const collect = async (ws: ReadonlyArray<Worker>): Promise<Receipts> => {
  const reports = await Promise.all(ws.map((w) => {
    const r = w.next("report")
    w.send({ cmd: "report" })
    return r
  }))
  const total = reports.reduce((n, r) => n + r.sentAt.length, 0)
  const sentAt = new Float64Array(total)
  const receivedAt = new Float64Array(total)
  let offset = 0
  const closes: Record<string, number> = {}
  for (const r of reports) {
    sentAt.set(r.sentAt, offset)
    receivedAt.set(r.receivedAt, offset)
    offset += r.sentAt.length
    for (const [code, n] of Object.entries(r.closes)) closes[code] = (closes[code] ?? 0) + n
  }
  return { sentAt, receivedAt, duplicates: reports.reduce((n, r) => n + r.duplicates, 0), closes, open: reports.reduce((n, r) => n + r.open, 0) }
}

class Publisher {
  private readonly encoder = new TextEncoder()
  private next = 0
  published = 0
  pending = 0
  failed = 0
  lastError: string | undefined
  /** Publish times within the measured window, to count what should have arrived. */
  windowFrom = Infinity
  windowTo = Infinity
  inWindow = 0

  constructor(private readonly js: JetStreamClient, private readonly subjects: ReadonlyArray<string>) {}

  publishOne(): void {
    const subject = this.subjects[this.next++ % this.subjects.length]!
    const sentAt = now()
    if (sentAt >= this.windowFrom && sentAt < this.windowTo) this.inWindow++
    // the stored frame, as src/streams/Inbox.ts writes it
    const body = `{"type":"bench","ts":"${new Date(sentAt).toISOString()}","payload":{"sentAt":${sentAt}}}`
    this.published++
    this.pending++
    this.js.publish(subject, this.encoder.encode(body), { timeout: 10_000 }).then(
      () => {
        this.pending--
      },
      (e: unknown) => {
        this.pending--
        this.failed++
        this.lastError = e instanceof Error ? e.message : String(e)
      }
    )
  }
}

interface PhaseResult {
  readonly label: string
  readonly published: number
  readonly publishFailures: number
  readonly lastPublishError?: string
  /** Published within the measured window. */
  readonly expected: number
  /** Of those, received (by publish time within the window). */
  readonly received: number
  readonly duplicates: number
  /** Receipts per second over the measured window (by receipt time). */
  readonly deliveriesPerSec: number
  readonly publishedPerSec: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly serverCloses: Record<string, number>
  readonly cpu: CpuUse
}

const summarisePhase = (label: string, pub: Publisher, r: Receipts, from: number, to: number, cpu: CpuUse): PhaseResult => {
  const latencies: Array<number> = []
  let deliveredInWindow = 0
  for (let i = 0; i < r.sentAt.length; i++) {
    const s = r.sentAt[i]!
    if (s >= from && s < to) latencies.push(r.receivedAt[i]! - s)
    const got = r.receivedAt[i]!
    if (got >= from && got < to) deliveredInWindow++
  }
  const sorted = Float64Array.from(latencies).sort()
  const secs = (to - from) / 1000
  return {
    label,
    published: pub.published,
    publishFailures: pub.failed,
    ...(pub.lastError === undefined ? {} : { lastPublishError: pub.lastError }),
    expected: pub.inWindow,
    received: latencies.length,
    duplicates: r.duplicates,
    deliveriesPerSec: deliveredInWindow / secs,
    publishedPerSec: pub.inWindow / secs,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
    serverCloses: r.closes,
    cpu
  }
}

const describePhase = (p: PhaseResult) =>
  `${fmtInt(p.deliveriesPerSec).padStart(6)} deliveries/s (${fmtInt(p.publishedPerSec)} published/s)  ` +
  `p50 ${fmtMs(p.p50Ms)} p90 ${fmtMs(p.p90Ms)} p99 ${fmtMs(p.p99Ms)} max ${fmtMs(p.maxMs)} ms  ` +
  `received ${fmtInt(p.received)}/${fmtInt(p.expected)}` +
  (p.duplicates > 0 ? ` DUPLICATES ${p.duplicates}` : "") +
  (p.publishFailures > 0 ? ` PUBLISH FAILURES ${p.publishFailures} (${p.lastPublishError})` : "") +
  (Object.keys(p.serverCloses).length > 0 ? ` closed by the server: ${JSON.stringify(p.serverCloses)}` : "") +
  `\n           ${fmtCpu(p.cpu)}`

const received = (ws: ReadonlyArray<Worker>) => ws.reduce((n, w) => n + w.received, 0)

/** Waits until every frame published so far has arrived (or the drain time is up). */
const drain = async (pub: Publisher, ws: ReadonlyArray<Worker>) => {
  const deadline = Date.now() + settings.drainMillis
  while (Date.now() < deadline && (received(ws) < pub.published || pub.pending > 0)) await sleep(settings.progressMs)
}

const startRecording = async (ws: ReadonlyArray<Worker>) => {
  for (const w of ws) {
    w.received = 0
    w.send({ cmd: "record", progressMs: settings.progressMs })
  }
  await sleep(100)
}

/** Open loop at a fixed rate: publishes due by now, every millisecond or so. */
const pacedPhase = async (server: Server, ws: ReadonlyArray<Worker>, js: JetStreamClient, subjects: ReadonlyArray<string>, rate: number) => {
  const pub = new Publisher(js, subjects)
  await startRecording(ws)
  const start = now()
  pub.windowFrom = start + settings.warmupSeconds * 1000
  pub.windowTo = pub.windowFrom + settings.durationSeconds * 1000
  let meter: (() => CpuUse) | undefined
  for (;;) {
    const t = now()
    if (meter === undefined && t >= pub.windowFrom) meter = cpuMeter(server)
    if (t >= pub.windowTo) break
    const due = Math.floor(((t - start) * rate) / 1000)
    while (pub.published < due) pub.publishOne()
    await sleep(1)
  }
  const cpu = meter!()
  await drain(pub, ws)
  assertAlive(server, "the latency phase")
  return summarisePhase(`${fmtInt(rate)} events/s`, pub, await collect(ws), pub.windowFrom, pub.windowTo, cpu)
}

/** Closed loop: keeps at most `maxWindow` frames published but not yet received. */
const maxPhase = async (server: Server, ws: ReadonlyArray<Worker>, js: JetStreamClient, subjects: ReadonlyArray<string>) => {
  const pub = new Publisher(js, subjects)
  await startRecording(ws)
  const start = now()
  pub.windowFrom = start + settings.warmupSeconds * 1000
  pub.windowTo = pub.windowFrom + settings.durationSeconds * 1000
  let meter: (() => CpuUse) | undefined
  let full = 0
  let ticks = 0
  for (;;) {
    const t = now()
    if (meter === undefined && t >= pub.windowFrom) meter = cpuMeter(server)
    if (t >= pub.windowTo) break
    const outstanding = () => pub.published - received(ws)
    while (outstanding() < settings.maxWindow && pub.pending < settings.maxPendingAcks) pub.publishOne()
    if (t >= pub.windowFrom) {
      ticks++
      if (outstanding() >= settings.maxWindow) full++
    }
    await sleep(1)
  }
  const cpu = meter!()
  await drain(pub, ws)
  assertAlive(server, "the throughput phase")
  const result = summarisePhase("max", pub, await collect(ws), pub.windowFrom, pub.windowTo, cpu)
  // mostly full: the server (or the clients) set the pace; mostly not: the publisher or NATS did
  return { ...result, windowFullShare: ticks === 0 ? 0 : full / ticks }
}

// ---------------------------------------------------------------------------------------------
// One transport

interface TransportResult {
  readonly transport: Transport
  readonly sockets: {
    readonly open: number
    readonly failed: number
    readonly errors: ReadonlyArray<string>
    readonly openPerSec: number
    readonly cpu: CpuUse
  }
  readonly memoryIdle: Memory
  readonly memoryWithSockets: Memory
  readonly rssPerSocketKB: number
  readonly latency: PhaseResult
  readonly latencyLow: PhaseResult
  readonly max: PhaseResult & { readonly windowFullShare: number }
  readonly maxFew: PhaseResult & { readonly windowFullShare: number }
}

const mb = (bytes: number) => bytes / 2 ** 20

const runTransport = async (t: Transport, users: ReadonlyArray<Seed.BenchUser>, tokens: ReadonlyArray<string>, nc: NatsConnection): Promise<TransportResult> => {
  const memoryFile = path.join(os.tmpdir(), `bench-ws-${runId}-${t}.json`)
  rmSync(memoryFile, { force: true })
  console.log(`\n=== ${t} ===`)
  cleanups.add(t)
  const server = await startServer(SERVER_ROOT, serverEnv(t, memoryFile))
  const ws: Array<Worker> = []
  try {
    await sleep(2_000)
    const memoryIdle = await settledMemory(server, memoryFile)
    log(`server up (pid ${server.child.pid}); idle RSS ${mb(memoryIdle.rssBytes).toFixed(1)} MB, heap ${mb(memoryIdle.heapUsedBytes).toFixed(1)} MB`)

    // socket i: worker i mod W; source addresses rotate within each worker's share
    const shares: Array<Array<SocketSpec>> = Array.from({ length: settings.workers }, () => [])
    users.forEach((_, i) => {
      const share = shares[i % settings.workers]!
      share.push({ token: tokens[i]!, localAddress: `127.0.0.${1 + (share.length % settings.sourceAddresses)}` })
    })
    for (let i = 0; i < settings.workers; i++) ws.push(startWorker())
    const url = `ws://127.0.0.1:${server.port}/ws`
    const openStarted = performance.now()
    const openMeter = cpuMeter(server)
    const opened = await Promise.all(ws.map((w, i) => {
      const done = w.next("opened")
      w.send({ cmd: "open", url, sockets: shares[i]!, concurrency: settings.openConcurrency })
      return done
    }))
    const openSeconds = (performance.now() - openStarted) / 1000
    const openCpu = openMeter()
    const open = opened.reduce((n, o) => n + o.open, 0)
    const failed = opened.reduce((n, o) => n + o.failed, 0)
    const errors = opened.flatMap((o) => o.errors)
    log(`${fmtInt(open)} sockets open in ${openSeconds.toFixed(1)} s (${fmtInt(open / openSeconds)}/s)` +
      (failed > 0 ? `, ${fmtInt(failed)} FAILED` : "") + (errors.length > 0 ? `; retried errors: ${errors.join("; ")}` : "") + `\n           ${fmtCpu(openCpu)}`)
    assertAlive(server, "opening the sockets")
    if (open < users.length * 0.99) throw new ServerError(server, `only ${open} of ${users.length} sockets opened`)

    // every socket has sent its ping (live delivery started); let the set-up work finish
    await sleep(3_000)
    const memoryWithSockets = await settledMemory(server, memoryFile)
    const rssPerSocketKB = (memoryWithSockets.rssBytes - memoryIdle.rssBytes) / open / 1024
    log(`RSS with ${fmtInt(open)} sockets ${mb(memoryWithSockets.rssBytes).toFixed(1)} MB ` +
      `(${rssPerSocketKB.toFixed(1)} KB per socket), heap ${mb(memoryWithSockets.heapUsedBytes).toFixed(1)} MB`)

    const js = jetstream(nc)
    const { nats } = prefixes(t)
    const subjects = users.slice(0, settings.targets).map((u) => `${nats}.inbox.${u.id}`)
    const phaseTime = `${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s measured`
    const paced = async (rate: number) => {
      log(`latency: ${fmtInt(rate)} events/s over ${fmtInt(subjects.length)} users, ${phaseTime}`)
      const result = await pacedPhase(server, ws, js, subjects, rate)
      log(`  ${describePhase(result)}`)
      await sleep(1_000)
      return result
    }
    const closedLoop = async (over: ReadonlyArray<string>) => {
      log(`throughput: closed loop, ≤ ${fmtInt(settings.maxWindow)} frames outstanding over ${fmtInt(over.length)} users, ${phaseTime}`)
      const result = await maxPhase(server, ws, js, over)
      log(`  ${describePhase(result)}\n           window full ${(result.windowFullShare * 100).toFixed(0)}% of the time`)
      await sleep(1_000)
      return result
    }
    const latency = await paced(settings.rate)
    const latencyLow = await paced(settings.lowRate)
    const max = await closedLoop(subjects)
    const maxFew = await closedLoop(subjects.slice(0, settings.fewTargets))
    return {
      transport: t,
      sockets: { open, failed, errors, openPerSec: open / openSeconds, cpu: openCpu },
      memoryIdle,
      memoryWithSockets,
      rssPerSocketKB,
      latency,
      latencyLow,
      max,
      maxFew
    }
  } finally {
    await stopWorkers(ws)
    await stopServer(server)
    rmSync(memoryFile, { force: true })
    await cleanupPrefixes(t)
  }
}

// ---------------------------------------------------------------------------------------------
// Summary

interface Line {
  readonly metric: string
  readonly value: (r: TransportResult) => number
  readonly format: (n: number) => string
  readonly goal?: { readonly text: string; readonly met: (r: TransportResult) => boolean }
}

const lines = (): ReadonlyArray<Line> => {
  const MB = (n: number) => `${n.toFixed(0)} MB`
  const ms = (n: number) => `${fmtMs(n)} ms`
  const rate = `@ ${fmtInt(settings.rate)} ev/s over ${fmtInt(settings.targets)} sockets`
  return [
    { metric: "server RSS idle (after GC)", value: (r) => mb(r.memoryIdle.rssBytes), format: MB },
    {
      metric: `server RSS, ${fmtInt(settings.sockets)} idle sockets`,
      value: (r) => mb(r.memoryWithSockets.rssBytes),
      format: MB,
      goal: { text: `< ${settings.goals.rssMB} MB (uWS)`, met: (r) => mb(r.memoryWithSockets.rssBytes) < settings.goals.rssMB && r.sockets.open >= settings.sockets }
    },
    { metric: "  … per socket (RSS delta)", value: (r) => r.rssPerSocketKB, format: (n) => `${n.toFixed(1)} KB` },
    { metric: "  … JS heap used", value: (r) => mb(r.memoryWithSockets.heapUsedBytes), format: MB },
    { metric: "sockets opened per second", value: (r) => r.sockets.openPerSec, format: fmtInt },
    { metric: `latency p50 ${rate}`, value: (r) => r.latency.p50Ms, format: ms },
    {
      metric: `latency p99 ${rate}`,
      value: (r) => r.latency.p99Ms,
      format: ms,
      goal: {
        text: `< ${settings.goals.p99Ms} ms`,
        met: (r) => r.latency.p99Ms < settings.goals.p99Ms && r.latency.received === r.latency.expected && r.latency.duplicates === 0
      }
    },
    { metric: "  … delivered / published", value: (r) => r.latency.received / Math.max(1, r.latency.expected), format: (n) => `${(n * 100).toFixed(1)} %` },
    { metric: "  … server CPU (cores)", value: (r) => r.latency.cpu.server, format: (n) => n.toFixed(2) },
    { metric: "  … nats-server CPU (cores)", value: (r) => r.latency.cpu.nats, format: (n) => n.toFixed(2) },
    { metric: `latency p50 @ ${fmtInt(settings.lowRate)} ev/s (diagnostic)`, value: (r) => r.latencyLow.p50Ms, format: ms },
    { metric: `  … p99`, value: (r) => r.latencyLow.p99Ms, format: ms },
    { metric: `max sustained deliveries/s (${fmtInt(settings.targets)} users)`, value: (r) => r.max.deliveriesPerSec, format: fmtInt },
    { metric: `  … latency p50 (≤ ${fmtInt(settings.maxWindow)} queued)`, value: (r) => r.max.p50Ms, format: ms },
    { metric: "  … p99", value: (r) => r.max.p99Ms, format: ms },
    { metric: "  … server CPU (cores)", value: (r) => r.max.cpu.server, format: (n) => n.toFixed(2) },
    { metric: "  … nats-server CPU (cores)", value: (r) => r.max.cpu.nats, format: (n) => n.toFixed(2) },
    { metric: "  … server waiting for a core", value: (r) => r.max.cpu.serverWaiting, format: (n) => `${(n * 100).toFixed(0)} %` },
    { metric: `max deliveries/s over ${fmtInt(settings.fewTargets)} users (diagnostic)`, value: (r) => r.maxFew.deliveriesPerSec, format: fmtInt },
    { metric: "  … nats-server CPU (cores)", value: (r) => r.maxFew.cpu.nats, format: (n) => n.toFixed(2) }
  ]
}

const printSummary = (results: ReadonlyArray<TransportResult>) => {
  const uws = results.find((r) => r.transport === "uws")
  const node = results.find((r) => r.transport === "node")
  const header = ["metric", ...results.map((r) => r.transport), ...(uws && node ? ["uws/node"] : []), "goal", "met?"]
  const rows = lines().map((l) => {
    const met = l.goal === undefined ? "" : results.map((r) => `${r.transport} ${l.goal!.met(r) ? "yes" : "NO"}`).join(", ")
    return [
      l.metric,
      ...results.map((r) => l.format(l.value(r))),
      ...(uws && node ? [`${(l.value(uws) / l.value(node)).toFixed(2)}×`] : []),
      l.goal?.text ?? "—",
      met
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i]!.length)))
  const right = (i: number) => i > 0 && i <= results.length + (uws && node ? 1 : 0)
  const line = (c: ReadonlyArray<string>) => c.map((v, i) => (right(i) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(" | ")
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("-|-")}`)
  for (const c of rows) console.log(line(c))
  return { header, rows }
}

// ---------------------------------------------------------------------------------------------

const ensureUsers = async (): Promise<SeedInfo<Seed.Marker>> => {
  const existing = await Seed.readMarker(DATABASE_URL)
  return reuseOrRebuild(DATABASE_URL, existing, (m) => m.users >= settings.sockets, async () => {
    log(`seeding ${databaseName(DATABASE_URL)} with ${fmtInt(settings.sockets)} users (starting the server once to migrate)`)
    cleanups.add(transports[0]!)
    await stopServer(await startServer(SERVER_ROOT, serverEnv(transports[0]!, path.join(os.tmpdir(), `bench-ws-${runId}-seed.json`))))
    await cleanupPrefixes(transports[0]!)
    return Seed.seed(DATABASE_URL, settings.sockets)
  })
}

const main = async () => {
  const startedAt = new Date()
  const fileLimit = checkFileLimit()
  console.log(
    `WebSocket benchmark: ${transports.join(", ")}; ${fmtInt(settings.sockets)} sockets, ` +
      `${fmtInt(settings.rate)} events/s over ${fmtInt(settings.targets)}, ${settings.durationSeconds} s per phase ` +
      `(${os.cpus().length} CPUs, node ${process.version}, ulimit -n ${fileLimit}, run ${runId}, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")})` +
      (SERVER_ROOT === REPO_ROOT ? "" : `\nserver from ${SERVER_ROOT}`)
  )
  const seed = await ensureUsers()
  log(`${seed.reused ? "reusing" : "seeded"} ${fmtInt(seed.marker.users)} users in ${databaseName(DATABASE_URL)}`)
  await Seed.deleteSessions(DATABASE_URL) // an interrupted run may have left some
  const users = await Seed.loadUsers(DATABASE_URL, settings.sockets)
  const tokens = await Seed.createSessions(DATABASE_URL, users.map((u) => u.id))
  // without async traces a publish costs ~10% less: this process shares the two cores with the server
  const nc = await connect({ servers: natsUrl, name: `bench-ws-${runId}`, noAsyncTraces: true })
  const results: Array<TransportResult> = []
  try {
    for (const t of transports) results.push(await runTransport(t, users, tokens, nc))
  } finally {
    await nc.close().catch(() => undefined)
    const removed = await Seed.deleteSessions(DATABASE_URL)
    console.log(`\nremoved this run's ${fmtInt(removed)} sessions; NATS streams and Redis keys of its prefixes deleted`)
  }
  const table = printSummary(results)
  const busy = results.filter((r) =>
    [r.latency, r.latencyLow, r.max, r.maxFew].some((p) => p.cpu.other > settings.otherCpuWarning))
  if (busy.length > 0) {
    console.log(`WARNING: other processes (PostgreSQL, Redis, anything else) used > ${settings.otherCpuWarning} cores during ` +
      `${busy.map((r) => r.transport).join(", ")}; the figures are then lower bounds of what the server can do`)
  }
  console.log("latency: from just before js.publish to receipt at the client; all sockets stay open meanwhile")
  writeJson(RESULTS_PATH, {
    date: startedAt.toISOString(),
    machine: machineInfo(),
    settings: { ...settings, transports },
    server: serverSource(),
    seed,
    table,
    results
  })
}

runBenchmark(main, {
  stopMessage: "stopping the server and the clients",
  cleanup: cleanupOnSignal,
  cleanupMillis: 5_000,
  children: () => workers,
  onSignal: () => {
    for (const w of workers) w.kill("SIGKILL")
  }
})
