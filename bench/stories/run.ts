/**
 * Stories benchmark (issue 15): the full Aperture server (uWS, ROLES=api,actors) as a child process
 * on a database of its own and the run's NATS and Redis prefixes, the data set of seed.ts written
 * straight into PostgreSQL, and in one run (phases in this order, so a backlog left by the heaviest
 * one cannot slow the others):
 *
 *   1. Tray read: `GET /api/v1/stories/feed` (default page, 50 entries) as a viewer following 1,000
 *      accounts of which 300 have live stories, at a fixed BENCH_STORY_TRAY_RATE (200) req/s, open
 *      loop (bench/accounts/load.ts `paced`: latency from each request's due time, requests still
 *      unanswered 5 s after the last was due count with their wait), for BENCH_DURATION seconds
 *      after a 3 s warm-up; then the baseline `GET /api/v1/auth/me` (session resolved, one user row,
 *      the same HTTP stack) at the same rate and length: the fixed cost of a request. Before that,
 *      every tray page is walked once and checked against the seed (authors, stories, unseen group),
 *      and 200 tray reads are made one at a time: the service time without any queueing.
 *   2. View ingest through HTTP: `POST /api/v1/stories/:id/view` from BENCH_STORY_HTTP_LANES
 *      closed-loop keep-alive lanes for BENCH_STORY_HTTP_SECONDS over 300 live stories × 1,000
 *      viewers who follow their authors, every pair submitted twice; then until every view answered
 *      200 is in PostgreSQL.
 *   3. The ceiling: the workload of phase 4 (every submission, repeats included) as raw pipelined
 *      `SADD <story> <viewer>` from this process (ioredis, 1,000 commands a pipeline, 16 pipelines
 *      in flight). Its replies count the distinct pairs, which must match.
 *   4. View ingest through the real service in this process (the headline figure, measured like
 *      bench/fanout from the commit and bench/actors with the real `Actors.send`: the ingest
 *      pipeline, not the HTTP stack): `StoryViews.record` (src/social/StoryViews.ts on the
 *      production layers: StorySets on Redis, Bus on JetStream, the run's configuration) for
 *      BENCH_STORY_VIEWS distinct (story, viewer) pairs over 300 other live stories, each submitted
 *      twice (the repeat 0–2 chunks of 1,000 later, so some join the view still under way and the
 *      rest find it in Redis), BENCH_STORY_INFLIGHT at once. The views travel as `story.viewed`
 *      batches through JetStream to the server's `stories` consumer, which stores them
 *      (StoryEvents.ts → StoriesRepo.recordViews).
 *
 * Views/s = distinct pairs / (first submission → the stories' `view_count` sum in PostgreSQL
 * reaching them, polled every 50 ms); INCOMPLETE when they were not all there
 * BENCH_STORY_PERSIST_TIMEOUT_MS after the last answer. Then the exact checks, per phase:
 * `story_views` rows against the pairs (missing, extra), the `view_count` sum against the rows
 * (counted twice), read pointers, the Redis dedup sets, and what a missing view became (dead-lettered
 * after EVENTS_MAX_DELIVER failed deliveries, or still unacknowledged in JetStream), with the
 * `stories` consumer's redeliveries.
 *
 * The load generator and the in-process service share the 2 cores with the server, PostgreSQL,
 * NATS and Redis; each phase reports who used the CPU. Prints a table, writes
 * bench/stories/results.json, removes the run's database, NATS streams and Redis keys.
 *
 * Env: BENCH_DURATION tray seconds measured (15), BENCH_STORY_TRAY_RATE (200), BENCH_STORY_VIEWS
 * (90000), BENCH_STORY_INFLIGHT (2000), BENCH_STORY_HTTP_SECONDS (10), BENCH_STORY_HTTP_LANES
 * (256), BENCH_STORY_PERSIST_TIMEOUT_MS (30000), BENCH_STORY_PHASES (tray,http,views: any subset),
 * BENCH_STORY_ORDER=clustered (an experiment: phase 4's views grouped by story, so a batch touches
 * one to three stories instead of all of them), BENCH_STORY_DEBUG=1 (print the server's log tail),
 * BENCH_DATABASE_URL (a database of its own otherwise; one given is kept), BENCH_SERVER_ROOT,
 * BENCH_SERVER_CPU_PROFILE=<dir> (one server .cpuprofile per measured phase; read them with
 * bench/support/profile-top.ts). Run: `npm run bench:stories`.
 */
import { randomBytes } from "node:crypto"
import * as http from "node:http"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import { jetstreamManager } from "@nats-io/jetstream"
import { connect as connectNats, type NatsConnection } from "@nats-io/transport-node"
import { Effect, Layer, ManagedRuntime, Schedule } from "effect"
import { Redis } from "ioredis"
import pg from "pg"
import { layer as ConfigLive } from "../../src/config/AppConfig.ts"
import * as RedisLive from "../../src/redis/Redis.ts"
import * as StorySets from "../../src/redis/Stories.ts"
import * as StoryViews from "../../src/social/StoryViews.ts"
import * as Bus from "../../src/streams/Bus.ts"
import * as Nats from "../../src/streams/Nats.ts"
import { type CpuUse, failures, type LoadResult, paced, withCpu } from "../accounts/load.ts"
import { prng } from "../accounts/names.ts"
import { fmtCores, fmtInt, fmtMs, machineInfo, printTable, type Row, writeJson } from "../accounts/report.ts"
import { assertAlive, request, type Server, ServerError, sleep, startServer, stopServer } from "../accounts/server.ts"
import { baseServerEnv, benchDatabaseUrl, cpuProfileEnv, envInt, NO_RATE_LIMITS, profileWindow, SERVER_ROOT, serverSource } from "../support/env.ts"
import { cleanupPrefixes, natsUrl, prefixesOf, redisUrl, removeLeftovers, runBenchmark } from "../support/lifecycle.ts"
import { backendPids, dropDatabase } from "../support/pgdb.ts"
import { CLOCK_TICKS_PER_SECOND, machineJiffies, processCpuSeconds } from "../support/proc.ts"
import * as Seed from "./seed.ts"

// ---------------------------------------------------------------------------------------------
// Settings

