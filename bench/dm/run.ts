/**
 * Direct-message benchmark: the full Aperture server (uWS) as a child process on a database of its
 * own and the run's NATS and Redis prefixes, BENCH_DM_THREADS 1:1 threads seeded straight into
 * PostgreSQL, and every member's WebSocket open (session cookie, `resume` after `hello`) in
 * BENCH_DM_WORKERS forked workers (client.ts). In one run it measures
 *
 *   1. latency at a fixed rate: BENCH_DM_RATE sends/s (POST /conversations/:id/messages, round-robin
 *      over the threads, the two members taking turns), open loop, for BENCH_DURATION seconds after
 *      a warm-up: send → recipient socket (the `message` frame's receipt minus the time the POST was
 *      issued; the send time travels in the text), and the POST's own latency. Every non-201 status
 *      (a 503 means an actor's answer did not come in time) is counted and reported. At most
 *      500 sends wait for their answer; a send due past that is skipped and counted (the server is
 *      then far behind, and each would wait out DM_REPLY_TIMEOUT_MS);
 *   2. sustained messages/s: closed-loop senders at each of BENCH_DM_CONCURRENCY (each lane sends,
 *      waits for its 201, sends again) over the same threads; messages/s and the POST's p99;
 *   3. the floor, right after each closed-loop step at the same concurrency: the same writes done
 *      here with SQL (one transaction per message: UPDATE conversations … RETURNING last_seq,
 *      INSERT INTO messages) on a pool as large as the server's (20), plus one core NATS publish per
 *      member; the actor path's messages/s and p99 are printed as a share of the floor's;
 *   4. history: GET /conversations/:id/messages?limit=30 on a thread of BENCH_DM_HISTORY messages
 *      (seeded with SQL), the latest page and pages at older cursors (collected by walking the
 *      thread once), BENCH_DM_HISTORY_REQUESTS requests at BENCH_DM_HISTORY_CONCURRENCY in flight.
 *      The reader has read nothing (read_seq 0), so its membership's unread count spans the thread.
 *
 * A send answered late or with 503 is still a durable command and is applied later: after each
 * phase through the server the next one waits until every message sent so far is in PostgreSQL
 * (the threads' `last_seq` sum), so no phase measures the previous one's backlog; the wait is
 * reported. The load generator (HTTP senders, the floor) runs in this process, on the same two cores as the
 * server, PostgreSQL and NATS: each phase line says how many cores the server used. Prints a table,
 * writes bench/dm/results.json, removes the run's database, NATS streams and Redis keys.
 *
 * Env: BENCH_DM_THREADS (1000), BENCH_DM_RATE (1000), BENCH_DURATION seconds measured (20),
 * BENCH_DM_STEP_SECONDS per closed-loop step (10), BENCH_DM_CONCURRENCY ("16,64,128"),
 * BENCH_DM_HISTORY (10000), BENCH_DM_HISTORY_REQUESTS (2000), BENCH_DM_HISTORY_CONCURRENCY (4),
 * BENCH_DM_WORKERS (2), BENCH_DATABASE_URL (a database of its own otherwise), BENCH_SERVER_ROOT,
 * BENCH_SERVER_CPU_PROFILE=<dir>. Run: `npm run bench:dm`.
 */
import { fork, type ChildProcess } from "node:child_process"
import { randomBytes, randomUUID } from "node:crypto"
import * as http from "node:http"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import pg from "pg"
import { fmtCores, fmtInt, fmtMs, machineInfo, printTable, type Row, writeJson } from "../accounts/report.ts"
import { assertAlive, REPO_ROOT, type Server, ServerError, sleep, startServer, stopServer } from "../accounts/server.ts"
import { baseServerEnv, benchDatabaseUrl, cpuProfileEnv, envInt, NO_RATE_LIMITS, SERVER_ROOT, serverSource, UNLIMITED } from "../support/env.ts"
import { cleanupPrefixes, natsUrl, prefixesOf, removeLeftovers, runBenchmark } from "../support/lifecycle.ts"
import { dropDatabase } from "../support/pgdb.ts"
import { machineJiffies, processCpuSeconds, CLOCK_TICKS_PER_SECOND } from "../support/proc.ts"
import type { Command, Event, SocketSpec } from "./client.ts"
import * as Seed from "./seed.ts"

// ---------------------------------------------------------------------------------------------
// Settings

