/**
 * HTTP benchmark of `GET /api/v1/system/sample?limit=20` on four servers:
 *   uws full   Aperture, full stack, HTTP_TRANSPORT=uws
 *   node full  Aperture, full stack, HTTP_TRANSPORT=node
 *   bare uws   uWebSockets.js answering a precomputed string (the ceiling)
 *   fastify    Fastify building and serializing the same body per request
 *
 * Each server is a child process on its own free port, and only one runs at a time: on a 2-core
 * machine two servers (or a server and autocannon in one process) would compete for the same CPU.
 * Each round starts a target, warms it up, measures it and stops it, then moves on; rounds repeat
 * round-robin and the medians are reported, because single runs on a noisy machine are not
 * comparable.
 *
 * Env: BENCH_DURATION seconds per measurement (default 10), BENCH_ROUNDS (default 3).
 * Run: `npm run bench:http` (or `npx tsx bench/http/run.ts`). Writes bench/http/results.json.
 */
import autocannon, { type Result } from "autocannon"
import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { writeFileSync } from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import { deleteNatsPrefix, deleteRedisPrefix } from "./cleanup.ts"
import { SAMPLE_PATH, SAMPLE_QUERY, sampleList } from "./sample.ts"
import { envInt } from "../support/env.ts"
import { processCpuSeconds } from "../support/proc.ts"
import { machineInfo } from "../accounts/report.ts"
import { freePort } from "../accounts/server.ts"

// ---------------------------------------------------------------------------------------------
// Settings

const settings = {
  durationSeconds: envInt("BENCH_DURATION", 10),
  rounds: envInt("BENCH_ROUNDS", 3),
  warmupSeconds: 2,
  connections: 50,
  pipelining: 1,
  readyTimeoutMillis: 30_000,
  // Aperture drains in-flight work on SIGTERM (SHUTDOWN_GRACE_MS defaults to 10 s); allow a bit more
  stopTimeoutMillis: 15_000,
  // lets sockets in TIME_WAIT and the previous server's last GC settle before the next target starts
  pauseBetweenMillis: 1_000
} as const

const ROOT = fileURLToPath(new URL("../..", import.meta.url))
const RESULTS_PATH = fileURLToPath(new URL("./results.json", import.meta.url))
const EXPECTED_BODY = JSON.stringify(sampleList(20))

// One prefix for the whole run: the Aperture targets run one at a time, so they can share the
// JetStream topology and Redis keys, and cleanup has a single prefix to delete.
const runId = randomBytes(4).toString("hex")
const natsPrefix = `bench${runId}`
const redisKeyPrefix = `bench${runId}:`
const natsUrl = process.env["NATS_URL"] ?? "nats://127.0.0.1:4222"
const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"

// ---------------------------------------------------------------------------------------------
// Targets

type TargetId = "uwsFull" | "nodeFull" | "bareUws" | "fastify"

interface Target {
  readonly id: TargetId
  readonly label: string
  /** Script (relative to the repository root) and its arguments. */
  readonly argv: (port: number) => ReadonlyArray<string>
  readonly env: (port: number) => Readonly<Record<string, string>>
}

const aperture = (id: TargetId, label: string, transport: "uws" | "node"): Target => ({
  id,
  label,
  argv: () => ["src/main.ts"],
  env: (port) => ({
    PORT: String(port),
    HOST: "127.0.0.1",
    HTTP_TRANSPORT: transport,
    // the route under test is a benchmark fixture
    BENCH_FIXTURES: "1",
    LOG_LEVEL: "warning",
    NATS_PREFIX: natsPrefix,
    REDIS_KEY_PREFIX: redisKeyPrefix,
    DATABASE_URL: "postgres://postgres@127.0.0.1:5432/aperture_bench"
  })
})

const baseline = (id: TargetId, label: string, script: string): Target => ({
  id,
  label,
  argv: (port) => [script, String(port)],
  env: () => ({})
})

const TARGETS: ReadonlyArray<Target> = [
  aperture("uwsFull", "uws full", "uws"),
  aperture("nodeFull", "node full", "node"),
  baseline("bareUws", "bare uws", "bench/http/bare-uws.ts"),
  baseline("fastify", "fastify", "bench/http/fastify.ts")
]

// ---------------------------------------------------------------------------------------------
// Child processes

/** Every server still running, so exit and signal handlers can kill what is left. */
const live = new Set<ChildProcess>()

/** Keeps the last bytes of a stream: enough to show why a server failed without buffering a flood. */
class Tail {
  private text = ""
  constructor(private readonly maxChars = 16_384) {}
  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.maxChars)
  }
  toString(): string {
    return this.text
  }
}

