/**
 * Feed benchmark: `GET /api/v1/feed` against a seeded database of 10,000 users with a power-law
 * follow graph, 200,000 published posts and a handful of celebrities, on the full Aperture server
 * (HTTP_TRANSPORT=uws, ROLES=api,actors).
 *
 *   1. Seed `aperture_bench_feed` once (see seed.ts); later runs reuse it when the marker matches.
 *      BENCH_RESEED=1 drops and rebuilds it. The server runs with CELEBRITY_THRESHOLD from the
 *      marker, so the top BENCH_CELEBRITIES accounts are pulled at read time, not pushed.
 *   2. Bearer sessions for BENCH_VIEWERS viewers (written directly). Warm-up: each viewer's first
 *      feed read finds no timeline, is answered from PostgreSQL and asks the timeline actor for a
 *      rebuild; the run waits until every viewer's `tl:<id>` is complete in Redis, then reads each
 *      feed again (filling the card cache and the celebrity lists) and keeps its next-page cursor.
 *   3. Per round: page 1 at maximum (50 connections), page 1 at a fixed 1,000 req/s (open loop,
 *      latency from each request's due time), page 2 (with the cursor) at 1,000 req/s and at
 *      maximum. Viewers are drawn at random for every request.
 *   4. Print medians over rounds against the goals (p99 < 20 ms at 1,000 req/s; ≥ 3,000 req/s),
 *      write bench/feed/results.json, delete sessions, the run's NATS streams and Redis keys.
 *
 * Env: BENCH_DURATION seconds per measurement (10), BENCH_ROUNDS (3), BENCH_VIEWERS (2000),
 * BENCH_LIMIT page size (20), BENCH_RESEED=1, BENCH_DATABASE_URL, BENCH_SERVER_ROOT,
 * BENCH_SERVER_CPU_PROFILE=<dir> (a .cpuprofile of the server; bench/support/profile-top.ts reads it).
 * Run: `npm run bench:feed`.
 */
import { randomBytes } from "node:crypto"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import { Redis } from "ioredis"
import { failures, type LoadResult, type Next, paced, saturate, withCpu } from "../accounts/load.ts"
import { pick, prng } from "../accounts/names.ts"
import { describeLoad, fmtInt, fmtMs, machineInfo, type Measurement, type Medians, mediansOf, printTable, type Row, writeJson } from "../accounts/report.ts"
import { assertAlive, REPO_ROOT, request, type Server, sleep, startServer, stopServer } from "../accounts/server.ts"
import { baseServerEnv, benchDatabaseUrl, cpuProfileEnv, envInt, SERVER_ROOT, UNLIMITED } from "../support/env.ts"
import { cleanupPrefixes, prefixesOf, redisUrl, runBenchmark } from "../support/lifecycle.ts"
import { backendPids, databaseName, dropDatabase, reseedRequested, reuseOrRebuild, type SeedInfo } from "../support/pgdb.ts"
import { createSessions } from "../support/sessions.ts"
import * as Seed from "./seed.ts"

// ---------------------------------------------------------------------------------------------
// Settings

const settings = {
  durationSeconds: envInt("BENCH_DURATION", 10),
  rounds: envInt("BENCH_ROUNDS", 3),
  viewers: envInt("BENCH_VIEWERS", 2_000),
  limit: envInt("BENCH_LIMIT", 20),
  warmupSeconds: 3,
  pauseBetweenMillis: 1_000,
  connections: 50,
  fixedRate: 1_000,
  pacedMaxSockets: 64,
  pacedDrainMillis: 5_000,
  rebuildTimeoutMillis: 120_000,
  goals: { p99Ms: 20, reqPerSec: 3_000 },
  otherCpuWarning: 0.3
} as const

const seedSettings: Seed.SeedSettings = {
  users: envInt("BENCH_USERS", 10_000),
  posts: envInt("BENCH_POSTS", 200_000),
  followDrawsPerUser: 24,
  zipfExponent: 1.1,
  likes: 200_000,
  celebrities: envInt("BENCH_CELEBRITIES", 8)
}

const DATABASE_URL = benchDatabaseUrl("aperture_bench_feed")
const RESULTS_PATH = fileURLToPath(new URL("./results.json", import.meta.url))
const API = "/api/v1"

