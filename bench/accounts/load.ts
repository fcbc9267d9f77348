/**
 * The two kinds of load this benchmark applies:
 *
 * - closed loop (`saturate`): autocannon, N connections each sending its next request as soon as
 *   the previous answer arrives — the maximum throughput, and its latencies at that concurrency;
 * - open loop (`paced`): requests sent at a fixed rate on a uniform schedule whatever the server
 *   does, each latency measured from the moment the request was *due* (wrk2-style), so a stall
 *   shows up in the percentiles instead of quietly lowering the rate.
 *
 * Why not autocannon's `overallRate` for the second: it gives each connection a per-second quota
 * that it spends back-to-back at the start of every second (lib/httpClient.js `reqsMadeThisSecond`),
 * so "1,000 req/s over 50 connections" is really 50-way bursts at full speed followed by silence;
 * and its coordinated-omission correction uses an expected interval of ⌈1/rate⌉ = 1 ms whatever the
 * rate, which adds made-up samples (value−1, value−2, … ms) to every response slower than 1 ms
 * (lib/run.js `recordValueWithExpectedInterval`). It also rounds latencies to whole milliseconds;
 * `paced` keeps microseconds.
 */
import autocannon, { type RequestParams, type Result } from "autocannon"
import * as http from "node:http"
import { CLOCK_TICKS_PER_SECOND, machineJiffies, processCpuSeconds, statFields } from "../support/proc.ts"

// ---------------------------------------------------------------------------------------------
// CPU accounting

/** CPU seconds of a process's children that exited and were reaped (cutime, cstime). */
const reapedChildrenCpuSeconds = (pid: number): number | null => {
  const f = statFields(pid)
  return f === null ? null : (Number(f[13]) + Number(f[14])) / CLOCK_TICKS_PER_SECOND
}

const parentPid = (pid: number): number | null => {
  const f = statFields(pid)
  return f === null ? null : Number(f[1])
}

/** CPU seconds the whole machine has spent busy (not idle or iowait); null where /proc is missing. */
const machineBusySeconds = (): number | null => {
  const jiffies = machineJiffies()
  return jiffies === null ? null : jiffies.busy / CLOCK_TICKS_PER_SECOND
}

/** Cores kept busy during a measurement (1 = one core); null where /proc is missing. */
export interface CpuUse {
  readonly server: number | null
  /** This process: autocannon or the paced sender. */
  readonly loadgen: number
  /** The PostgreSQL backends connected to the benchmark's database. */
  readonly db: number | null
  /**
   * PostgreSQL processes that exited meanwhile (the postmaster's reaped children): mostly the
   * parallel workers a query forks, which live too briefly to be listed with the backends.
   */
  readonly dbExited: number | null
  readonly machine: number | null
  /**
   * The machine minus all of the above: NATS, Redis, PostgreSQL's background processes — and
   * anything else running on this machine, which makes the numbers unreliable when it is large.
   */
  readonly other: number | null
}

/** CPU seconds of a set of processes; a process that exited is simply missing from the sum. */
const cpuOf = (pids: ReadonlyArray<number>) => new Map(pids.map((pid) => [pid, processCpuSeconds(pid)] as const))

/** CPU used between two readings, counting processes that started in between from zero. */
const cpuBetween = (before: ReadonlyMap<number, number | null>, after: ReadonlyMap<number, number | null>) => {
  let sum = 0
  for (const [pid, end] of after) if (end !== null) sum += end - (before.get(pid) ?? 0)
  return sum
}

/**
 * Runs `work` and reports how busy the server, this process, PostgreSQL and the machine were
 * meanwhile: it tells a server-bound result from one limited by the database, the load generator,
 * or other work on the machine. `dbPids` lists the database's backends (asked before and after,
 * as the pool may open connections during the run); their parent is the postmaster.
 */