const settings = {
  seed: { followees: 1_000, withStories: 300, viewers: 1_000 } satisfies Seed.SeedSettings,
  trayRate: envInt("BENCH_STORY_TRAY_RATE", 200),
  traySeconds: envInt("BENCH_DURATION", 15),
  trayWarmupSeconds: 3,
  sequentialRequests: 200,
  pacedMaxSockets: 32,
  pacedDrainMillis: 5_000,
  views: envInt("BENCH_STORY_VIEWS", 90_000),
  inFlight: envInt("BENCH_STORY_INFLIGHT", 2_000),
  /** Pairs per chunk of the submission order: a pair's repeat comes in the next chunk. */
  chunk: 1_000,
  recordRetries: 5,
  ceilingPipeline: 1_000,
  ceilingInFlight: 16,
  httpSeconds: envInt("BENCH_STORY_HTTP_SECONDS", 10),
  httpLanes: envInt("BENCH_STORY_HTTP_LANES", 256),
  pollMillis: 50,
  /** After the last view was acknowledged: how long PostgreSQL may take to hold them all. */
  persistTimeoutMillis: envInt("BENCH_STORY_PERSIST_TIMEOUT_MS", 30_000),
  order: process.env["BENCH_STORY_ORDER"] === "clustered" ? "clustered" as const : "spread" as const,
  phases: (process.env["BENCH_STORY_PHASES"] || "tray,http,views").split(",").map((p) => p.trim()),
  otherCpuWarning: 0.3,
  goals: { viewsPerSec: 10_000, trayP99Ms: 15 }
} as const

// a database of its own, dropped at the end (never one given in BENCH_DATABASE_URL)
const OWN_DATABASE = process.env["BENCH_DATABASE_URL"] === undefined
const runId = randomBytes(4).toString("hex")
const DATABASE_URL = benchDatabaseUrl(`aperture_bench_stories_${runId}`)
const RESULTS_PATH = fileURLToPath(new URL("./results.json", import.meta.url))
const API = "/api/v1"
const prefixes = prefixesOf(`benchsty${runId}`)

const serverEnv = (): Record<string, string> => ({
  ...baseServerEnv("uws", DATABASE_URL, prefixes),
  ...NO_RATE_LIMITS,
  ROLES: "api,actors",
  // BENCH_SERVER_CPU_PROFILE: one .cpuprofile per measured phase
  ...cpuProfileEnv("signal")
})