const prefixes = prefixesOf(`benchfeed${randomBytes(4).toString("hex")}`)
const serverEnvFor = (celebrityThreshold: number): Readonly<Record<string, string>> => ({
  ...baseServerEnv("uws", DATABASE_URL, prefixes),
  ROLES: "api,actors",
  CELEBRITY_THRESHOLD: String(celebrityThreshold),
  RATE_WRITES_PER_MINUTE: UNLIMITED,
  RATE_FOLLOWS_PER_HOUR: UNLIMITED,
  ...cpuProfileEnv()
})

const ensureSeed = async (): Promise<SeedInfo<Seed.Marker>> => {
  if (reseedRequested()) await dropDatabase(DATABASE_URL)
  const existing = await Seed.readMarker(DATABASE_URL)
  return reuseOrRebuild(DATABASE_URL, existing, (m) => Seed.markerMatches(m, seedSettings), async () => {
    console.log(
      `seeding ${databaseName(DATABASE_URL)}: ${fmtInt(seedSettings.users)} users, power-law follows, ` +
        `${fmtInt(seedSettings.posts)} posts (starting the server once to migrate)`
    )
    await stopServer(await startServer(SERVER_ROOT, serverEnvFor(10_000)))
    const marker = await Seed.seed(DATABASE_URL, seedSettings, (line) => console.log(line))
    console.log(`seeded in ${marker.seedSeconds} s\n`)
    return marker
  })
}

// ---------------------------------------------------------------------------------------------
// Fixtures

interface Viewer {
  readonly id: string
  readonly token: string
  /** The second page's cursor, from the warm read. */
  cursor: string | null
}

const random = prng(11)
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

const feedPath = (cursor: string | null) =>
  `${API}/feed?limit=${settings.limit}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`

interface FeedAnswer {
  readonly items: ReadonlyArray<{ readonly id: string }>
  readonly nextCursor: string | null
}

const readFeed = async (server: Server, v: Viewer, cursor: string | null) => {
  const r = await request(`${server.baseUrl}${feedPath(cursor)}`, { headers: bearer(v.token) })
  if (r.status !== 200) throw new Error(`GET /feed as ${v.id} answered ${r.status}: ${r.body.slice(0, 300)}`)
  return JSON.parse(r.body) as FeedAnswer
}

/** Runs `f` over `items`, `concurrency` at a time. */
const forEachLimit = async <A>(items: ReadonlyArray<A>, concurrency: number, f: (a: A) => Promise<void>) => {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await f(items[next++]!)
  }))
}

/**
 * First reads (answered from PostgreSQL, each asking for a rebuild), then wait for every timeline
 * to be complete in Redis, then read again: cards and celebrity lists cached, cursors kept.
 */