export const withCpu = async <A>(
  serverPid: number,
  dbPids: () => Promise<ReadonlyArray<number>>,
  work: () => Promise<A>
): Promise<{ readonly result: A; readonly cpu: CpuUse }> => {
  const pids0 = await dbPids()
  const postmaster = pids0.length > 0 ? parentPid(pids0[0]!) : null
  const reaped = () => (postmaster === null ? null : reapedChildrenCpuSeconds(postmaster))
  const db0 = cpuOf(pids0)
  const exited0 = reaped()
  const wall0 = performance.now()
  const server0 = processCpuSeconds(serverPid)
  const machine0 = machineBusySeconds()
  const self0 = process.cpuUsage()
  const result = await work()
  const wallSeconds = (performance.now() - wall0) / 1000
  const server1 = processCpuSeconds(serverPid)
  const machine1 = machineBusySeconds()
  const self = process.cpuUsage(self0)
  const exited1 = reaped()
  const db1 = cpuOf(await dbPids())
  const per = (a: number | null, b: number | null) => (a === null || b === null ? null : (b - a) / wallSeconds)
  const server = per(server0, server1)
  const loadgen = (self.user + self.system) / 1e6 / wallSeconds
  const db = machine0 === null ? null : cpuBetween(db0, db1) / wallSeconds
  const dbExited = per(exited0, exited1)
  const machine = per(machine0, machine1)
  const other = machine === null || server === null || db === null
    ? null
    : Math.max(0, machine - server - loadgen - db - (dbExited ?? 0))
  return { result, cpu: { server, loadgen, db, dbExited, machine, other } }
}

// ---------------------------------------------------------------------------------------------
// Results

/** What both kinds of load report; latencies in milliseconds. */
export interface LoadResult {
  readonly reqPerSec: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly total: number
  /** Connection errors and timeouts. */
  readonly errors: number
  readonly statuses: Readonly<Record<string, number>>
  /** Open loop only: requests abandoned unanswered at the deadline (their wait is in the percentiles). */
  readonly unfinished?: number
  /** Open loop only: latency percentiles per `Next.tag`, e.g. per kind of search term. */
  readonly byTag?: Readonly<Record<string, TagLatency>>
}

export interface TagLatency {
  readonly count: number
  readonly p50Ms: number
  readonly p99Ms: number
}

/** Responses that were not 2xx, plus errors: any of these makes the numbers suspect. */
export const failures = (r: LoadResult) =>
  r.errors + (r.unfinished ?? 0) + Object.entries(r.statuses).reduce((n, [status, count]) => (status.startsWith("2") ? n : n + count), 0)

// ---------------------------------------------------------------------------------------------
// Closed loop: autocannon

export interface Next {
  readonly method: "GET" | "POST"
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
  /** Groups latencies in open-loop results (autocannon cannot tell requests apart). */
  readonly tag?: string
}

const fromAutocannon = (r: Result): LoadResult => ({
  reqPerSec: r.requests.average,
  p50Ms: r.latency.p50,
  p90Ms: r.latency.p90,
  p99Ms: r.latency.p99,
  maxMs: r.latency.max,
  total: r.requests.total,
  errors: r.errors + r.timeouts,
  statuses: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([status, { count }]) => [status, count]))
})

/** `connections` connections for `durationSeconds`, each request made by `next`. */
export const saturate = async (
  baseUrl: string,
  next: () => Next,
  options: { readonly connections: number; readonly durationSeconds: number }
): Promise<LoadResult> => {
  const setupRequest = (request: RequestParams): RequestParams => {
    const n = next()
    const headers = { ...request.headers, ...n.headers, ...(n.body === undefined ? {} : { "content-type": "application/json" }) }
    return n.body === undefined
      ? { ...request, method: n.method, path: n.path, headers }
      : { ...request, method: n.method, path: n.path, headers, body: n.body }
  }
  const result = await autocannon({
    url: baseUrl,
    connections: options.connections,
    pipelining: 1,
    duration: options.durationSeconds,
    timeout: 30,
    requests: [{ setupRequest }]
  })
  return fromAutocannon(result)
}

// ---------------------------------------------------------------------------------------------
// Open loop: a fixed rate on a uniform schedule

const percentile = (sorted: Float64Array, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

const latencyByTag = (latencies: Float64Array, tags: ReadonlyArray<string | undefined>): Record<string, TagLatency> => {
  const groups = new Map<string, Array<number>>()
  tags.forEach((tag, i) => {
    const v = latencies[i]!
    if (tag === undefined || Number.isNaN(v)) return
    const group = groups.get(tag) ?? []
    group.push(v)
    groups.set(tag, group)
  })
  return Object.fromEntries([...groups].map(([tag, values]) => {
    const sorted = Float64Array.from(values).sort()
    return [tag, { count: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) }]
  }))
}