const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`)
const percentile = (sorted: ArrayLike<number>, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const fmtCpu = (c: CpuUse) =>
  `CPU server ${fmtCores(c.server)} bench ${fmtCores(c.loadgen)} db ${fmtCores(c.db)}+${fmtCores(c.dbExited)} other ${fmtCores(c.other)}` +
  ((c.other ?? 0) > settings.otherCpuWarning ? " (BUSY MACHINE)" : "")

// ---------------------------------------------------------------------------------------------
// The workload: pairs (story, viewer), each submitted twice

/**
 * Pair p, `spread` (the default): (story p mod S, viewer ⌊p / S⌋), so consecutive views (and each
 * batch) spread over every story; `clustered` (BENCH_STORY_ORDER=clustered, an experiment): (story
 * ⌊p / V⌋, viewer p mod V), so a batch touches one to three stories.
 */
interface Pairs {
  readonly stories: ReadonlyArray<Seed.SeededStory>
  readonly viewers: ReadonlyArray<Seed.Person>
  readonly count: number
}
const clustered = settings.order === "clustered"
const storyIndexOf = (ps: Pairs, p: number) => (clustered ? Math.floor(p / ps.viewers.length) : p % ps.stories.length)
const viewerIndexOf = (ps: Pairs, p: number) => (clustered ? p % ps.viewers.length : Math.floor(p / ps.stories.length))
const pairOf = (ps: Pairs, story: number, viewer: number) => (clustered ? story * ps.viewers.length + viewer : viewer * ps.stories.length + story)
const storyOf = (ps: Pairs, p: number) => ps.stories[storyIndexOf(ps, p)]!
const viewerOf = (ps: Pairs, p: number) => ps.viewers[viewerIndexOf(ps, p)]!

/**
 * Every pair twice: chunk c's first submissions shuffled together with chunk c−1's repeats, so a
 * repeat comes 1 to ~4 chunks' worth of submissions after the first — some while the first is
 * still on its way, most after it was recorded.
 */
const submissionOrder = (pairs: number, chunk: number, seed: number): Uint32Array => {
  const random = prng(seed)
  const out = new Uint32Array(pairs * 2)
  let o = 0
  const chunks = Math.ceil(pairs / chunk)
  for (let c = 0; c <= chunks; c++) {
    const block: Array<number> = []
    for (let p = c * chunk; p < Math.min((c + 1) * chunk, pairs); p++) block.push(p)
    if (c > 0) for (let p = (c - 1) * chunk; p < Math.min(c * chunk, pairs); p++) block.push(p)
    for (let i = block.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[block[i], block[j]] = [block[j]!, block[i]!]
    }
    out.set(block, o)
    o += block.length
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: waiting for the views, and checking them exactly

const viewCountSum = async (pool: pg.Pool, storyIds: ReadonlyArray<string>) => {
  const { rows } = await pool.query<{ n: string }>("SELECT coalesce(sum(view_count), 0) AS n FROM stories WHERE id = ANY($1::uuid[])", [storyIds])
  return Number(rows[0]!.n)
}

/**
 * Polls the stories' `view_count` sum until it reaches `expected`, or `persistTimeoutMillis` after
 * `ackedAt()` is set; returns when (performance.now()) and a coarse progress series.
 */
const waitPersisted = async (pool: pg.Pool, storyIds: ReadonlyArray<string>, expected: () => number | undefined, ackedAt: () => number | undefined, t0: number) => {
  const series: Array<{ readonly ms: number; readonly persisted: number }> = []
  let lastSample = -Infinity
  for (;;) {
    const n = await viewCountSum(pool, storyIds)
    const t = performance.now()
    if (t - lastSample >= 1_000) {
      series.push({ ms: Math.round(t - t0), persisted: n })
      lastSample = t
    }
    const want = expected()
    if (want !== undefined && n >= want) return { at: t, persisted: n, timedOut: false, series }
    const acked = ackedAt()
    if (acked !== undefined && t - acked > settings.persistTimeoutMillis) return { at: t, persisted: n, timedOut: true, series }
    await sleep(settings.pollMillis)
  }
}

interface Exactness {
  /** Distinct pairs that should be stored. */
  readonly expected: number
  readonly rows: number
  /** Expected pairs with no row. */
  readonly lost: number
  /** Rows of pairs never submitted (or never answered 200). */
  readonly extra: number
  /** `view_count` sum minus rows: a view counted twice. */
  readonly overcounted: number
  readonly viewCountSum: number
  /** Viewer × author read pointers at the seq the phase's views should have left. */
  readonly pointersExact: number
  readonly pointersExpected: number
  /** Members of the stories' Redis dedup sets (`sv:<story>`). */
  readonly redisSetMembers: number
}

const checkExact = async (
  pool: pg.Pool,
  redis: Redis,
  ps: Pairs,
  wanted: (p: number) => boolean,
  expected: number
): Promise<Exactness> => {
  const storyIds = ps.stories.map((s) => s.id)
  const storyIndex = new Map(storyIds.map((id, i) => [id, i]))
  const viewerIndex = new Map(ps.viewers.map((v, i) => [v.id, i]))
  const { rows } = await pool.query<{ s: string; v: string }>("SELECT story_id::text AS s, viewer_id::text AS v FROM story_views WHERE story_id = ANY($1::uuid[])", [storyIds])
  const seen = new Uint8Array(ps.count)
  let extra = 0
  for (const r of rows) {
    const si = storyIndex.get(r.s)
    const vi = viewerIndex.get(r.v)
    const p = si === undefined || vi === undefined ? -1 : pairOf(ps, si, vi)
    if (p < 0 || p >= ps.count || !wanted(p)) extra++
    else seen[p] = 1
  }
  let lost = 0
  for (let p = 0; p < ps.count; p++) if (wanted(p) && seen[p] === 0) lost++
  const sum = await viewCountSum(pool, storyIds)
  // each viewer that viewed an author's story here: the pointer is at least that story's seq (it may be past it: an earlier phase or the seed moved it further)
  const expectedPointers = new Map<string, number>()
  for (let p = 0; p < ps.count; p++) {
    if (!wanted(p)) continue
    const s = storyOf(ps, p)
    const key = `${viewerOf(ps, p).id}:${s.authorId}`
    expectedPointers.set(key, Math.max(expectedPointers.get(key) ?? 0, s.seq))
  }
  const pointerRows = await pool.query<{ v: string; a: string; m: string }>(
    "SELECT viewer_id::text AS v, author_id::text AS a, max_seq::text AS m FROM story_read_pointers WHERE viewer_id = ANY($1::uuid[]) AND author_id = ANY($2::uuid[])",
    [ps.viewers.map((v) => v.id), [...new Set(ps.stories.map((s) => s.authorId))]]
  )
  let pointersExact = 0
  for (const r of pointerRows.rows) {
    const want = expectedPointers.get(`${r.v}:${r.a}`)
    if (want !== undefined && Number(r.m) >= want) pointersExact++
  }
  const pipeline = redis.pipeline()
  for (const id of storyIds) pipeline.scard(`sv:${id}`)
  const cards = (await pipeline.exec()) ?? []
  return {
    expected,
    rows: rows.length,
    lost,
    extra,
    overcounted: sum - rows.length,
    viewCountSum: sum,
    pointersExact,
    pointersExpected: expectedPointers.size,
    redisSetMembers: cards.reduce((n, [, c]) => n + Number(c ?? 0), 0)
  }
}

const exactOk = (x: Exactness) => x.lost === 0 && x.extra === 0 && x.overcounted === 0 && x.rows === x.expected
const fmtExact = (x: Exactness) =>
  `rows ${fmtInt(x.rows)} of ${fmtInt(x.expected)}: missing ${x.lost}, extra ${x.extra}, counted twice ${x.overcounted}; ` +
  `pointers ${fmtInt(x.pointersExact)}/${fmtInt(x.pointersExpected)}; Redis sets ${fmtInt(x.redisSetMembers)}`

// ---------------------------------------------------------------------------------------------
// JetStream: events published and consumer redeliveries

/** The EVENTS stream's size, and the `stories` consumer's redeliveries and backlog (unacknowledged or not yet delivered). */
const streamState = async (nc: NatsConnection) => {
  const jsm = await jetstreamManager(nc)
  const events = await jsm.streams.info(`${prefixes.nats}_EVENTS`)
  let consumer: { readonly redelivered: number; readonly backlog: number } | null = null
  for (const durable of ["stories", `${prefixes.nats}_stories`]) {
    try {
      const info = await jsm.consumers.info(`${prefixes.nats}_EVENTS`, durable)
      consumer = { redelivered: info.num_redelivered, backlog: info.num_pending + info.num_ack_pending }
      break
    } catch {
      // not this name
    }
  }
  return { messages: events.state.messages, redelivered: consumer?.redelivered ?? null, backlog: consumer?.backlog ?? null }
}

/** Events the `stories` consumer gave up on (EVENTS_MAX_DELIVER deliveries failed), and the views in them. */
const deadLetters = async (pool: pg.Pool) => {
  const { rows } = await pool.query<{ events: number; views: number }>(
    `SELECT count(*)::int AS events, coalesce(sum(jsonb_array_length(payload->'payload'->'views')), 0)::int AS views
     FROM dead_letters WHERE consumer = 'stories'`
  )
  return rows[0]!
}

/** Cores used over a stretch: the server, this process, the whole machine. */
const cpuMeter = (serverPid: number) => {
  const read = () => ({ t: performance.now(), server: processCpuSeconds(serverPid) ?? 0, self: process.cpuUsage(), machine: (machineJiffies()?.busy ?? 0) / CLOCK_TICKS_PER_SECOND })
  const start = read()
  return () => {
    const end = read()
    const secs = (end.t - start.t) / 1000
    const self = process.cpuUsage(start.self)
    return { seconds: secs, server: (end.server - start.server) / secs, bench: (self.user + self.system) / 1e6 / secs, machine: (end.machine - start.machine) / secs }
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 1: the tray

interface TrayEntryJson {
  readonly own: boolean
  readonly unseenCount: number
  readonly stories: ReadonlyArray<{ readonly seen: boolean }>
}
interface TrayPageJson {
  readonly items: ReadonlyArray<TrayEntryJson>
  readonly nextCursor: string | null
}

/** Walks every tray page once and checks it against the seed. */
const walkTray = async (server: Server, data: Seed.DataSet) => {
  let authors = 0
  let stories = 0
  let unseen = 0
  let pages = 0
  let firstPage = 0
  const t0 = performance.now()
  for (let cursor: string | null = null; ;) {
    const path: string = `${server.baseUrl}${API}/stories/feed${cursor === null ? "" : `?cursor=${encodeURIComponent(cursor)}`}`
    const r = await request(path, { headers: bearer(data.tray.token) })
    if (r.status !== 200) throw new ServerError(server, `GET /stories/feed answered ${r.status}: ${r.body.slice(0, 300)}`)
    const page = JSON.parse(r.body) as TrayPageJson
    if (pages === 0) firstPage = page.items.length
    pages++
    authors += page.items.length
    for (const e of page.items) {
      stories += e.stories.length
      if (e.unseenCount > 0) unseen++
    }
    if (page.nextCursor === null) break
    cursor = page.nextCursor
  }
  const e = data.expected
  const ok = authors === e.trayAuthors && stories === e.trayStories && unseen === e.unseenAuthors
  return { pages, firstPage, authors, stories, unseenAuthors: unseen, ok, walkMs: performance.now() - t0 }
}

const fixedRate = (server: Server, path: string, token: string, seconds: number) =>
  withCpu(server.child.pid ?? -1, () => backendPids(DATABASE_URL), () =>
    paced(server.baseUrl, () => ({ method: "GET", path: `${API}${path}`, headers: bearer(token) }), {
      rate: settings.trayRate,
      durationSeconds: seconds,
      maxSockets: settings.pacedMaxSockets,
      drainMillis: settings.pacedDrainMillis
    }))

/** One request at a time: the service time without queueing. */
const sequential = async (server: Server, path: string, token: string, n: number) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const { hostname, port } = new URL(server.baseUrl)
  const lat: Array<number> = []
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now()
      const status = await new Promise<number>((resolve) => {
        const req = http.request({ hostname, port, path: `${API}${path}`, headers: bearer(token), agent }, (res) => {
          res.resume()
          res.on("end", () => resolve(res.statusCode ?? 0))
        })
        req.on("error", () => resolve(0))
        req.end()
      })
      if (status !== 200) throw new ServerError(server, `GET ${path} answered ${status}`)
      lat.push(performance.now() - t)
    }
  } finally {
    agent.destroy()
  }
  const sorted = Float64Array.from(lat).sort()
  return { n, p50Ms: percentile(sorted, 50), p90Ms: percentile(sorted, 90), p99Ms: percentile(sorted, 99) }
}

const fmtLoad = (r: LoadResult) => {
  const bad = failures(r)
  return `${fmtInt(r.reqPerSec)} req/s  p50 ${fmtMs(r.p50Ms)} p90 ${fmtMs(r.p90Ms)} p99 ${fmtMs(r.p99Ms)} max ${fmtMs(r.maxMs)} ms` +
    (bad > 0 ? `  ${bad} FAILED (${JSON.stringify(r.statuses)}, ${r.errors} errors, ${r.unfinished ?? 0} unanswered)` : "")
}

// ---------------------------------------------------------------------------------------------
// Phase 2: raw pipelined SADD, the ceiling

const ceiling = async (redis: Redis, ps: Pairs, order: Uint32Array) => {
  let next = 0
  let added = 0
  const t0 = performance.now()
  await Promise.all(Array.from({ length: settings.ceilingInFlight }, async () => {
    while (next < order.length) {
      const from = next
      next = Math.min(order.length, next + settings.ceilingPipeline)
      const pipeline = redis.pipeline()
      for (let k = from; k < next; k++) {
        const p = order[k]!
        pipeline.sadd(`ceiling:sv:${storyOf(ps, p).id}`, viewerOf(ps, p).id)
      }
      for (const [e, n] of (await pipeline.exec()) ?? []) if (e === null && n === 1) added++
    }
  }))
  const seconds = (performance.now() - t0) / 1000
  // its keys go with the run's prefix at the end; drop them now so Redis holds only the real path's
  const keys = ps.stories.map((s) => `ceiling:sv:${s.id}`)
  for (let at = 0; at < keys.length; at += 500) await redis.del(...keys.slice(at, at + 500))
  return { commands: order.length, distinctAdded: added, seconds, commandsPerSec: order.length / seconds, viewsPerSec: added / seconds }
}

// ---------------------------------------------------------------------------------------------
// Phase 3: StoryViews.record in this process

const ViewsLive = StoryViews.layer.pipe(
  Layer.provideMerge(Layer.mergeAll(StorySets.layer, Bus.layer)),
  Layer.provideMerge(Layer.mergeAll(RedisLive.layer, Nats.layer)),
  Layer.provideMerge(ConfigLive)
)
const makeViewsRuntime = () => ManagedRuntime.make(ViewsLive)
type ViewsRuntime = ReturnType<typeof makeViewsRuntime>

const ingestInProcess = async (runtime: ViewsRuntime, serverPid: number, pool: pg.Pool, ps: Pairs, order: Uint32Array) => {
  const latency = new Float64Array(order.length)
  /** Per pair: 0 not yet submitted, 1 the first submission under way, 2 recorded. */
  const state = new Uint8Array(ps.count)
  let repeatsWhileInFlight = 0
  let repeatsAfter = 0
  let retries = 0
  let failed = 0
  let next = 0
  let ackedAt: number | undefined
  const t0 = performance.now()
  const program = Effect.gen(function*() {
    const views = yield* StoryViews.StoryViews
    const lane = Effect.gen(function*() {
      while (next < order.length) {
        const k = next++
        const p = order[k]!
        const story = storyOf(ps, p)
        if (state[p] === 0) state[p] = 1
        else if (state[p] === 1) repeatsWhileInFlight++
        else repeatsAfter++
        const started = performance.now()
        const outcome = yield* views.record({ storyId: story.id, viewerId: viewerOf(ps, p).id, authorId: story.authorId, seq: story.seq, expiresAt: story.expiresAt }).pipe(
          Effect.tapError(() => Effect.sync(() => retries++)),
          // a 503 to a client is retried by it; here too
          Effect.retry({ times: settings.recordRetries, schedule: Schedule.spaced("50 millis") }),
          Effect.either
        )
        latency[k] = performance.now() - started
        if (outcome._tag === "Left") failed++
        else state[p] = 2
      }
    })
    yield* Effect.all(Array.from({ length: settings.inFlight }, () => lane), { concurrency: "unbounded", discard: true })
  })
  const storyIds = ps.stories.map((s) => s.id)
  const persisted = waitPersisted(pool, storyIds, () => ps.count, () => ackedAt, t0)
  const meter = cpuMeter(serverPid)
  await runtime.runPromise(program)
  ackedAt = performance.now()
  const ackCpu = meter()
  const done = await persisted
  latency.sort()
  return {
    submissions: order.length,
    distinct: ps.count,
    repeatsWhileInFlight,
    repeatsAfter,
    retries,
    failed,
    ackedSeconds: (ackedAt - t0) / 1000,
    acknowledgedPerSec: order.length / ((ackedAt - t0) / 1000),
    persistedSeconds: (done.at - t0) / 1000,
    persistedAfterLastAckMs: done.at - ackedAt,
    viewsPerSec: done.persisted / ((done.at - t0) / 1000),
    timedOut: done.timedOut,
    recordP50Ms: percentile(latency, 50),
    recordP99Ms: percentile(latency, 99),
    recordMaxMs: latency[latency.length - 1]!,
    /** Cores while the submissions were being acknowledged. */
    ackCpu,
    series: done.series
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 4: POST /stories/:id/view

const postView = (agent: http.Agent, server: Server, storyId: string, token: string) =>
  new Promise<number>((resolve) => {
    const req = http.request(
      { host: "127.0.0.1", port: server.port, method: "POST", path: `${API}/stories/${storyId}/view`, headers: { ...bearer(token), "content-length": "0" }, agent, timeout: 30_000 },
      (res) => {
        res.resume()
        res.on("end", () => resolve(res.statusCode ?? 0))
        res.on("error", () => resolve(0))
      }
    )
    req.on("timeout", () => req.destroy(new Error("timeout")))
    req.on("error", () => resolve(0))
    req.end()
  })

const ingestHttp = async (server: Server, pool: pg.Pool, ps: Pairs, order: Uint32Array) => {
  const meter = cpuMeter(server.child.pid ?? -1)
  const agent = new http.Agent({ keepAlive: true, maxSockets: settings.httpLanes })
  const ok = new Uint8Array(ps.count)
  const statuses: Record<string, number> = {}
  const latency: Array<number> = []
  let next = 0
  let ackedAt: number | undefined
  let expected: number | undefined
  const t0 = performance.now()
  const deadline = t0 + settings.httpSeconds * 1000
  const persisted = waitPersisted(pool, ps.stories.map((s) => s.id), () => expected, () => ackedAt, t0)
  try {
    await Promise.all(Array.from({ length: settings.httpLanes }, async () => {
      while (performance.now() < deadline && next < order.length) {
        const p = order[next++]!
        const started = performance.now()
        const status = await postView(agent, server, storyOf(ps, p).id, viewerOf(ps, p).token)
        latency.push(performance.now() - started)
        statuses[status] = (statuses[status] ?? 0) + 1
        if (status === 200) ok[p] = 1
      }
    }))
  } finally {
    agent.destroy()
  }
  ackedAt = performance.now()
  const postCpu = meter()
  expected = ok.reduce((n, b) => n + b, 0)
  const done = await persisted
  const sorted = Float64Array.from(latency).sort()
  return {
    lanes: settings.httpLanes,
    submissions: next,
    distinctAnswered200: expected,
    statuses,
    non200: Object.entries(statuses).reduce((n, [s, c]) => (s === "200" ? n : n + c), 0),
    answeredPerSec: next / ((ackedAt - t0) / 1000),
    persistedSeconds: (done.at - t0) / 1000,
    persistedAfterLastAnswerMs: done.at - ackedAt,
    viewsPerSec: done.persisted / ((done.at - t0) / 1000),
    timedOut: done.timedOut,
    postP50Ms: percentile(sorted, 50),
    postP99Ms: percentile(sorted, 99),
    postMaxMs: sorted[sorted.length - 1] ?? NaN,
    /** Cores while the POSTs were being answered. */
    postCpu,
    ok,
    series: done.series
  }
}

// ---------------------------------------------------------------------------------------------

let server: Server | undefined
let runtime: ViewsRuntime | undefined
let databaseCreated = false

type Cpu = Awaited<ReturnType<typeof withCpu>>["cpu"]
const cpuCells = (c: Cpu) => `${fmtCores(c.server)} / ${fmtCores(c.loadgen)} / ${fmtCores(c.db)} / ${fmtCores(c.other)}`
const ratePhrase = (perSec: number, timedOut: boolean) => timedOut ? `≤ ${fmtInt(perSec)} views/s (INCOMPLETE)` : `${fmtInt(perSec)} views/s`

const main = async () => {
  const startedAt = new Date()
  const has = (phase: string) => settings.phases.includes(phase)
  console.log(
    `Stories benchmark [${settings.phases.join(", ")}]: tray of ${fmtInt(settings.seed.followees)} followed / ${settings.seed.withStories} with stories at ${settings.trayRate} req/s for ${settings.traySeconds} s; ` +
      `${settings.httpSeconds} s of POST /view at ${settings.httpLanes} lanes; ${fmtInt(settings.views)} distinct views ×2 in process (${fmtInt(settings.inFlight)} in flight) ` +
      `(${os.cpus().length} CPUs, node ${process.version}, run ${runId}, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")})`
  )
  databaseCreated = true
  server = await startServer(SERVER_ROOT, serverEnv())
  const serverPid = server.child.pid ?? -1
  log(`server up (pid ${serverPid}), database ${DATABASE_URL}`)
  const data = await Seed.seed(DATABASE_URL, settings.seed)
  log(`seeded in ${data.seedSeconds} s: ${fmtInt(data.rows.users)} users, ${fmtInt(data.rows.follows)} follows, ${fmtInt(data.rows.stories)} stories (${fmtInt(data.rows.liveStories)} live), ${fmtInt(data.viewers.length + 1)} sessions`)

  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 })
  const redis = new Redis(redisUrl, { keyPrefix: prefixes.redis, maxRetriesPerRequest: 1 })
  const nc = await connectNats({ servers: natsUrl, name: `bench-stories-${runId}`, noAsyncTraces: true })
  const rows: Array<Row> = []
  const viewRows: Array<Row> = []
  const httpRows: Array<Row> = []
  const trayRows: Array<Row> = []
  const results: Record<string, unknown> = {}
  const ms = (n: number) => `${fmtMs(n)} ms`
  const cpuWarnings: Array<[string, Cpu]> = []
  try {
    // ---- 1. the tray, and its baseline
    if (has("tray")) {
      const walk = await walkTray(server, data)
      log(`1. tray: ${walk.pages} pages (first ${walk.firstPage} entries), ${walk.authors} authors, ${walk.stories} stories, ${walk.unseenAuthors} with unseen ` +
        `(expected ${data.expected.trayAuthors} / ${data.expected.trayStories} / ${data.expected.unseenAuthors})${walk.ok ? "" : "  MISMATCH"}`)
      const alone = await sequential(server, "/stories/feed", data.tray.token, settings.sequentialRequests)
      log(`   one at a time (${alone.n} requests): p50 ${fmtMs(alone.p50Ms)} p90 ${fmtMs(alone.p90Ms)} p99 ${fmtMs(alone.p99Ms)} ms`)
      await fixedRate(server, "/stories/feed", data.tray.token, settings.trayWarmupSeconds)
      profileWindow(serverPid)
      const tray = await fixedRate(server, "/stories/feed", data.tray.token, settings.traySeconds)
      profileWindow(serverPid)
      assertAlive(server, "the tray phase")
      log(`   GET /stories/feed @ ${settings.trayRate}/s: ${fmtLoad(tray.result)}  ${fmtCpu(tray.cpu)}`)
      await fixedRate(server, "/auth/me", data.tray.token, settings.trayWarmupSeconds)
      const me = await fixedRate(server, "/auth/me", data.tray.token, settings.traySeconds)
      assertAlive(server, "the baseline phase")
      log(`   GET /auth/me      @ ${settings.trayRate}/s: ${fmtLoad(me.result)}  ${fmtCpu(me.cpu)}`)
      cpuWarnings.push(["tray", tray.cpu], ["baseline", me.cpu])
      const trayOk = tray.result.p99Ms < settings.goals.trayP99Ms && failures(tray.result) === 0 && tray.result.reqPerSec >= settings.trayRate * 0.95 && walk.ok
      const unfinished = (r: LoadResult) => ((r.unfinished ?? 0) > 0 ? "≥ " : "")
      trayRows.push(
        { metric: `tray GET /stories/feed @ ${settings.trayRate}/s: p99 (${fmtInt(settings.seed.followees)} followed, ${settings.seed.withStories} with stories)`, value: `${unfinished(tray.result)}${ms(tray.result.p99Ms)}`, goal: `< ${settings.goals.trayP99Ms} ms`, met: trayOk },
        { metric: "  … p50 / p90", value: `${unfinished(tray.result)}${fmtMs(tray.result.p50Ms)} / ${fmtMs(tray.result.p90Ms)} ms`, goal: "—" },
        { metric: "  … answered/s, failed or unanswered", value: `${fmtInt(tray.result.reqPerSec)}, ${fmtInt(failures(tray.result))}`, goal: `${settings.trayRate}, 0`, met: failures(tray.result) === 0 && tray.result.reqPerSec >= settings.trayRate * 0.95 },
        { metric: "  … server CPU per request", value: ms((tray.cpu.server ?? NaN) * 1000 / Math.max(1, tray.result.reqPerSec)), goal: "—" },
        { metric: `  … one request at a time (no queueing): p50 / p99`, value: `${fmtMs(alone.p50Ms)} / ${fmtMs(alone.p99Ms)} ms`, goal: "—" },
        { metric: "  … CPU server / bench / db / other (cores)", value: cpuCells(tray.cpu), goal: "—" },
        { metric: `  … baseline GET /auth/me @ ${settings.trayRate}/s: p50 / p90 / p99`, value: `${fmtMs(me.result.p50Ms)} / ${fmtMs(me.result.p90Ms)} / ${fmtMs(me.result.p99Ms)} ms`, goal: "—" },
        { metric: "  … baseline server CPU per request", value: ms((me.cpu.server ?? NaN) * 1000 / Math.max(1, me.result.reqPerSec)), goal: "—" }
      )
      results["tray"] = { walk, sequential: alone, load: tray.result, cpu: tray.cpu }
      results["baseline"] = { load: me.result, cpu: me.cpu }
    }

    // ---- 2. POST /stories/:id/view (before the in-process phase, which may leave a backlog)
    if (has("http")) {
      const pairsB: Pairs = { stories: data.authors.map((a) => a.second), viewers: data.viewers, count: data.authors.length * data.viewers.length }
      const orderB = submissionOrder(pairsB.count, settings.chunk, 4)
      log(`2. POST /stories/:id/view: ${settings.httpLanes} lanes for ${settings.httpSeconds} s over ${pairsB.stories.length} stories × ${pairsB.viewers.length} viewers, each pair twice`)
      const before = await streamState(nc)
      const dlBefore = await deadLetters(pool)
      profileWindow(serverPid)
      const viaHttp = await withCpu(serverPid, () => backendPids(DATABASE_URL), () => ingestHttp(server!, pool, pairsB, orderB))
      profileWindow(serverPid)
      const after = await streamState(nc)
      const dl = await deadLetters(pool)
      assertAlive(server, "the HTTP ingest")
      const b = viaHttp.result
      const okB = b.ok
      const exact = await checkExact(pool, redis, pairsB, (p) => okB[p] === 1, b.distinctAnswered200)
      const events = after.messages - before.messages
      log(`   ${ratePhrase(b.viewsPerSec, b.timedOut)} persisted (${b.persistedSeconds.toFixed(2)} s), ${fmtInt(b.answeredPerSec)} POST/s answered, ` +
        `p50 ${fmtMs(b.postP50Ms)} p99 ${fmtMs(b.postP99Ms)} ms; statuses ${JSON.stringify(b.statuses)}; while answering: server ${fmtCores(b.postCpu.server)} bench ${fmtCores(b.postCpu.bench)} machine ${fmtCores(b.postCpu.machine)} cores`)
      log(`   ${fmtExact(exact)}; ${fmtInt(events)} events; consumer redeliveries ${fmtInt((after.redelivered ?? 0) - (before.redelivered ?? 0))}, backlog ${after.backlog ?? "n/a"}, dead-lettered views ${fmtInt(dl.views - dlBefore.views)}`)
      log(`   ${fmtCpu(viaHttp.cpu)}`)
      cpuWarnings.push(["HTTP ingest", viaHttp.cpu])
      httpRows.push(
        { metric: `view ingest, POST /stories/:id/view (${b.lanes} lanes, ${settings.httpSeconds} s, ${fmtInt(b.distinctAnswered200)} distinct)`, value: ratePhrase(b.viewsPerSec, b.timedOut), goal: `≥ ${fmtInt(settings.goals.viewsPerSec)}/s`, met: b.viewsPerSec >= settings.goals.viewsPerSec && exactOk(exact) && b.non200 === 0 && !b.timedOut },
        { metric: "  … POST answered/s, p50 / p99", value: `${fmtInt(b.answeredPerSec)}, ${fmtMs(b.postP50Ms)} / ${fmtMs(b.postP99Ms)} ms`, goal: "—" },
        { metric: "  … non-200 answers", value: fmtInt(b.non200), goal: "0", met: b.non200 === 0 },
        { metric: "  … last view in PG after the last answer", value: b.timedOut ? `> ${fmtInt(settings.persistTimeoutMillis)} ms` : ms(b.persistedAfterLastAnswerMs), goal: "—" },
        { metric: "  … rows / missing / extra / counted twice", value: `${fmtInt(exact.rows)} / ${fmtInt(exact.lost)} / ${exact.extra} / ${exact.overcounted}`, goal: "exact, 0", met: exactOk(exact) },
        { metric: "  … CPU while answering: server / bench / machine", value: `${fmtCores(b.postCpu.server)} / ${fmtCores(b.postCpu.bench)} / ${fmtCores(b.postCpu.machine)}`, goal: "—" }
      )
      const { ok: _ok, ...httpJson } = b
      results["http"] = { ...httpJson, cpu: viaHttp.cpu, exact, events, stream: { before, after }, deadLettered: { events: dl.events - dlBefore.events, views: dl.views - dlBefore.views } }
    }

    // ---- 3. and 4. the ceiling, then StoryViews.record in process
    if (has("views")) {
      const viewersA = Math.ceil(settings.views / data.authors.length)
      if (viewersA > data.viewers.length) throw new Error(`BENCH_STORY_VIEWS at most ${data.authors.length * data.viewers.length}`)
      const pairsA: Pairs = { stories: data.authors.map((a) => a.first), viewers: data.viewers.slice(0, viewersA), count: Math.min(settings.views, data.authors.length * viewersA) }
      if (clustered && pairsA.count !== data.authors.length * viewersA) throw new Error("BENCH_STORY_ORDER=clustered needs BENCH_STORY_VIEWS a multiple of the story authors")
      const orderA = submissionOrder(pairsA.count, settings.chunk, 3)
      log(`3. ceiling: ${fmtInt(orderA.length)} SADD (${fmtInt(pairsA.count)} distinct pairs), pipelines of ${settings.ceilingPipeline}, ${settings.ceilingInFlight} in flight`)
      const sadd = await ceiling(redis, pairsA, orderA)
      log(`   ${fmtInt(sadd.commandsPerSec)} SADD/s, ${fmtInt(sadd.viewsPerSec)} distinct views/s, ${fmtInt(sadd.distinctAdded)} added` + (sadd.distinctAdded === pairsA.count ? "" : "  MISMATCH"))

      // the service reads the run's configuration from the environment, as the server does
      Object.assign(process.env, { ...baseServerEnv("uws", DATABASE_URL, prefixes), NATS_URL: natsUrl, REDIS_URL: redisUrl, NODE_ID: `bench-stories-${runId}` })
      runtime = makeViewsRuntime()
      await runtime.runPromise(Effect.void)
      log(`4. StoryViews.record in process: ${fmtInt(orderA.length)} submissions of ${fmtInt(pairsA.count)} pairs (${pairsA.stories.length} stories × ${pairsA.viewers.length} viewers, ${settings.order}), ${fmtInt(settings.inFlight)} in flight`)
      const before = await streamState(nc)
      const dlBefore = await deadLetters(pool)
      profileWindow(serverPid)
      const inproc = await withCpu(serverPid, () => backendPids(DATABASE_URL), () => ingestInProcess(runtime!, serverPid, pool, pairsA, orderA))
      profileWindow(serverPid)
      const after = await streamState(nc)
      const dl = await deadLetters(pool)
      assertAlive(server, "the in-process ingest")
      const a = inproc.result
      const exact = await checkExact(pool, redis, pairsA, () => true, pairsA.count)
      const events = after.messages - before.messages
      const redeliveries = (after.redelivered ?? 0) - (before.redelivered ?? 0)
      log(`   ${ratePhrase(a.viewsPerSec, a.timedOut)} persisted (${a.persistedSeconds.toFixed(2)} s; acknowledged in ${a.ackedSeconds.toFixed(2)} s, ` +
        `${fmtInt(a.acknowledgedPerSec)} submissions/s); record p50 ${fmtMs(a.recordP50Ms)} p99 ${fmtMs(a.recordP99Ms)} ms; ` +
        `repeats joining the first in flight ${fmtInt(a.repeatsWhileInFlight)}, after it ${fmtInt(a.repeatsAfter)}; retries ${a.retries}, failed ${a.failed}`)
      log(`   while acknowledging: server ${fmtCores(a.ackCpu.server)} bench ${fmtCores(a.ackCpu.bench)} machine ${fmtCores(a.ackCpu.machine)} cores`)
      log(`   ${fmtExact(exact)}; ${fmtInt(events)} events (${(pairsA.count / Math.max(1, events)).toFixed(0)} views each); consumer redeliveries ${fmtInt(redeliveries)}, backlog ${after.backlog ?? "n/a"}, dead-lettered views ${fmtInt(dl.views - dlBefore.views)}`)
      log(`   ${fmtCpu(inproc.cpu)}`)
      await runtime.dispose()
      runtime = undefined
      cpuWarnings.push(["in-process ingest", inproc.cpu])
      viewRows.push(
        { metric: `view ingest, StoryViews.record in process (${fmtInt(a.distinct)} distinct ×2)`, value: ratePhrase(a.viewsPerSec, a.timedOut), goal: `≥ ${fmtInt(settings.goals.viewsPerSec)}/s`, met: a.viewsPerSec >= settings.goals.viewsPerSec && exactOk(exact) && !a.timedOut },
        { metric: "  … ceiling: raw pipelined SADD of the same submissions", value: `${fmtInt(sadd.viewsPerSec)} views/s`, goal: "—" },
        { metric: "  … ratio to the ceiling", value: `${((a.viewsPerSec / sadd.viewsPerSec) * 100).toFixed(1)} %`, goal: "—" },
        { metric: "  … submissions acknowledged/s (record resolved)", value: fmtInt(a.acknowledgedPerSec), goal: "—" },
        { metric: "  … record p50 / p99", value: `${fmtMs(a.recordP50Ms)} / ${fmtMs(a.recordP99Ms)} ms`, goal: "—" },
        { metric: "  … last view in PG after the last ack", value: a.timedOut ? `> ${fmtInt(settings.persistTimeoutMillis)} ms` : ms(a.persistedAfterLastAckMs), goal: "—" },
        { metric: "  … rows / missing / extra / counted twice", value: `${fmtInt(exact.rows)} / ${fmtInt(exact.lost)} / ${exact.extra} / ${exact.overcounted}`, goal: "exact, 0", met: exactOk(exact) },
        { metric: "  … missing: dead-lettered / events still unacknowledged", value: `${fmtInt(dl.views - dlBefore.views)} views / ${after.backlog ?? "n/a"} events`, goal: "0 / 0", met: dl.views === dlBefore.views && after.backlog === 0 },
        { metric: "  … stories consumer redeliveries (failed batches)", value: fmtInt(redeliveries), goal: "0", met: redeliveries === 0 },
        { metric: "  … read pointers exact", value: `${fmtInt(exact.pointersExact)} / ${fmtInt(exact.pointersExpected)}`, goal: "all", met: exact.pointersExact === exact.pointersExpected },
        { metric: "  … story.viewed events (views per event)", value: `${fmtInt(events)} (${(a.distinct / Math.max(1, events)).toFixed(0)})`, goal: "—" },
        { metric: "  … CPU while acknowledging: server / bench / machine", value: `${fmtCores(a.ackCpu.server)} / ${fmtCores(a.ackCpu.bench)} / ${fmtCores(a.ackCpu.machine)}`, goal: "—" }
      )
      results["ceiling"] = sadd
      results["inProcess"] = { ...a, cpu: inproc.cpu, exact, events, stream: { before, after }, deadLettered: { events: dl.events - dlBefore.events, views: dl.views - dlBefore.views } }
    }

    rows.push(...viewRows, ...httpRows, ...trayRows)
    printTable(rows)
    console.log(
      "(views/s: distinct (story, viewer) pairs / time from the first submission until the stories' view_count sum in PostgreSQL reached them, " +
        `every pair submitted twice; INCOMPLETE: not all of them within ${settings.persistTimeoutMillis / 1000} s of the last answer. Tray latencies from each request's due time. ` +
        `Everything shares the ${os.cpus().length} cores.)`
    )
    const noisy = cpuWarnings.filter(([, c]) => (c.other ?? 0) > settings.otherCpuWarning).map(([n]) => n)
    if (noisy.length > 0) console.log(`WARNING: other processes used > ${settings.otherCpuWarning} cores during ${noisy.join(", ")}: NATS, Redis, PostgreSQL's background work, or something else on this machine`)
    const warnings = server.stdout.toString().split("\n").filter((l) => /"logLevel":"(WARN|ERROR|FATAL)"/.test(l))
    if (warnings.length > 0) {
      const kinds = new Map<string, number>()
      for (const l of warnings) {
        const m = /"message":"([^"]*)".*?(?:\[cause\]: error: ([^\\]*))?/.exec(l)
        const key = m === null ? l.slice(0, 120) : `${m[1]}${m[2] === undefined ? "" : `: ${m[2]}`}`
        kinds.set(key, (kinds.get(key) ?? 0) + 1)
      }
      console.log(`server warnings in the last ${Math.round(server.stdout.toString().length / 1024)} KB of its log: ${[...kinds].map(([k, n]) => `${n}× ${k}`).join("; ")}`)
    }
    if (process.env["BENCH_STORY_DEBUG"] === "1") console.log(`--- server stderr tail ---\n${server.stderr.toString()}\n--- server stdout tail ---\n${server.stdout.toString()}`)
    writeJson(RESULTS_PATH, {
      date: startedAt.toISOString(),
      machine: machineInfo(),
      settings,
      server: serverSource(),
      seed: { ...data.rows, expected: data.expected, seedSeconds: data.seedSeconds },
      table: rows,
      results
    })
  } finally {
    if (runtime !== undefined) await runtime.dispose().catch(() => undefined)
    runtime = undefined
    await nc.close().catch(() => undefined)
    redis.disconnect()
    await pool.end().catch(() => undefined)
    if (server !== undefined) await stopServer(server)
    server = undefined
    await cleanup()
  }
}

const cleanup = () =>
  removeLeftovers([
    { what: `NATS streams and Redis keys of prefix ${prefixes.nats}`, remove: () => cleanupPrefixes(prefixes) },
    ...(databaseCreated && OWN_DATABASE ? [{ what: `database of ${DATABASE_URL}`, remove: () => dropDatabase(DATABASE_URL) }] : [])
  ])

runBenchmark(main, { stopMessage: "stopping the server", cleanup, cleanupMillis: 10_000 })