const warmTimelines = async (server: Server, viewers: ReadonlyArray<Viewer>) => {
  const t0 = performance.now()
  await forEachLimit(viewers, 16, async (v) => void (await readFeed(server, v, null)))
  const redis = new Redis(redisUrl, { keyPrefix: prefixes.redis })
  try {
    for (;;) {
      const pipeline = redis.pipeline()
      for (const v of viewers) pipeline.zscore(`tl:${v.id}`, "~")
      const results = (await pipeline.exec()) ?? []
      const missing = results.filter(([, score]) => score === null).length
      if (missing === 0) break
      if (performance.now() - t0 > settings.rebuildTimeoutMillis) throw new Error(`${missing} timelines still not rebuilt`)
      await sleep(250)
    }
  } finally {
    redis.disconnect()
  }
  const rebuiltMs = performance.now() - t0
  let items = 0
  let withNext = 0
  await forEachLimit(viewers, 16, async (v) => {
    const page = await readFeed(server, v, null)
    items += page.items.length
    v.cursor = page.nextCursor
    if (page.nextCursor !== null) {
      withNext++
      await readFeed(server, v, page.nextCursor) // the second page's cards too
    }
  })
  return { rebuiltMs, meanItems: items / viewers.length, withNext }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

type ScenarioId = "page1Max" | "page1Fixed" | "page2Fixed" | "page2Max"

const page1 = (viewers: ReadonlyArray<Viewer>) => (): Next => {
  const v = pick(random, viewers)
  return { method: "GET", path: feedPath(null), headers: bearer(v.token) }
}
const page2 = (viewers: ReadonlyArray<Viewer>) => (): Next => {
  const v = pick(random, viewers)
  return { method: "GET", path: feedPath(v.cursor), headers: bearer(v.token) }
}

interface Scenario {
  readonly id: ScenarioId
  readonly label: string
  readonly run: (server: Server, durationSeconds: number) => Promise<LoadResult>
}

const scenarios = (all: ReadonlyArray<Viewer>): ReadonlyArray<Scenario> => {
  const paged = all.filter((v) => v.cursor !== null)
  const closed = (next: () => Next) => (server: Server, durationSeconds: number) =>
    saturate(server.baseUrl, next, { connections: settings.connections, durationSeconds })
  const open = (next: () => Next) => (server: Server, durationSeconds: number) =>
    paced(server.baseUrl, next, {
      rate: settings.fixedRate,
      durationSeconds,
      maxSockets: settings.pacedMaxSockets,
      drainMillis: settings.pacedDrainMillis
    })
  return [
    { id: "page1Max", label: `page 1, ${settings.connections} conns`, run: closed(page1(all)) },
    { id: "page1Fixed", label: `page 1 @ ${fmtInt(settings.fixedRate)}/s`, run: open(page1(all)) },
    { id: "page2Fixed", label: `page 2 @ ${fmtInt(settings.fixedRate)}/s`, run: open(page2(paged)) },
    { id: "page2Max", label: `page 2, ${settings.connections} conns`, run: closed(page2(paged)) }
  ]
}

// ---------------------------------------------------------------------------------------------
// Summary

const tableRows = (m: Record<ScenarioId, Medians>): ReadonlyArray<Row> => {
  const { goals, connections, fixedRate } = settings
  const atLeast = (x: Medians, ms: number) => `${x.unfinished > 0 ? "≥ " : ""}${fmtMs(ms)} ms`
  const fixedOk = (x: Medians) => x.p99Ms < goals.p99Ms && x.failures === 0 && x.reqPerSec >= fixedRate * 0.95
  return [
    { metric: `page 1 max (${connections} conns)`, value: `${fmtInt(m.page1Max.reqPerSec)} req/s`, goal: `≥ ${fmtInt(goals.reqPerSec)} req/s`, met: m.page1Max.reqPerSec >= goals.reqPerSec && m.page1Max.failures === 0 },
    { metric: "  … latency p50 / p99 at max", value: `${fmtMs(m.page1Max.p50Ms)} / ${fmtMs(m.page1Max.p99Ms)} ms`, goal: "—" },
    { metric: `page 1 @ ${fmtInt(fixedRate)} req/s: answered`, value: `${fmtInt(m.page1Fixed.reqPerSec)} req/s`, goal: "—" },
    { metric: `page 1 @ ${fmtInt(fixedRate)} req/s: p50`, value: atLeast(m.page1Fixed, m.page1Fixed.p50Ms), goal: "—" },
    { metric: `page 1 @ ${fmtInt(fixedRate)} req/s: p99`, value: atLeast(m.page1Fixed, m.page1Fixed.p99Ms), goal: `< ${goals.p99Ms} ms`, met: fixedOk(m.page1Fixed) },
    { metric: `page 2 (cursor) @ ${fmtInt(fixedRate)} req/s: p50`, value: atLeast(m.page2Fixed, m.page2Fixed.p50Ms), goal: "—" },
    { metric: `page 2 (cursor) @ ${fmtInt(fixedRate)} req/s: p99`, value: atLeast(m.page2Fixed, m.page2Fixed.p99Ms), goal: `< ${goals.p99Ms} ms`, met: fixedOk(m.page2Fixed) },
    { metric: `page 2 (cursor) max (${connections} conns)`, value: `${fmtInt(m.page2Max.reqPerSec)} req/s`, goal: `≥ ${fmtInt(goals.reqPerSec)} req/s`, met: m.page2Max.reqPerSec >= goals.reqPerSec && m.page2Max.failures === 0 },
    { metric: "  … latency p50 / p99 at max", value: `${fmtMs(m.page2Max.p50Ms)} / ${fmtMs(m.page2Max.p99Ms)} ms`, goal: "—" }
  ]
}

const main = async () => {
  const startedAt = new Date()
  console.log(
    `Feed benchmark: ${settings.durationSeconds} s × ${settings.rounds} rounds per measurement, ${fmtInt(settings.viewers)} viewers, ` +
      `limit ${settings.limit} (${os.cpus().length} CPUs, node ${process.version}, prefix ${prefixes.nats})` +
      (SERVER_ROOT === REPO_ROOT ? "" : `\nserver from ${SERVER_ROOT}`)
  )
  try {
    const seedInfo = await ensureSeed()
    const { marker } = seedInfo
    console.log(
      `${seedInfo.reused ? `reusing the seed of ${marker.seededAt}` : "seed"}: ${fmtInt(marker.users)} users, ${fmtInt(marker.edges)} follow edges, ` +
        `${fmtInt(marker.posts)} posts; CELEBRITY_THRESHOLD=${marker.celebrityThreshold} → ${marker.celebrityFollowers.length} celebrities ` +
        `(${marker.celebrityFollowers.map(fmtInt).join(", ")} followers)`
    )
    await Seed.restore(DATABASE_URL)
    const ids = await Seed.viewers(DATABASE_URL, settings.viewers)
    const tokens = await createSessions(DATABASE_URL, ids, "bench/feed")
    const viewers: Array<Viewer> = ids.map((id, i) => ({ id, token: tokens[i]!, cursor: null }))
    const server = await startServer(SERVER_ROOT, serverEnvFor(marker.celebrityThreshold))
    const results = {} as Record<ScenarioId, Array<Measurement>>
    let warm: Awaited<ReturnType<typeof warmTimelines>>
    let list: ReadonlyArray<Scenario>
    try {
      warm = await warmTimelines(server, viewers)
      console.log(
        `warmed ${fmtInt(viewers.length)} timelines in ${(warm.rebuiltMs / 1000).toFixed(1)} s (rebuilt from PostgreSQL by their actors); ` +
          `${warm.meanItems.toFixed(1)} items per first page, ${fmtInt(warm.withNext)} viewers with a second page`
      )
      list = scenarios(viewers)
      for (const s of list) {
        results[s.id] = []
        await s.run(server, settings.warmupSeconds)
      }
      assertAlive(server, "the warm-up")
      for (let round = 1; round <= settings.rounds; round++) {
        for (const s of list) {
          const { result, cpu } = await withCpu(server.child.pid ?? -1, () => backendPids(DATABASE_URL), () => s.run(server, settings.durationSeconds))
          assertAlive(server, s.label)
          results[s.id].push({ round, result, cpu })
          const at = new Date().toISOString().slice(11, 19)
          console.log(`${at} [round ${round}/${settings.rounds}] ${s.label.padEnd(22)} ${describeLoad(result, cpu, settings.otherCpuWarning)}`)
          await sleep(settings.pauseBetweenMillis)
        }
      }
    } finally {
      await stopServer(server)
      await Seed.restore(DATABASE_URL).catch(() => undefined)
    }
    const medians = Object.fromEntries(list.map((s) => [s.id, mediansOf(results[s.id], failures)])) as Record<ScenarioId, Medians>
    const rows = tableRows(medians)
    printTable(rows)
    const busy = list.flatMap((s) => results[s.id].filter((m) => (m.cpu.other ?? 0) > settings.otherCpuWarning).map((m) => `${s.label} (round ${m.round})`))
    if (busy.length > 0) console.log(`WARNING: other processes used > ${settings.otherCpuWarning} cores during ${busy.join(", ")}; rerun on a quiet machine`)
    console.log("(medians over rounds; fixed-rate latencies are measured from each request's due time)")
    writeJson(RESULTS_PATH, {
      date: startedAt.toISOString(),
      machine: machineInfo(),
      settings: { ...settings, seed: seedSettings, transport: "uws" },
      seed: { ...marker, reused: seedInfo.reused },
      warm,
      table: rows,
      medians,
      scenarios: Object.fromEntries(list.map((s) => [s.id, { label: s.label, rounds: results[s.id] }]))
    })
  } finally {
    await cleanupPrefixes(prefixes)
  }
}

runBenchmark(main, { stopMessage: "stopping the server", cleanup: () => cleanupPrefixes(prefixes) })