interface Server {
  readonly target: Target
  readonly port: number
  readonly child: ChildProcess
  readonly stdout: Tail
  readonly stderr: Tail
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<string>
  /** Set once the process is gone. */
  exit: string | undefined
}

class StartError extends Error {
  constructor(readonly server: Server, reason: string) {
    super(`${server.target.label} failed to start: ${reason}`)
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))


/** `node --import tsx` rather than `npx tsx`: no npm wrapper process, and the pid we kill is the server's. */
const spawnServer = (target: Target, port: number): Server => {
  const child = spawn(process.execPath, ["--import", "tsx", ...target.argv(port)], {
    cwd: ROOT,
    env: { ...process.env, ...target.env(port) },
    stdio: ["ignore", "pipe", "pipe"]
  })
  live.add(child)
  const stdout = new Tail()
  const stderr = new Tail()
  // always drained: a full pipe would block the server mid-benchmark
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => stdout.push(chunk))
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk))
  const server: Server = {
    target,
    port,
    child,
    stdout,
    stderr,
    exit: undefined,
    exited: new Promise<string>((resolve) => {
      const done = (how: string) => {
        live.delete(child)
        server.exit = how
        resolve(how)
      }
      child.once("exit", (code, signal) => done(code !== null ? `code ${code}` : `signal ${signal}`))
      child.once("error", (e) => {
        stderr.push(`spawn failed: ${e.message}\n`)
        done("spawn error")
      })
    })
  }
  return server
}

/** GET without keep-alive, so no idle socket of ours outlives the check or delays a server's shutdown. */
const httpGet = (url: string, timeoutMillis = 2_000) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMillis }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => (body += chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
      res.on("error", reject)
    })
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMillis} ms`)))
    req.on("error", reject)
  })

const baseUrl = (server: Server) => `http://127.0.0.1:${server.port}`

/** Polls `/healthz` until it answers 200; fails early if the process dies. */
const waitReady = async (server: Server): Promise<void> => {
  const deadline = Date.now() + settings.readyTimeoutMillis
  while (Date.now() < deadline) {
    if (server.exit !== undefined) throw new StartError(server, `exited (${server.exit}) before it was ready`)
    const status = await httpGet(`${baseUrl(server)}/healthz`).then((r) => r.status, () => 0)
    if (status === 200) return
    await sleep(200)
  }
  throw new StartError(server, `GET /healthz did not answer 200 within ${settings.readyTimeoutMillis / 1000} s`)
}

const startServer = async (target: Target): Promise<Server> => {
  const server = spawnServer(target, await freePort())
  try {
    await waitReady(server)
    return server
  } catch (e) {
    await stopServer(server)
    throw e
  }
}

/** SIGTERM first so Aperture shuts down as in production; SIGKILL if it overstays. */
const stopServer = async (server: Server): Promise<void> => {
  if (server.exit !== undefined) return
  server.child.kill("SIGTERM")
  const stopped = await Promise.race([server.exited.then(() => true), sleep(settings.stopTimeoutMillis).then(() => false)])
  if (!stopped) {
    console.warn(`  ${server.target.label} ignored SIGTERM for ${settings.stopTimeoutMillis / 1000} s; killing it`)
    server.child.kill("SIGKILL")
    await server.exited
  }
}

/** Set on Ctrl-C/SIGTERM, so the failures the interruption causes in the main flow stay quiet. */
let interrupted = false

/** Gives the servers a moment to stop cleanly, then drops this run's NATS and Redis state. */
const stopOnSignal = async () => {
  for (const child of live) child.kill("SIGTERM")
  const deadline = Date.now() + 3_000
  while (live.size > 0 && Date.now() < deadline) await sleep(100)
  await Promise.race([cleanupPrefixes(), sleep(3_000)])
}

/** Kills leftovers however the run ends: normal exit, error, Ctrl-C or SIGTERM. */
const installExitHandlers = () => {
  // last resort, synchronous: whatever is still alive when this process exits is killed outright
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL")
  })
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      interrupted = true
      console.error(`\n${signal}: stopping servers`)
      void stopOnSignal().finally(() => process.exit(signal === "SIGINT" ? 130 : 143))
    })
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface RoundResult {
  readonly round: number
  readonly reqPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly totalRequests: number
  readonly errors: number
  readonly timeouts: number
  readonly non2xx: number
  readonly bodyMatches: boolean
  /** CPU used during the measurement, in cores (1 = one core busy); null where /proc is missing. */
  readonly serverCores: number | null
  readonly loadgenCores: number
}