interface PacedOptions {
  readonly rate: number
  readonly durationSeconds: number
  /** Upper bound on concurrent requests; beyond it requests wait (and their wait is counted). */
  readonly maxSockets: number
  /** How long after the last request is due answers are still awaited. */
  readonly drainMillis: number
}

/**
 * Sends `rate × durationSeconds` requests, request i due at start + i/rate. A timer tick sends
 * everything that has come due (timers fire every ~1 ms, so at 1,000 req/s one or two per tick),
 * and each latency runs from the due time to the last byte of the answer.
 *
 * An overloaded server would otherwise make the run last as long as its backlog: `drainMillis`
 * after the last request was due, whatever is still unanswered is abandoned, counted in
 * `unfinished`, and enters the percentiles with the time it had waited — a lower bound, so a p99
 * is never flattered by dropping the slowest requests.
 */
export const paced = (baseUrl: string, next: () => Next, options: PacedOptions): Promise<LoadResult> =>
  new Promise((resolve) => {
    const { hostname, port } = new URL(baseUrl)
    const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets })
    const total = Math.round(options.rate * options.durationSeconds)
    const intervalMs = 1000 / options.rate
    const start = performance.now() + 5
    const due = (i: number) => start + i * intervalMs
    const latencies = new Float64Array(total).fill(NaN)
    const answered = new Uint8Array(total)
    const tags: Array<string | undefined> = new Array(total)
    const statuses: Record<string, number> = {}
    // requests sent or queued in the agent and not yet answered, so the deadline can abort them
    const pending = new Map<number, http.ClientRequest>()
    let sent = 0
    let settledCount = 0
    let errors = 0
    let resolved = false

    const done = () => {
      if (resolved) return
      resolved = true
      clearTimeout(deadline)
      const end = performance.now()
      let unfinished = 0
      for (let i = 0; i < total; i++) {
        if (answered[i] === 0 && i < sent) {
          latencies[i] = end - due(i)
          unfinished++
        }
      }
      // agent.destroy() alone is not enough: the agent opens new sockets for requests still
      // queued in it, which would keep loading the server through the next measurement
      for (const req of pending.values()) req.destroy()
      agent.destroy()
      const all = latencies.filter((v) => !Number.isNaN(v)).sort()
      const wallSeconds = (end - start) / 1000
      resolve({
        reqPerSec: (settledCount - errors) / wallSeconds,
        p50Ms: percentile(all, 50),
        p90Ms: percentile(all, 90),
        p99Ms: percentile(all, 99),
        maxMs: all.length === 0 ? NaN : all[all.length - 1]!,
        total,
        errors,
        unfinished,
        statuses,
        byTag: latencyByTag(latencies, tags)
      })
    }
    const deadline = setTimeout(done, options.durationSeconds * 1000 + options.drainMillis + 5)

    const fire = (i: number) => {
      const n = next()
      tags[i] = n.tag
      const headers = { ...n.headers, ...(n.body === undefined ? {} : { "content-type": "application/json" }) }
      // a socket dying mid-answer can report on both the request and the response: count it once
      const settle = (ok: boolean) => {
        if (resolved || answered[i] === 1) return
        answered[i] = 1
        pending.delete(i)
        if (ok) latencies[i] = performance.now() - due(i)
        else errors++
        if (++settledCount === total) done()
      }
      const req = http.request({ hostname, port, path: n.path, method: n.method, headers, agent }, (res) => {
        const status = String(res.statusCode ?? 0)
        statuses[status] = (statuses[status] ?? 0) + 1
        res.resume() // the body is not needed, only its end
        res.on("end", () => settle(true))
        res.on("error", () => settle(false))
      })
      req.on("error", () => settle(false))
      pending.set(i, req)
      req.end(n.body)
    }

    const tick = () => {
      if (resolved) return
      const now = performance.now()
      while (sent < total && due(sent) <= now) fire(sent++)
      if (sent < total) setTimeout(tick, Math.max(0, due(sent) - performance.now()))
    }
    setTimeout(tick, 5)
  })