const settings = {
  threads: envInt("BENCH_DM_THREADS", 1_000),
  rate: envInt("BENCH_DM_RATE", 1_000),
  durationSeconds: envInt("BENCH_DURATION", 20),
  warmupSeconds: 5,
  stepSeconds: envInt("BENCH_DM_STEP_SECONDS", 10),
  stepWarmupSeconds: 2,
  concurrency: (process.env["BENCH_DM_CONCURRENCY"] || "16,64,128").split(",").map((c) => Number(c.trim())),
  historyMessages: envInt("BENCH_DM_HISTORY", 10_000),
  historyRequests: envInt("BENCH_DM_HISTORY_REQUESTS", 2_000),
  historyConcurrency: envInt("BENCH_DM_HISTORY_CONCURRENCY", 4),
  pageLimit: 30,
  workers: envInt("BENCH_DM_WORKERS", 2),
  sourceAddresses: 8,
  openConcurrency: 64,
  progressMs: 50,
  drainMillis: 5_000,
  /** The server's PostgreSQL pool (src/db/Database.ts): the floor gets as many connections. */
  floorPoolSize: 20,
  httpSockets: 512,
  /**
   * Open loop only: sends awaiting their answer at most. Past it the server is far behind (each
   * waits up to DM_REPLY_TIMEOUT_MS, then 503s) and a send due is skipped and counted, so an
   * overloaded run ends in minutes instead of queueing the whole phase.
   */
  maxInFlight: 500,
  /** After a phase through the server: how long its queued commands may take to be applied. */
  backlogMillis: 180_000,
  goals: { deliveryP99Ms: 25, historyP99Ms: 15 }
} as const
for (const c of settings.concurrency) if (!Number.isInteger(c) || c < 1) throw new Error("BENCH_DM_CONCURRENCY: positive integers, comma-separated")

// a database of its own, dropped at the end (never one given in BENCH_DATABASE_URL)
const OWN_DATABASE = process.env["BENCH_DATABASE_URL"] === undefined
const runId = randomBytes(4).toString("hex")
const DATABASE_URL = benchDatabaseUrl(`aperture_bench_dm_${runId}`)
const RESULTS_PATH = fileURLToPath(new URL("./results.json", import.meta.url))
const CLIENT_PATH = fileURLToPath(new URL("./client.ts", import.meta.url))
const prefixes = prefixesOf(`benchdm${runId}`)

const serverEnv = (): Record<string, string> => ({
  ...baseServerEnv("uws", DATABASE_URL, prefixes),
  ...NO_RATE_LIMITS,
  RATE_DM_SENDS_PER_MINUTE: UNLIMITED,
  RATE_DM_THREADS_PER_HOUR: UNLIMITED,
  ...cpuProfileEnv()
})