/**
 * Runs `work` and reports how busy the server and this process (autocannon) were meanwhile: it
 * tells a server-bound result (server ≈ 1 core) from one limited by the load generator.
 */
const withCpu = async <A>(server: Server, work: () => Promise<A>) => {
  const pid = server.child.pid ?? -1
  const wall0 = performance.now()
  const server0 = processCpuSeconds(pid)
  const self0 = process.cpuUsage()
  const result = await work()
  const wallSeconds = (performance.now() - wall0) / 1000
  const server1 = processCpuSeconds(pid)
  const self = process.cpuUsage(self0)
  return {
    result,
    serverCores: server0 === null || server1 === null ? null : (server1 - server0) / wallSeconds,
    loadgenCores: (self.user + self.system) / 1e6 / wallSeconds
  }
}

/** Compares the served body with the expected one; a mismatch is a warning, not a failure. */
const checkBody = async (server: Server): Promise<boolean> => {
  const { status, body } = await httpGet(`${baseUrl(server)}${SAMPLE_PATH}${SAMPLE_QUERY}`)
  if (status === 200 && body === EXPECTED_BODY) return true
  let at = 0
  while (at < body.length && body[at] === EXPECTED_BODY[at]) at++
  console.warn(
    `  WARNING: ${server.target.label} body differs (status ${status}, ${body.length} vs ${EXPECTED_BODY.length} chars, ` +
      `first difference at ${at}):\n    got      …${body.slice(Math.max(0, at - 40), at + 40)}\n` +
      `    expected …${EXPECTED_BODY.slice(Math.max(0, at - 40), at + 40)}`
  )
  return false
}

const load = (server: Server, durationSeconds: number): Promise<Result> =>
  autocannon({
    url: `${baseUrl(server)}${SAMPLE_PATH}${SAMPLE_QUERY}`,
    connections: settings.connections,
    pipelining: settings.pipelining,
    duration: durationSeconds
  })

/** One round of one target: start, check the body, warm up (JIT, pools), measure, stop. */
const benchTarget = async (target: Target, round: number): Promise<RoundResult> => {
  const server = await startServer(target)
  try {
    const bodyMatches = await checkBody(server)
    await load(server, settings.warmupSeconds)
    const { result: r, serverCores, loadgenCores } = await withCpu(server, () => load(server, settings.durationSeconds))
    if (r.errors + r.timeouts + r.non2xx > 0) {
      console.warn(`  WARNING: ${target.label}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx responses`)
    }
    if (server.exit !== undefined) throw new StartError(server, `died during the measurement (${server.exit})`)
    return {
      round,
      reqPerSec: r.requests.average,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      totalRequests: r.requests.total,
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      bodyMatches,
      serverCores,
      loadgenCores
    }
  } finally {
    await stopServer(server)
  }
}