const now = () => performance.timeOrigin + performance.now()
const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`)

const percentile = (sorted: ArrayLike<number>, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
const sortedOf = (xs: ReadonlyArray<number>) => Float64Array.from(xs).sort()

// ---------------------------------------------------------------------------------------------
// CPU: cores the server used, and the whole machine, over a phase

const cpuMeter = (server: Server) => {
  const read = () => ({ t: performance.now(), server: processCpuSeconds(server.child.pid!) ?? 0, machine: (machineJiffies()?.busy ?? 0) / CLOCK_TICKS_PER_SECOND, self: processCpuSeconds(process.pid) ?? 0 })
  const start = read()
  return () => {
    const end = read()
    const secs = (end.t - start.t) / 1000
    return { server: (end.server - start.server) / secs, loadgen: (end.self - start.self) / secs, machine: (end.machine - start.machine) / secs }
  }
}
type CpuUse = ReturnType<ReturnType<typeof cpuMeter>>
const fmtCpu = (c: CpuUse) => `CPU server ${fmtCores(c.server)} loadgen ${fmtCores(c.loadgen)} machine ${fmtCores(c.machine)} of ${os.cpus().length}`

// ---------------------------------------------------------------------------------------------
// Socket workers

const workers = new Set<ChildProcess>()

interface Worker {
  readonly child: ChildProcess
  received: number
  readonly next: <K extends Event["ev"]>(ev: K) => Promise<Extract<Event, { ev: K }>>
  readonly send: (c: Command) => void
}

const startWorker = (): Worker => {
  const child = fork(CLIENT_PATH, [], { cwd: REPO_ROOT, execArgv: ["--import", "tsx"], serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] })
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
        child.once("exit", (code) => reject(new Error(`a socket worker exited (${code}) while run.ts waited for "${ev}"`)))
      }),
    send: (c) => child.send(c)
  }
  child.on("message", (e: Event) => {
    if (e.ev === "progress") worker.received = e.received
    waiting.get(e.ev)?.shift()?.(e)
  })
  child.once("exit", () => workers.delete(child))
  return worker
}

const stopWorkers = (ws: ReadonlyArray<Worker>) =>
  Promise.all(ws.map(async (w) => {
    if (w.child.exitCode !== null) return
    const closed = w.next("closed").catch(() => undefined)
    w.send({ cmd: "close" })
    await Promise.race([closed, sleep(5_000)])
    w.child.kill("SIGTERM")
  }))

const startRecording = async (ws: ReadonlyArray<Worker>) => {
  for (const w of ws) {
    w.received = 0
    w.send({ cmd: "record", progressMs: settings.progressMs })
  }
  await sleep(100)
}

interface Receipts {
  readonly sentAt: Float64Array
  readonly receivedAt: Float64Array
  readonly echoes: number
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
  const sentAt = new Float64Array(reports.reduce((n, r) => n + r.sentAt.length, 0))
  const receivedAt = new Float64Array(sentAt.length)
  let offset = 0
  const closes: Record<string, number> = {}
  for (const r of reports) {
    sentAt.set(r.sentAt, offset)
    receivedAt.set(r.receivedAt, offset)
    offset += r.sentAt.length
    for (const [code, n] of Object.entries(r.closes)) closes[code] = (closes[code] ?? 0) + n
  }
  const sum = (f: (r: Extract<Event, { ev: "report" }>) => number) => reports.reduce((n, r) => n + f(r), 0)
  return { sentAt, receivedAt, echoes: sum((r) => r.echoes), duplicates: sum((r) => r.duplicates), closes, open: sum((r) => r.open) }
}

const receivedSoFar = (ws: ReadonlyArray<Worker>) => ws.reduce((n, w) => n + w.received, 0)

// ---------------------------------------------------------------------------------------------
// HTTP: keep-alive requests from this process

const agent = new http.Agent({ keepAlive: true, maxSockets: settings.httpSockets })

interface Answer {
  readonly status: number
  readonly body: string
}

const call = (server: Server, method: string, path: string, token: string, json?: unknown) =>
  new Promise<Answer>((resolve, reject) => {
    const body = json === undefined ? undefined : JSON.stringify(json)
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (body !== undefined) headers["content-type"] = "application/json"
    const req = http.request({ host: "127.0.0.1", port: server.port, method, path: `/api/v1${path}`, headers, agent, timeout: 30_000 }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => (text += chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }))
      res.on("error", reject)
    })
    req.on("timeout", () => req.destroy(new Error("timeout after 30 s")))
    req.on("error", reject)
    req.end(body)
  })

/** Sends, round-robin over the threads, the two members of a thread taking turns. */
class Sender {
  private next = 0
  issued = 0
  inFlight = 0
  /** Issue time and latency of every POST answered 201, and every other outcome by status. */
  readonly issuedAt: Array<number> = []
  readonly latencyMs: Array<number> = []
  readonly answeredAt: Array<number> = []
  readonly failures = new Map<string, number>()
  lastFailure: string | undefined

  constructor(private readonly server: Server, private readonly threads: ReadonlyArray<Seed.Thread>) {}

  /** One POST: its issue time and latency when answered 201. */
  send(): Promise<{ issuedAt: number; ms: number } | undefined> {
    const i = this.next++
    const thread = this.threads[i % this.threads.length]!
    const from = thread.members[Math.floor(i / this.threads.length) % 2]!
    const sentAt = now()
    this.issued++
    this.inFlight++
    return call(this.server, "POST", `/conversations/${thread.id}/messages`, from.token, { clientId: randomUUID(), text: `dm-bench ${sentAt}` }).then(
      (a) => {
        const at = now()
        if (a.status === 201) {
          this.issuedAt.push(sentAt)
          this.latencyMs.push(at - sentAt)
          this.answeredAt.push(at)
          return { issuedAt: sentAt, ms: at - sentAt }
        }
        this.fail(String(a.status), `${a.status} ${a.body.slice(0, 200)}`)
        return undefined
      },
      (e: unknown) => {
        this.fail("error", e instanceof Error ? e.message : String(e))
        return undefined
      }
    ).finally(() => {
      this.inFlight--
    })
  }

  private fail(key: string, detail: string) {
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1)
    this.lastFailure = detail
  }

  /** Latencies of the 201s issued in [from, to), and how many were answered in it. */
  window(from: number, to: number) {
    const lat: Array<number> = []
    let answered = 0
    for (let k = 0; k < this.issuedAt.length; k++) {
      if (this.issuedAt[k]! >= from && this.issuedAt[k]! < to) lat.push(this.latencyMs[k]!)
      if (this.answeredAt[k]! >= from && this.answeredAt[k]! < to) answered++
    }
    return { sorted: sortedOf(lat), answered }
  }
}

const waitIdle = async (inFlight: () => number, ms = 30_000) => {
  const deadline = Date.now() + ms
  while (inFlight() > 0 && Date.now() < deadline) await sleep(10)
}

interface Latency {
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly n: number
}
const latencyOf = (sorted: Float64Array): Latency => ({ p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!, n: sorted.length })
const fmtLatency = (l: Latency) => `p50 ${fmtMs(l.p50Ms)} p99 ${fmtMs(l.p99Ms)} max ${fmtMs(l.maxMs)} ms (n ${fmtInt(l.n)})`

/** Deliveries whose send time lies in [from, to). */
const deliveries = (r: Receipts, from: number, to: number) => {
  const lat: Array<number> = []
  for (let i = 0; i < r.sentAt.length; i++) if (r.sentAt[i]! >= from && r.sentAt[i]! < to) lat.push(r.receivedAt[i]! - r.sentAt[i]!)
  return latencyOf(sortedOf(lat))
}

const failuresOf = (s: Sender) => Object.fromEntries(s.failures)
const fmtFailures = (s: Sender) => (s.failures.size === 0 ? "" : `  NON-201: ${JSON.stringify(failuresOf(s))} (last: ${s.lastFailure})`)

/**
 * A send answered 503 is still a durable command in its actor's mailbox and will be applied: the
 * next phase starts once every message sent so far is in PostgreSQL (the threads' `last_seq` sum
 * reached `expected`), so it does not measure the previous one's backlog. Returns the wait in ms.
 */
const drainBacklog = async (pool: pg.Pool, threads: ReadonlyArray<Seed.Thread>, expected: number) => {
  const started = performance.now()
  const ids = threads.map((t) => t.id)
  for (;;) {
    const { rows } = await pool.query<{ n: string }>("SELECT coalesce(sum(last_seq), 0) AS n FROM conversations WHERE id = ANY($1::uuid[])", [ids])
    const n = Number(rows[0]!.n)
    if (n >= expected) return { millis: performance.now() - started, applied: n, expected }
    if (performance.now() - started > settings.backlogMillis) {
      log(`   WARNING: ${fmtInt(expected - n)} sends still unapplied after ${settings.backlogMillis / 1000} s; going on`)
      return { millis: performance.now() - started, applied: n, expected }
    }
    await sleep(500)
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 1: a fixed rate

const pacedPhase = async (server: Server, ws: ReadonlyArray<Worker>, threads: ReadonlyArray<Seed.Thread>) => {
  const sender = new Sender(server, threads)
  await startRecording(ws)
  const start = now()
  const from = start + settings.warmupSeconds * 1000
  const to = from + settings.durationSeconds * 1000
  let meter: (() => CpuUse) | undefined
  let skipped = 0
  let skippedInWindow = 0
  let issuedInWindow = 0
  for (;;) {
    const t = now()
    if (meter === undefined && t >= from) meter = cpuMeter(server)
    if (t >= to) break
    const due = Math.floor(((t - start) * settings.rate) / 1000)
    while (sender.issued + skipped < due) {
      if (sender.inFlight >= settings.maxInFlight) {
        skipped++
        if (t >= from) skippedInWindow++
      } else {
        if (t >= from) issuedInWindow++
        void sender.send()
      }
    }
    await sleep(1)
  }
  const cpu = meter!()
  await waitIdle(() => sender.inFlight, 60_000)
  const deadline = Date.now() + settings.drainMillis
  while (Date.now() < deadline && receivedSoFar(ws) < sender.issued) await sleep(settings.progressMs)
  assertAlive(server, "the fixed-rate phase")
  const receipts = await collect(ws)
  const http = sender.window(from, to)
  return {
    rate: settings.rate,
    issued: sender.issued,
    stillInFlight: sender.inFlight,
    skipped,
    skippedInWindow,
    issuedInWindow,
    answered201InWindow: http.sorted.length,
    failures: failuresOf(sender),
    lastFailure: sender.lastFailure,
    sendsPerSec: http.answered / settings.durationSeconds,
    http: latencyOf(http.sorted),
    delivery: deliveries(receipts, from, to),
    expectedDeliveries: issuedInWindow,
    duplicates: receipts.duplicates,
    echoes: receipts.echoes,
    serverCloses: receipts.closes,
    socketsOpen: receipts.open,
    cpu,
    sender
  }
}

// ---------------------------------------------------------------------------------------------
// Phases 2 and 3: closed loops, through the server and straight to PostgreSQL + core NATS

interface Step {
  readonly concurrency: number
  readonly messagesPerSec: number
  readonly latency: Latency
  readonly failures: Record<string, number>
  readonly cpu: CpuUse
}

/** `lanes` loops of `one()` for the step's warm-up and measured window. */
const closedLoop = async (server: Server, lanes: number, one: () => Promise<{ issuedAt: number; ms: number } | undefined>) => {
  const start = now()
  const from = start + settings.stepWarmupSeconds * 1000
  const to = from + settings.stepSeconds * 1000
  const lat: Array<number> = []
  let answered = 0
  let meter: (() => CpuUse) | undefined
  const timer = setTimeout(() => (meter = cpuMeter(server)), from - start)
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (now() < to) {
      const r = await one()
      if (r === undefined) continue
      const at = r.issuedAt + r.ms
      if (at >= from && at < to) answered++
      if (r.issuedAt >= from && r.issuedAt < to) lat.push(r.ms)
    }
  }))
  clearTimeout(timer)
  return { messagesPerSec: answered / settings.stepSeconds, latency: latencyOf(sortedOf(lat)), cpu: meter!() }
}

const actorStep = async (server: Server, threads: ReadonlyArray<Seed.Thread>, lanes: number): Promise<Step & { readonly issued: number }> => {
  const sender = new Sender(server, threads)
  const result = await closedLoop(server, lanes, () => sender.send())
  assertAlive(server, `the closed loop at ${lanes}`)
  return { concurrency: lanes, ...result, failures: failuresOf(sender), issued: sender.issued }
}

const floorStep = async (server: Server, pool: pg.Pool, nc: NatsConnection, threads: ReadonlyArray<Seed.Thread>, lanes: number): Promise<Step & { readonly committed: number }> => {
  let committed = 0
  const encoder = new TextEncoder()
  let next = 0
  const failures: Record<string, number> = {}
  const result = await closedLoop(server, lanes, async () => {
    const i = next++
    const thread = threads[i % threads.length]!
    const from = thread.members[Math.floor(i / threads.length) % 2]!
    const issuedAt = now()
    const text = `dm-floor ${issuedAt}`
    const client = await pool.connect()
    try {
      await client.query("BEGIN")
      const bumped = await client.query<{ lastSeq: string }>(
        "UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = GREATEST(last_activity_at, $2) WHERE id = $1 RETURNING last_seq AS \"lastSeq\"",
        [thread.id, new Date(issuedAt)]
      )
      const seq = bumped.rows[0]!.lastSeq
      await client.query(
        "INSERT INTO messages (conversation_id, seq, sender_id, client_id, kind, text, created_at) VALUES ($1, $2, $3, $4, 'text', $5, $6)",
        [thread.id, seq, from.id, randomUUID(), text, new Date(issuedAt)]
      )
      await client.query("COMMIT")
      committed++
      client.release()
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined)
      client.release()
      const key = e instanceof Error ? e.message.slice(0, 80) : String(e)
      failures[key] = (failures[key] ?? 0) + 1
      return undefined
    }
    const body = encoder.encode(JSON.stringify({ type: "message", payload: { conversationId: thread.id, text } }))
    for (const m of thread.members) nc.publish(`${prefixes.nats}.dmfloor.${m.id}`, body)
    return { issuedAt, ms: now() - issuedAt }
  })
  return { concurrency: lanes, ...result, failures, committed }
}

const fmtStep = (s: Step) =>
  `${fmtInt(s.messagesPerSec).padStart(5)} messages/s  ${fmtLatency(s.latency)}  ${fmtCpu(s.cpu)}` +
  (Object.keys(s.failures).length > 0 ? `  FAILURES ${JSON.stringify(s.failures)}` : "")

// ---------------------------------------------------------------------------------------------
// Phase 4: history pages

const historyPhase = async (server: Server, history: Seed.DataSet["history"]) => {
  const reader = history.members[0]
  const path = (cursor?: string) => `/conversations/${history.id}/messages?limit=${settings.pageLimit}${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`
  // walk the thread once, newest to oldest: every older page's cursor
  const cursors: Array<string> = []
  let seen = 0
  for (let cursor: string | undefined; ;) {
    const r = await call(server, "GET", path(cursor), reader.token)
    if (r.status !== 200) throw new ServerError(server, `GET messages answered ${r.status}: ${r.body.slice(0, 300)}`)
    const page = JSON.parse(r.body) as { items: Array<{ seq: number }>; nextCursor: string | null }
    seen += page.items.length
    if (page.nextCursor === null) break
    cursors.push(page.nextCursor)
    cursor = page.nextCursor
  }
  if (seen !== history.messages) throw new Error(`walking the thread gave ${seen} messages, not ${history.messages}`)
  const latest: Array<number> = []
  const older: Array<number> = []
  const failures: Record<string, number> = {}
  let short = 0
  let issued = 0
  const meter = cpuMeter(server)
  const started = performance.now()
  await Promise.all(Array.from({ length: settings.historyConcurrency }, async () => {
    while (issued < settings.historyRequests) {
      const k = issued++
      const cursor = k % 2 === 0 ? undefined : cursors[Math.floor(Math.random() * cursors.length)]
      const t = performance.now()
      const r = await call(server, "GET", path(cursor), reader.token)
      const ms = performance.now() - t
      if (r.status !== 200) {
        failures[r.status] = (failures[r.status] ?? 0) + 1
        continue
      }
      if ((JSON.parse(r.body) as { items: Array<unknown> }).items.length < settings.pageLimit && cursor === undefined) short++
      ;(cursor === undefined ? latest : older).push(ms)
    }
  }))
  const seconds = (performance.now() - started) / 1000
  return {
    pages: cursors.length + 1,
    requests: settings.historyRequests,
    perSec: settings.historyRequests / seconds,
    all: latencyOf(sortedOf([...latest, ...older])),
    latest: latencyOf(sortedOf(latest)),
    older: latencyOf(sortedOf(older)),
    failures,
    shortLatestPages: short,
    cpu: meter()
  }
}

// ---------------------------------------------------------------------------------------------

let server: Server | undefined
let databaseCreated = false

const main = async () => {
  const startedAt = new Date()
  console.log(
    `DM benchmark: ${fmtInt(settings.threads)} 1:1 threads (${fmtInt(settings.threads * 2)} sockets), ${fmtInt(settings.rate)} sends/s for ${settings.durationSeconds} s, ` +
      `closed loops at ${settings.concurrency.join("/")}, a ${fmtInt(settings.historyMessages)}-message thread ` +
      `(${os.cpus().length} CPUs, node ${process.version}, run ${runId}, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")})`
  )
  databaseCreated = true
  server = await startServer(SERVER_ROOT, serverEnv())
  log(`server up (pid ${server.child.pid}), database ${DATABASE_URL}`)
  const data = await Seed.seed(DATABASE_URL, settings.threads, settings.historyMessages)
  log(`seeded ${fmtInt(data.threads.length)} threads, ${fmtInt(data.threads.length * 2 + 2)} users with sessions, a ${fmtInt(data.history.messages)}-message thread`)

  const ws = Array.from({ length: settings.workers }, startWorker)
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: settings.floorPoolSize })
  const nc = await connect({ servers: natsUrl, name: `bench-dm-${runId}`, noAsyncTraces: true })
  try {
    const members = data.threads.flatMap((t) => t.members)
    const shares: Array<Array<SocketSpec>> = Array.from({ length: settings.workers }, () => [])
    members.forEach((m, i) => {
      const share = shares[i % settings.workers]!
      share.push({ token: m.token, localAddress: `127.0.0.${1 + (share.length % settings.sourceAddresses)}` })
    })
    const url = `ws://127.0.0.1:${server.port}/ws`
    const opened = await Promise.all(ws.map((w, i) => {
      const done = w.next("opened")
      w.send({ cmd: "open", url, sockets: shares[i]!, concurrency: settings.openConcurrency })
      return done
    }))
    const open = opened.reduce((n, o) => n + o.open, 0)
    const errors = opened.flatMap((o) => o.errors)
    log(`${fmtInt(open)} of ${fmtInt(members.length)} sockets open` + (errors.length > 0 ? `; retried: ${errors.join("; ")}` : ""))
    if (open < members.length) throw new ServerError(server, `only ${open} of ${members.length} sockets opened`)
    await sleep(2_000)

    log(`1. fixed rate: ${fmtInt(settings.rate)} sends/s over ${fmtInt(settings.threads)} threads, ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s measured`)
    const paced = await pacedPhase(server, ws, data.threads)
    let sent = paced.issued
    log(`   delivery ${fmtLatency(paced.delivery)} of ${fmtInt(paced.expectedDeliveries)} issued in the window` +
      (paced.skipped > 0 ? `, ${fmtInt(paced.skipped)} SKIPPED (${fmtInt(settings.maxInFlight)} in flight)` : "") +
      (paced.duplicates > 0 ? ` DUPLICATES ${paced.duplicates}` : "") +
      (Object.keys(paced.serverCloses).length > 0 ? ` closed by the server: ${JSON.stringify(paced.serverCloses)}` : ""))
    log(`   POST ${fmtLatency(paced.http)}  ${fmtInt(paced.sendsPerSec)} sends/s  ${fmtCpu(paced.cpu)}${fmtFailures(paced.sender)}`)
    const backlogs: Array<{ readonly after: string; readonly millis: number; readonly applied: number; readonly expected: number }> = []
    const drain = async (after: string) => {
      const b = await drainBacklog(pool, data.threads, sent)
      backlogs.push({ after, ...b })
      if (b.millis > 1_000) log(`   waited ${(b.millis / 1000).toFixed(1)} s for the sends answered late or 503 to be applied`)
      assertAlive(server!, `the backlog after ${after}`)
    }
    await drain("the fixed rate")
    await sleep(1_000)

    const steps: Array<{ actor: Step; floor: Step }> = []
    for (const c of settings.concurrency) {
      log(`2./3. closed loop at ${c}: ${settings.stepWarmupSeconds} s warm-up + ${settings.stepSeconds} s measured, through the server, then the floor`)
      const actor = await actorStep(server, data.threads, c)
      sent += actor.issued
      log(`   server ${fmtStep(actor)}`)
      await drain(`the closed loop at ${c}`)
      await sleep(1_000)
      const floor = await floorStep(server, pool, nc, data.threads, c)
      sent += floor.committed
      log(`   floor  ${fmtStep(floor)}`)
      steps.push({ actor, floor })
      await sleep(1_000)
    }

    log(`4. history: ${fmtInt(settings.historyRequests)} GET messages (limit ${settings.pageLimit}, half the latest page, half older cursors) at ${settings.historyConcurrency} in flight`)
    const history = await historyPhase(server, data.history)
    log(`   all ${fmtLatency(history.all)}; latest ${fmtLatency(history.latest)}; older ${fmtLatency(history.older)}; ${fmtInt(history.perSec)} req/s  ${fmtCpu(history.cpu)}` +
      (Object.keys(history.failures).length > 0 ? `  FAILURES ${JSON.stringify(history.failures)}` : ""))
    assertAlive(server, "the history phase")

    const rows: Array<Row> = []
    const nonOk = Object.entries(paced.failures)
    const ms = (n: number) => `${fmtMs(n)} ms`
    rows.push({ metric: `send → recipient socket p50 @ ${fmtInt(settings.rate)}/s, ${fmtInt(settings.threads * 2)} sockets`, value: ms(paced.delivery.p50Ms), goal: "—" })
    rows.push({
      metric: "  … p99",
      value: ms(paced.delivery.p99Ms),
      goal: `< ${settings.goals.deliveryP99Ms} ms`,
      met: paced.delivery.p99Ms < settings.goals.deliveryP99Ms && paced.delivery.n === paced.expectedDeliveries && nonOk.length === 0 && paced.skipped === 0
    })
    rows.push({ metric: "  … max", value: ms(paced.delivery.maxMs), goal: "—" })
    rows.push({ metric: "  … delivered / sends issued in window", value: `${fmtInt(paced.delivery.n)} / ${fmtInt(paced.expectedDeliveries)}`, goal: "all", met: paced.delivery.n === paced.expectedDeliveries })
    rows.push({
      metric: `  … sends skipped (${fmtInt(settings.maxInFlight)} already in flight)`,
      value: fmtInt(paced.skipped),
      goal: "0",
      met: paced.skipped === 0
    })
    rows.push({ metric: "  … 201s per second in window", value: fmtInt(paced.sendsPerSec), goal: `${fmtInt(settings.rate)}`, met: paced.sendsPerSec >= settings.rate * 0.99 })
    rows.push({ metric: "  … POST p50 / p99", value: `${fmtMs(paced.http.p50Ms)} / ${fmtMs(paced.http.p99Ms)} ms`, goal: "—" })
    rows.push({ metric: "  … non-201 answers (whole phase)", value: nonOk.length === 0 ? "0" : nonOk.map(([s, n]) => `${n}× ${s}`).join(", "), goal: "0", met: nonOk.length === 0 })
    rows.push({ metric: "  … server CPU (cores)", value: fmtCores(paced.cpu.server), goal: "—" })
    rows.push({ metric: "  … then waiting for its backlog to be applied", value: `${(backlogs[0]!.millis / 1000).toFixed(1)} s`, goal: "—" })
    for (const { actor, floor } of steps) {
      rows.push({ metric: `closed loop ${actor.concurrency}: messages/s (server)`, value: fmtInt(actor.messagesPerSec), goal: "—" })
      rows.push({ metric: "  … POST p99", value: ms(actor.latency.p99Ms), goal: "—" })
      rows.push({ metric: "  … floor messages/s (SQL + core NATS)", value: fmtInt(floor.messagesPerSec), goal: "—" })
      rows.push({ metric: "  … floor p99", value: ms(floor.latency.p99Ms), goal: "—" })
      rows.push({ metric: "  … server / floor: messages/s", value: `${((actor.messagesPerSec / floor.messagesPerSec) * 100).toFixed(1)} %`, goal: "—" })
      rows.push({ metric: "  … server / floor: p99", value: `${(actor.latency.p99Ms / floor.latency.p99Ms).toFixed(1)}×`, goal: "—" })
      if (Object.keys(actor.failures).length > 0) rows.push({ metric: "  … non-201 answers", value: JSON.stringify(actor.failures), goal: "0", met: false })
    }
    const best = steps.reduce((a, b) => (b.actor.messagesPerSec > a.actor.messagesPerSec ? b : a))
    rows.push({ metric: "max sustained messages/s (server)", value: `${fmtInt(best.actor.messagesPerSec)} @ ${best.actor.concurrency}`, goal: "—" })
    rows.push({ metric: `history p50 (${fmtInt(settings.historyMessages)} messages, limit ${settings.pageLimit})`, value: ms(history.all.p50Ms), goal: "—" })
    rows.push({ metric: "  … p99", value: ms(history.all.p99Ms), goal: `< ${settings.goals.historyP99Ms} ms`, met: history.all.p99Ms < settings.goals.historyP99Ms && Object.keys(history.failures).length === 0 })
    rows.push({ metric: "  … latest page p50 / p99", value: `${fmtMs(history.latest.p50Ms)} / ${fmtMs(history.latest.p99Ms)} ms`, goal: "—" })
    rows.push({ metric: "  … older cursors p50 / p99", value: `${fmtMs(history.older.p50Ms)} / ${fmtMs(history.older.p99Ms)} ms`, goal: "—" })
    printTable(rows)
    console.log(`(send → socket: from just before the POST was issued to the recipient's receipt of its \`message\` frame; one machine, one clock. ` +
      `The load generator shares the ${os.cpus().length} cores with the server, PostgreSQL and NATS.)`)
    const { sender: _s, ...pacedJson } = paced
    writeJson(RESULTS_PATH, {
      date: startedAt.toISOString(),
      machine: machineInfo(),
      settings,
      server: serverSource(),
      table: rows,
      results: { paced: pacedJson, steps, history, backlogs }
    })
  } finally {
    await stopWorkers(ws)
    await nc.close().catch(() => undefined)
    await pool.end().catch(() => undefined)
    agent.destroy()
    await stopServer(server)
    server = undefined
    await cleanup()
  }
}

const cleanup = () =>
  removeLeftovers([
    { what: `NATS streams and Redis keys of prefix ${prefixes.nats}`, remove: () => cleanupPrefixes(prefixes) },
    ...(databaseCreated && OWN_DATABASE ? [{ what: `database of ${DATABASE_URL}`, remove: () => dropDatabase(DATABASE_URL) }] : [])
  ])

runBenchmark(main, {
  stopMessage: "stopping the server and the socket workers",
  cleanup,
  cleanupMillis: 10_000,
  children: () => workers,
  onSignal: () => {
    for (const w of workers) w.kill("SIGKILL")
  }
})