/** Each round starts one target later, so no target always runs first or right after the same neighbour. */
const rotate = <A>(items: ReadonlyArray<A>, by: number): ReadonlyArray<A> => {
  const k = by % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

const runRounds = async (): Promise<Record<TargetId, Array<RoundResult>>> => {
  const results: Record<TargetId, Array<RoundResult>> = { uwsFull: [], nodeFull: [], bareUws: [], fastify: [] }
  for (let round = 1; round <= settings.rounds; round++) {
    for (const target of rotate(TARGETS, round - 1)) {
      const r = await benchTarget(target, round)
      results[target.id].push(r)
      console.log(
        `[round ${round}/${settings.rounds}] ${target.label.padEnd(9)} ${fmtInt(r.reqPerSec).padStart(8)} req/s  ` +
          `p50 ${fmtMs(r.p50Ms)} ms  p99 ${fmtMs(r.p99Ms)} ms  ` +
          `CPU server ${fmtCores(r.serverCores)} loadgen ${fmtCores(r.loadgenCores)}${r.bodyMatches ? "" : "  (body differs)"}`
      )
      await sleep(settings.pauseBetweenMillis)
    }
  }
  return results
}

// ---------------------------------------------------------------------------------------------
// Summarising

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

interface Medians {
  readonly reqPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
}

const mediansOf = (rounds: ReadonlyArray<RoundResult>): Medians => ({
  reqPerSec: median(rounds.map((r) => r.reqPerSec)),
  p50Ms: median(rounds.map((r) => r.p50Ms)),
  p99Ms: median(rounds.map((r) => r.p99Ms))
})

interface Ratio {
  readonly name: string
  readonly value: number
  readonly goal?: number
  readonly met?: boolean
}

const ratio = (name: string, numerator: Medians, denominator: Medians, goal?: number): Ratio => {
  const value = numerator.reqPerSec / denominator.reqPerSec
  return goal === undefined ? { name, value } : { name, value, goal, met: value >= goal }
}

const ratiosOf = (m: Record<TargetId, Medians>): ReadonlyArray<Ratio> => [
  ratio("uws full / fastify", m.uwsFull, m.fastify, 1),
  ratio("uws full / node full", m.uwsFull, m.nodeFull, 3),
  ratio("uws full / bare uws (share of ceiling)", m.uwsFull, m.bareUws)
]

const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US")
// autocannon records latencies in whole milliseconds, so more digits would be noise
const fmtMs = (n: number) => n.toFixed(1)
const fmtCores = (n: number | null) => (n === null ? "n/a" : `${Math.round(n * 100)}%`)

const printTable = (medians: Record<TargetId, Medians>, ratios: ReadonlyArray<Ratio>) => {
  const header = ["target", "req/s (median)", "p50 ms", "p99 ms"]
  const rows = TARGETS.map((t) => {
    const m = medians[t.id]
    return [t.label, fmtInt(m.reqPerSec), fmtMs(m.p50Ms), fmtMs(m.p99Ms)]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("-|-")}`)
  for (const row of rows) console.log(line(row))
  console.log("(latencies have autocannon's 1 ms resolution)")

  console.log("")
  const nameWidth = Math.max(...ratios.map((r) => r.name.length))
  for (const r of ratios) {
    const note = r.goal === undefined
      ? `(${(r.value * 100).toFixed(0)}% of the ceiling)`
      : `(goal ≥ ${r.goal.toFixed(1)}×: ${r.met ? "met" : "NOT met"})`
    console.log(`${r.name.padEnd(nameWidth)}  ${r.value.toFixed(2).padStart(5)}×  ${note}`)
  }
}

const writeResults = (
  results: Record<TargetId, Array<RoundResult>>,
  medians: Record<TargetId, Medians>,
  ratios: ReadonlyArray<Ratio>,
  startedAt: Date
) => {
  const targets = Object.fromEntries(
    TARGETS.map((t) => [t.id, { label: t.label, rounds: results[t.id], median: medians[t.id] }])
  )
  const json = {
    date: startedAt.toISOString(),
    machine: machineInfo(),
    settings: { ...settings, route: `GET ${SAMPLE_PATH}${SAMPLE_QUERY}` },
    targets,
    ratios
  }
  writeFileSync(RESULTS_PATH, `${JSON.stringify(json, null, 2)}\n`)
  console.log(`\nresults written to ${RESULTS_PATH}`)
}

/** Best effort: leftover state is untidy, not wrong, so a failure here only warns. */
const cleanupPrefixes = async () => {
  const outcome = await Promise.allSettled([deleteNatsPrefix(natsUrl, natsPrefix), deleteRedisPrefix(redisUrl, redisKeyPrefix)])
  const labels = [`NATS streams of prefix ${natsPrefix}`, `Redis keys of prefix ${redisKeyPrefix}`]
  outcome.forEach((o, i) => {
    if (o.status === "rejected") console.warn(`WARNING: could not delete ${labels[i]}: ${String(o.reason)}`)
  })
}

// ---------------------------------------------------------------------------------------------

const main = async () => {
  installExitHandlers()
  const startedAt = new Date()
  console.log(
    `HTTP benchmark: GET ${SAMPLE_PATH}${SAMPLE_QUERY}, ${settings.connections} connections, pipelining ${settings.pipelining}, ` +
      `${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s × ${settings.rounds} rounds per target ` +
      `(${os.cpus().length} CPUs, node ${process.version}, prefix ${natsPrefix})\n`
  )
  let results: Record<TargetId, Array<RoundResult>>
  try {
    results = await runRounds()
  } finally {
    await cleanupPrefixes()
  }
  const medians = Object.fromEntries(TARGETS.map((t) => [t.id, mediansOf(results[t.id])])) as Record<TargetId, Medians>
  const ratios = ratiosOf(medians)
  printTable(medians, ratios)
  writeResults(results, medians, ratios, startedAt)
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    if (interrupted) return // the signal handler is already stopping everything and will exit
    if (e instanceof StartError) {
      console.error(`\nERROR: ${e.message}`)
      console.error(`--- stderr of ${e.server.target.label} ---\n${e.server.stderr.toString() || "(empty)"}`)
      console.error(`--- stdout of ${e.server.target.label} ---\n${e.server.stdout.toString() || "(empty)"}`)
    } else {
      console.error("\nERROR:", e)
    }
    process.exit(1)
  }
)
